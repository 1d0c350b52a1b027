// Chevrotain's error wording replaced so parse errors read like checker errors: one lowercase sentence,
// names in backticks, and a hint (after HINT_SEP) where a likely fix is known, e.g. a misspelt keyword.
import { EOF, tokenLabel, tokenMatcher, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain'
import { closest } from './suggest.js'
import * as T from './tokens.js'

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

/** If the unexpected word looks like one of the keywords that could stand here, say which. */
function keywordHint(actual: IToken | undefined, expected: TokenType[]): string {
  if (actual === undefined || actual.tokenType !== T.Identifier) return ''
  const words = expected.filter(t => T.KEYWORDS.includes(t)).map(t => String(t.PATTERN).slice(1, -1))
  const best = closest(actual.image, words)
  return best === undefined ? '' : `${HINT_SEP}did you mean \`${best}\`?`
}

const firstTokens = (paths: TokenType[][]): TokenType[] => paths.map(p => p[0]).filter((t): t is TokenType => t !== undefined)

const DECLS = '`upstream`, `jwt`, `policy`, `defaults`, `route` or `include`'

/** Statement keywords each kind of block accepts, for "did you mean" on an unknown statement. */
const ROUTE_STMTS = [T.Match, T.Auth, T.Ratelimit, T.Timeout, T.MaxBody, T.Retry, T.Headers, T.Respond, T.Proxy, T.Use]
const UPSTREAM_STMTS = [T.Replicas, T.Balance, T.Health, T.Pool, T.Bulkhead, T.Breaker]
const BLOCK_STMTS: Record<string, [string, TokenType[]]> = {
  upstreamDecl: ['an upstream statement', UPSTREAM_STMTS],
  jwtDecl: ['a jwt statement', [T.Issuer, T.Jwks, T.Algorithms, T.Audience, T.Leeway, T.Cache, T.Forward]],
  routeBody: ['a route statement', ROUTE_STMTS],
  defaultsDecl: ['a defaults statement', [T.Timeout, T.MaxBody, T.Retry, ...UPSTREAM_STMTS]],
}

export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    if (expected === T.RBrace && actual.tokenType === EOF) return `this block is not closed${HINT_SEP}add \`}\` after its last statement`
    const block = BLOCK_STMTS[ruleName]
    if (expected === T.RBrace && block !== undefined && actual.tokenType !== T.Newline) {
      return `expected ${block[0]}, found ${describe(actual)}` + (keywordHint(actual, block[1]) || `${HINT_SEP}expected one of ${listOf(block[1])}`)
    }
    if (expected === EOF) {
      if (actual.tokenType === T.RBrace) return `unexpected \`}\` with no block open${HINT_SEP}remove it, or check the braces above`
      return `expected ${DECLS}, found ${describe(actual)}` + (keywordHint(actual, [T.Include, T.Upstream, T.Jwt, T.Policy, T.Defaults, T.Route]) || `${HINT_SEP}every top-level statement is a declaration`)
    }
    if (expected === T.LBrace) return `expected \`{\` after \`${previous.image}\`, found ${describe(actual)}`
    if (expected === T.Quantity && tokenMatcher(actual, T.AnyString)) return `expected a number, found a string${HINT_SEP}remove the quotes`
    return `expected ${labelOf(expected)}, found ${describe(actual)}` + keywordHint(actual, [expected])
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    const hint = keywordHint(firstRedundant, [T.Include, T.Upstream, T.Jwt, T.Policy, T.Defaults, T.Route])
    if (firstRedundant.tokenType === T.RBrace) return `unexpected \`}\` with no block open${HINT_SEP}remove it, or check the braces above`
    return `expected ${DECLS}, found ${describe(firstRedundant)}` + (hint || `${HINT_SEP}every top-level statement is a declaration`)
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
    const first = actual[0]
    const expected = firstTokens(expectedPathsPerAlt.flat())
    if (ruleName === 'end') {
      return `expected end of line after \`${previous.image}\`, found ${describe(first)}` +
        `${HINT_SEP}write one statement per line, or separate statements with \`;\``
    }
    if (ruleName === 'routeStmt' || ruleName === 'upstreamStmt' || ruleName === 'jwtStmt') {
      const what = ruleName === 'routeStmt' ? 'a route statement' : ruleName === 'upstreamStmt' ? 'an upstream statement' : 'a jwt statement'
      return `expected ${what}, found ${describe(first)}` + (keywordHint(first, expected) || `${HINT_SEP}expected one of ${listOf(expected)}`)
    }
    return `expected ${listOf(expected)}, found ${describe(first)}` + keywordHint(first, expected)
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, previous }) {
    const expected = firstTokens(expectedIterationPaths)
    return `expected ${listOf(expected)} after \`${previous.image}\`, found ${describe(actual[0])}` + keywordHint(actual[0], expected)
  },
}
