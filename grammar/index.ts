// The grammar's public face: text in, AST and diagnostics out. No I/O. A Grammar is built from the policy
// kinds' syntax declarations (the compiler passes its registry's: compiler/parse.ts), so grammar/ never imports
// policies/ and the dependency stays compiler → grammar.
import type { IToken, Lexer, TokenType } from 'chevrotain'
import type { FileAst, Span } from './ast.js'
import { AstBuilder } from './build-ast.js'
import { Diagnostics } from './diagnostic.js'
import { HINT_SEP, quantityMistake } from './parse-errors.js'
import { GwpParser, keywordTokens, stmtRule, type ParseOutput } from './parser.js'
import { lexHintsOf, type DeclarationSyntax, type LexHint, type StatementSyntax } from './syntax.js'
import { createLexer, tokensWith } from './tokens.js'

export type { Diagnostic, Severity } from './diagnostic.js'
export { Diagnostics } from './diagnostic.js'
export { CODES, isDiagnosticCode, type DiagnosticCode, type ErrorCode, type WarningCode } from './diagnostic-codes.js'
export * as ast from './ast.js'
export { closest, editDistance } from './suggest.js'
export type { DeclarationSyntax, LexHint, StatementSyntax } from './syntax.js'

/** The span of end of file: just past the last character. */
function eofSpan(file: string, text: string): Span {
  const lines = text.split('\n')
  const last = lines.length > 1 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length
  return { file, line: last, col: (lines[last - 1] ?? '').length + 1, len: 1, offset: text.length }
}

/**
 * What to do about characters no token starts with, read in their context: a policy statement's own hint (its
 * syntax declaration's `lexHints`: `->` in a `forward` line, `/` in a rate), or the generic advice. `known` says
 * the hint names the fix, so a parse error on the token right after the characters is only a consequence of them
 * and is not reported as well.
 */
function lexHint(bad: string, text: string, offset: number, hints: readonly LexHint[]): { hint: string; known: boolean } {
  const ch = bad[0] ?? ''
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  const before = text.slice(lineStart, offset)
  const after = text.slice(offset + bad.length)
  for (const h of hints) {
    const hint = h(bad, before, after)
    if (hint !== undefined) return { hint, known: true }
  }
  if (ch === "'") return { hint: 'strings use double quotes: `"…"`', known: false }
  if (ch === '.' || ch === '/' || ch === '*') return { hint: 'hosts, paths and URLs are strings: put them in double quotes', known: false }
  if (ch === ':') return { hint: 'a replica address is `host:port` with no spaces, e.g. `10.0.1.10:8080`', known: false }
  return { hint: 'remove it, or put it inside a string', known: false }
}

/** The token names of the core's top-level keywords; a Grammar adds its policies' declarations' to them. */
const CORE_DECL_KEYWORDS = ['Include', 'Upstream', 'Policy', 'Defaults', 'Route']

/** A top-level block: its header (`route r3`), where it starts, and the offsets its braces span. */
interface Block { header: string; span: Span; open: number; close: number }

/** The file's top-level blocks in order (blocks do not nest in .gwp; an unclosed one runs to the next `}`). */
function blocksOf(tokens: IToken[], file: string, DECL_KEYWORDS: ReadonlySet<string>): Block[] {
  const out: Block[] = []
  let cur: Block | undefined
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]
    if (t.tokenType.name === 'RBrace') { if (cur) { cur.close = t.startOffset; cur = undefined } continue }
    if (t.tokenType.name !== 'LBrace' || cur !== undefined) continue
    let k = i - 1
    while (k >= 0 && i - k <= 2 && !DECL_KEYWORDS.has(tokens[k].tokenType.name)) k--
    const kw = k >= 0 && DECL_KEYWORDS.has(tokens[k].tokenType.name) ? tokens[k] : t
    const header = tokens.slice(kw === t ? i : k, i).map(x => x.image).join(' ') || '{'
    cur = { header, open: t.startOffset, close: Infinity, span: { file, line: kw.startLine ?? 1, col: kw.startColumn ?? 1, len: (t.endOffset ?? t.startOffset) + 1 - kw.startOffset, offset: kw.startOffset } }
    out.push(cur)
  }
  return out
}

/** The block open at `offset`, or undefined at the top level (binary search: blocks are disjoint and in order). */
function openBlockAt(blocks: Block[], offset: number): Block | undefined {
  let lo = 0, hi = blocks.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const b = blocks[mid]
    if (offset <= b.open) hi = mid - 1
    else if (offset > b.close) lo = mid + 1
    else return offset < b.close ? b : undefined
  }
  return undefined
}

/**
 * The .gwp grammar for a set of policy statements: the lexicon with their keywords, one parser with a rule per
 * statement, and the AST builder that reads them back. Expensive to build (Chevrotain's self-analysis), cheap to
 * reuse: build one per process and parse every file with it.
 */
export class Grammar {
  private readonly lexer: Lexer
  private readonly parser: GwpParser
  readonly byRule: Map<string, StatementSyntax>
  /** Token names of the top-level keywords (the core's and the declarations'), for unclosed-block messages. */
  readonly declKeywords: ReadonlySet<string>
  /** The lexicon, policy keywords included (the YAML front end asks it what a bare name is). */
  readonly tokens: TokenType[]
  /** The policy statements' hints for characters no token starts with. */
  readonly lexHints: readonly LexHint[]

  constructor(readonly syntaxes: readonly StatementSyntax[], readonly declarations: readonly DeclarationSyntax[] = []) {
    const kw = keywordTokens(syntaxes, declarations)
    this.tokens = tokensWith([...kw.values()])
    this.lexer = createLexer(this.tokens)
    this.parser = new GwpParser(syntaxes, this.tokens, kw, declarations)
    this.byRule = new Map(syntaxes.map(s => [stmtRule(s.keyword), s]))
    this.declKeywords = new Set([...CORE_DECL_KEYWORDS, ...declarations.map(d => kw.get(d.keyword)!.name)])
    this.lexHints = lexHintsOf(syntaxes, declarations)
  }

  /** Lex and parse one file's text. Never throws on bad input: errors are returned with positions. */
  parseText(text: string): ParseOutput {
    const lexed = this.lexer.tokenize(text)
    this.parser.input = lexed.tokens
    const cst = this.parser.file()
    return {
      cst,
      lexErrors: lexed.errors.map(e => ({ offset: e.offset, line: e.line ?? 1, column: e.column ?? 1, length: e.length, message: e.message })),
      parseErrors: this.parser.errors.map(e => ({ message: e.message, token: e.token, previousToken: (e as { previousToken?: IToken }).previousToken })),
      comments: lexed.groups.comments ?? [],
      tokens: lexed.tokens,
    }
  }

  /**
   * Parse one .gwp file. Syntax errors are recovered from, so one call reports all of them; the AST holds
   * every declaration and statement that could be read.
   */
  parseFile(text: string, file: string, diags: Diagnostics = new Diagnostics()): { ast: FileAst; diagnostics: Diagnostics } {
    return parseWith(this.parseText(text), text, file, diags, this)
  }
}

function parseWith(out: ParseOutput, text: string, file: string, diags: Diagnostics, g: { byRule: Map<string, StatementSyntax>; declKeywords: ReadonlySet<string>; declarations: readonly DeclarationSyntax[]; lexHints: readonly LexHint[] }): { ast: FileAst; diagnostics: Diagnostics } {
  const DECL_KEYWORDS = g.declKeywords
  /** Offsets of tokens whose parse error only follows from a lexer error already reported with its fix. */
  const consequences = new Set<number>()
  for (const e of out.lexErrors) {
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length))
    const { hint, known } = lexHint(ch, text, e.offset, g.lexHints)
    if (known) consequences.add(e.offset + ch.length + (/^[ \t]*/.exec(text.slice(e.offset + ch.length))?.[0].length ?? 0))
    diags.error('E0001', { file, line: e.line, col: e.column, len: Math.max(1, e.length), offset: e.offset },
      `unexpected character${ch.length > 1 ? 's' : ''} \`${ch.replace(/`/g, "'")}\``, { hint })
  }
  const fixes = new Map<number, string>()
  let blocks: Block[] | undefined
  for (const e of out.parseErrors) {
    const [message, hint] = e.message.split(HINT_SEP)
    const t = e.token
    if (consequences.has(t.startOffset)) continue
    let span: Span = Number.isFinite(t.startOffset) && t.tokenType.name !== 'EOF'
      ? { file, line: t.startLine ?? 1, col: t.startColumn ?? 1, len: t.tokenType.name === 'Newline' ? 1 : Math.max(1, t.image.length), offset: t.startOffset }
      : eofSpan(file, text)
    // `1h30m`, `5 minutes`: the caret covers the whole quantity, and the AST reads what was meant
    const q = quantityMistake(e.previousToken, t)
    const p = e.previousToken
    if (q !== undefined && p !== undefined && p.startLine === t.startLine) {
      span = { file, line: p.startLine ?? 1, col: p.startColumn ?? 1, len: (t.endOffset ?? t.startOffset) + 1 - p.startOffset, offset: p.startOffset }
      if (q.fixed !== undefined) fixes.set(p.startOffset, q.fixed)
    }
    // a block left open: name it and point at where it starts, not only at what came next
    const declNext = DECL_KEYWORDS.has(t.tokenType.name) && t.startColumn === 1
    if (declNext || message === 'this block is not closed') {
      blocks ??= blocksOf(out.tokens, file, DECL_KEYWORDS)
      const open = openBlockAt(blocks, Number.isFinite(t.startOffset) ? t.startOffset : text.length)
      if (open !== undefined) {
        const notes = open.span.line === span.line ? [] : [{ message: 'the block opened here', span: open.span }]
        if (declNext) diags.error('E0002', span, `\`${open.header}\` is not closed before \`${t.image}\``, { hint: `add \`}\` after the last statement of \`${open.header}\``, notes })
        else diags.error('E0002', span, `\`${open.header}\` is not closed`, { hint: 'add `}` after its last statement', notes })
        continue
      }
    }
    diags.error('E0002', span, message, hint ? { hint } : {})
  }
  const ast = new AstBuilder(file, diags, fixes, g.byRule, g.declarations).fileAst(out.cst, out.comments)
  return { ast, diagnostics: diags }
}
