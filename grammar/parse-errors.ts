// Chevrotain's error wording replaced so parse errors read like checker errors: one lowercase sentence,
// names in backticks, and a hint (after HINT_SEP) where a likely fix is known, e.g. a misspelt keyword.
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain'
import { EOF, tokenLabel, tokenMatcher } from './chevrotain.js'
import { closest } from './suggest.js'
import { declRule, declStmtRule } from './syntax.js'
import * as T from './tokens.js'
import type { DeclarationTokens } from './parser.js'

/** Separates the message from its hint inside a Chevrotain error string. */
export const HINT_SEP = '\u0001'

const describe = (t: IToken | undefined): string => {
  if (t === undefined || t.tokenType === EOF) return 'end of file'
  if (t.tokenType === T.Newline) return 'end of line'
  if (t.tokenType === T.UnterminatedString) return 'an unterminated string'
  return '`' + t.image + '`'
}

const labelOf = (t: TokenType): string => (t === EOF ? 'end of file' : tokenLabel(t))

function listOf(types: TokenType[]): string {
  const labels = [...new Set(types.map(labelOf))]
  if (labels.length <= 1) return labels[0] ?? 'something else'
  if (labels.length > 10) return labels.slice(0, 10).join(', ') + ', …'
  return labels.slice(0, -1).join(', ') + ' or ' + labels[labels.length - 1]
}

/** A keyword token: the core's or one made for a policy's syntax (a name-shaped token that is also a Word). */
const isKeyword = (t: TokenType): boolean => t !== T.Identifier && t !== T.Word && (t.CATEGORIES ?? []).includes(T.Word)

/** If the unexpected word looks like one of the keywords that could stand here, say which. */
function keywordHint(actual: IToken | undefined, expected: TokenType[]): string {
  if (actual === undefined || actual.tokenType !== T.Identifier) return ''
  const words = expected.filter(isKeyword).map(t => String(t.PATTERN).slice(1, -1))
  const best = closest(actual.image, words)
  return best === undefined ? '' : `${HINT_SEP}did you mean \`${best}\`?`
}

/** Duration units in ms, as the checker reads them (compiler/values.ts). */
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
/** Unit words people write after a number, and the unit the language spells them with. */
const UNIT_WORDS: [RegExp, string][] = [
  [/^(ms|msecs?|millis|milliseconds?)$/i, 'ms'], [/^(s|secs?|seconds?)$/i, 's'], [/^(m|mins?|minutes?)$/i, 'm'],
  [/^(h|hrs?|hours?)$/i, 'h'], [/^(b|bytes?)$/i, 'B'], [/^(kb|kib)$/i, 'KB'], [/^(mb|mib)$/i, 'MB'], [/^(gb|gib)$/i, 'GB'],
  [/^(percent|pct)$/i, '%'],
]
const QTY = /^(\d+(?:\.\d+)?)([A-Za-z%]*)$/

/** `1h30m` → `90m`: the largest unit that states the total exactly. */
function oneUnit(ms: number): string {
  for (const [u, f] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % f === 0) return `${ms / f}${u}`
  return `${ms}ms`
}

/** A quantity written the way the language does not read it, with the fix. */
export interface QuantityMistake { message: string; hint: string; /** The quantity as meant (`5m` for `5 minutes`), when it has one. */ fixed?: string }

/**
 * A statement that ends early after a number because of how a quantity was written: two durations run
 * together (`1h30m`: one unit only) or a unit spelt as a separate word (`5 minutes`: `5m`).
 */
export function quantityMistake(previous: IToken | undefined, next: IToken | undefined): QuantityMistake | undefined {
  if (next === undefined || previous === undefined || previous.tokenType !== T.Quantity) return undefined
  const a = QTY.exec(previous.image)
  if (a === null) return undefined
  const adjacent = previous.endOffset !== undefined && previous.endOffset + 1 === next.startOffset
  if (adjacent && next.tokenType === T.Quantity) {
    const b = QTY.exec(next.image)
    const ua = DURATION_MS[a[2]], ub = b === null ? undefined : DURATION_MS[b[2]]
    if (b === null || ua === undefined || ub === undefined) return undefined
    // no `fixed`: the first part stays what the AST holds (the total may be out of range, e.g. 90m > 1h)
    const total = oneUnit(Number(a[1]) * ua + Number(b[1]) * ub)
    return { message: `\`${previous.image}${next.image}\` is not a duration: a duration has one unit`, hint: `write \`${total}\`` }
  }
  if (a[2] === '' && tokenMatcher(next, T.Word)) {
    const unit = UNIT_WORDS.find(([re]) => re.test(next.image))?.[1]
    if (unit === undefined) return undefined
    return { message: `\`${previous.image} ${next.image}\` is not a quantity: the unit follows the number without a space`, hint: `write \`${a[1]}${unit}\``, fixed: `${a[1]}${unit}` }
  }
  return undefined
}

const firstTokens = (paths: TokenType[][]): TokenType[] => paths.map(p => p[0]).filter((t): t is TokenType => t !== undefined)

const UPSTREAM_STMTS = [T.Replicas, T.Balance, T.Health, T.Pool, T.Bulkhead, T.Breaker]

/**
 * Chevrotain's messages in our words. `policyStmts`: the leading keywords of the policy stages (from the
 * registry's syntax declarations), offered with the core's route statements for "did you mean".
 */
export function createErrorMessageProvider(policyStmts: readonly TokenType[], declarations: readonly DeclarationTokens[] = []): IParserErrorMessageProvider {
  /** Statement keywords each kind of block accepts, for "did you mean" on an unknown statement. */
  const ROUTE_STMTS = [T.Match, ...policyStmts, T.Timeout, T.MaxBody, T.Retry, T.Upgrade, T.Respond, T.Proxy, T.Use]
  const BLOCK_STMTS: Record<string, [string, TokenType[]]> = {
    upstreamDecl: ['an upstream statement', UPSTREAM_STMTS],
    // a policy's declaration (`jwt NAME { … }`): its statements' keywords
    ...Object.fromEntries(declarations.map(d => [declRule(d.keyword), [`a ${d.keyword} statement`, d.statements]])),
    routeBody: ['a route statement', ROUTE_STMTS],
    defaultsDecl: ['a defaults statement', [T.Timeout, T.MaxBody, T.Retry, ...UPSTREAM_STMTS]],
  }
  /** What one statement of each block is called, by the rule that reads one. */
  const STMT_RULES: Record<string, string> = {
    routeStmt: 'a route statement', upstreamStmt: 'an upstream statement',
    ...Object.fromEntries(declarations.map(d => [declStmtRule(d.keyword), `a ${d.keyword} statement`])),
  }
  /** The top-level declarations, in the order the file rule offers them. */
  const TOP = [T.Include, T.Upstream, ...declarations.map(d => d.lead), T.Policy, T.Defaults, T.Route]
  const DECLS = [T.Upstream, ...declarations.map(d => d.lead), T.Policy, T.Defaults, T.Route].map(t => '`' + String(t.PATTERN).slice(1, -1) + '`').join(', ') + ' or `include`'
  return {
    buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
      if (expected === T.RBrace && actual.tokenType === EOF) return `this block is not closed${HINT_SEP}add \`}\` after its last statement`
      const block = BLOCK_STMTS[ruleName]
      if (expected === T.RBrace && block !== undefined && actual.tokenType !== T.Newline) {
        return `expected ${block[0]}, found ${describe(actual)}` + (keywordHint(actual, block[1]) || `${HINT_SEP}expected one of ${listOf(block[1])}`)
      }
      if (expected === EOF) {
        if (actual.tokenType === T.RBrace) return `unexpected \`}\` with no block open${HINT_SEP}remove it, or check the braces above`
        return `expected ${DECLS}, found ${describe(actual)}` + (keywordHint(actual, TOP) || `${HINT_SEP}every top-level statement is a declaration`)
      }
      if (expected === T.LBrace) return `expected \`{\` after \`${previous.image}\`, found ${describe(actual)}`
      if (expected === T.Quantity && tokenMatcher(actual, T.AnyString)) return `expected a number, found a string${HINT_SEP}remove the quotes`
      return `expected ${labelOf(expected)}, found ${describe(actual)}` + keywordHint(actual, [expected])
    },
    buildNotAllInputParsedMessage({ firstRedundant }) {
      const hint = keywordHint(firstRedundant, TOP)
      if (firstRedundant.tokenType === T.RBrace) return `unexpected \`}\` with no block open${HINT_SEP}remove it, or check the braces above`
      return `expected ${DECLS}, found ${describe(firstRedundant)}` + (hint || `${HINT_SEP}every top-level statement is a declaration`)
    },
    buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
      const first = actual[0]
      const expected = firstTokens(expectedPathsPerAlt.flat())
      if (ruleName === 'end') {
        const q = quantityMistake(previous, first)
        if (q !== undefined) return q.message + HINT_SEP + q.hint
        return (`expected end of line after \`${previous.image}\`, found ${describe(first)}` +
          `${HINT_SEP}write one statement per line, or separate statements with \`;\``)
      }
      const what = Object.hasOwn(STMT_RULES, ruleName) ? STMT_RULES[ruleName] : undefined
      if (what !== undefined) {
        return `expected ${what}, found ${describe(first)}` + (keywordHint(first, expected) || `${HINT_SEP}expected one of ${listOf(expected)}`)
      }
      return `expected ${listOf(expected)}, found ${describe(first)}` + keywordHint(first, expected)
    },
    buildEarlyExitMessage({ expectedIterationPaths, actual, previous }) {
      const expected = firstTokens(expectedIterationPaths)
      return `expected ${listOf(expected)} after \`${previous.image}\`, found ${describe(actual[0])}` + keywordHint(actual[0], expected)
    },
  }
}
