// AST spans → the smaller SourceSpan the IR and manifest carry; the span of a part of a string literal.
import type { Span, StrV } from '../../grammar/ast.js'
import type { SourceSpan } from '../../config/ir.js'
import { quote } from '../tools/print-values.js'

export const spanOf = (s: Span): SourceSpan => ({ file: s.file, line: s.line, col: s.col })

/**
 * The span of characters `at`…`at+len` of a string's value, inside its literal (a caret under one character of a
 * pattern or URL): exact when the literal is written the canonical way (`quote`: `\\` for a backslash, `\"` for
 * a quote) or as a plain YAML scalar; otherwise the whole string.
 */
export function inString(v: StrV, at: number, len: number): Span {
  const end = Math.min(v.value.length, at + Math.max(1, len))
  if (v.span.len === v.value.length) return { ...v.span, col: v.span.col + at, offset: v.span.offset + at, len: Math.max(1, end - at) }
  if (v.span.len !== quote(v.value).length) return v.span
  const before = quote(v.value.slice(0, at)).length - 1, through = quote(v.value.slice(0, end)).length - 1
  return { ...v.span, col: v.span.col + before, offset: v.span.offset + before, len: Math.max(1, through - before) }
}
