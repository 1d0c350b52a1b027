// The grammar's public face: text in, AST and diagnostics out. No I/O.
import type { FileAst, Span } from './ast.js'
import { AstBuilder } from './build-ast.js'
import { Diagnostics } from './diagnostic.js'
import { HINT_SEP } from './parse-errors.js'
import { parseText } from './parser.js'

export type { Diagnostic, Severity } from './diagnostic.js'
export { Diagnostics } from './diagnostic.js'
export * as ast from './ast.js'
export { closest, editDistance } from './suggest.js'

/** The span of end of file: just past the last character. */
function eofSpan(file: string, text: string): Span {
  const lines = text.split('\n')
  const last = lines.length > 1 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length
  return { file, line: last, col: (lines[last - 1] ?? '').length + 1, len: 1, offset: text.length }
}

function lexHint(ch: string): string {
  if (ch === "'") return 'strings use double quotes: `"…"`'
  if (ch === '.' || ch === '/' || ch === '*') return 'hosts, paths and URLs are strings: put them in double quotes'
  if (ch === ':') return 'a replica address is `host:port` with no spaces, e.g. `10.0.1.10:8080`'
  return 'remove it, or put it inside a string'
}

/**
 * Parse one .gwp file. Syntax errors are recovered from, so one call reports all of them; the AST holds
 * every declaration and statement that could be read.
 */
export function parseFile(text: string, file: string, diags: Diagnostics = new Diagnostics()): { ast: FileAst; diagnostics: Diagnostics } {
  const out = parseText(text)
  for (const e of out.lexErrors) {
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length))
    diags.error('E0001', { file, line: e.line, col: e.column, len: Math.max(1, e.length), offset: e.offset },
      `unexpected character${ch.length > 1 ? 's' : ''} \`${ch.replace(/`/g, "'")}\``, { hint: lexHint(ch[0] ?? '') })
  }
  for (const e of out.parseErrors) {
    const [message, hint] = e.message.split(HINT_SEP)
    const t = e.token
    const span: Span = Number.isFinite(t.startOffset) && t.tokenType.name !== 'EOF'
      ? { file, line: t.startLine ?? 1, col: t.startColumn ?? 1, len: t.tokenType.name === 'Newline' ? 1 : Math.max(1, t.image.length), offset: t.startOffset }
      : eofSpan(file, text)
    diags.error('E0002', span, message, hint ? { hint } : {})
  }
  const ast = new AstBuilder(file, diags).fileAst(out.cst, out.comments)
  return { ast, diagnostics: diags }
}
