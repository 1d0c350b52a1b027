// Diagnostics are data: grammar/ and compiler/ collect them, only bin/gwc prints them.
import type { Span } from './ast.js'
import type { DiagnosticCode, ErrorCode, WarningCode } from './diagnostic-codes.js'

export type Severity = 'error' | 'warning'

export interface Diagnostic {
  /** Stable code from the catalogue (diagnostic-codes.ts): E0xxx errors, W0xxx warnings. Never reused once retired. */
  code: DiagnosticCode
  severity: Severity
  /** One line, lowercase start, no trailing period, user names in backticks. */
  message: string
  file: string
  line: number
  col: number
  len: number
  /** What is wrong at the caret. */
  label?: string
  /** What to do about it. */
  hint?: string
  /** Other places worth showing (e.g. where a duplicate was first declared). */
  notes?: { message: string; file: string; line: number; col: number; len: number }[]
}

/**
 * Messages quote user text; control characters in it (a `\n` escape, an ANSI escape) would break the
 * one-line format or reach a terminal raw, so they are shown escaped.
 */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, c => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : '\\u{' + c.charCodeAt(0).toString(16) + '}'))
}

/** Collects diagnostics for one compilation; reports them sorted by file and position. */
export class Diagnostics {
  readonly list: Diagnostic[] = []

  error(code: ErrorCode, span: Span, message: string, extra: { label?: string; hint?: string; notes?: { message: string; span: Span }[] } = {}): void {
    this.push('error', code, span, message, extra)
  }

  warn(code: WarningCode, span: Span, message: string, extra: { label?: string; hint?: string; notes?: { message: string; span: Span }[] } = {}): void {
    this.push('warning', code, span, message, extra)
  }

  private push(severity: Severity, code: DiagnosticCode, span: Span, message: string, extra: { label?: string; hint?: string; notes?: { message: string; span: Span }[] }): void {
    const d: Diagnostic = { code, severity, message: printable(message), file: span.file, line: span.line, col: span.col, len: Math.max(1, span.len) }
    if (extra.label !== undefined) d.label = printable(extra.label)
    if (extra.hint !== undefined) d.hint = printable(extra.hint)
    if (extra.notes !== undefined && extra.notes.length > 0) {
      d.notes = extra.notes.map(n => ({ message: printable(n.message), file: n.span.file, line: n.span.line, col: n.span.col, len: Math.max(1, n.span.len) }))
    }
    this.list.push(d)
  }

  get errorCount(): number { return this.list.filter(d => d.severity === 'error').length }

  /** Sorted by file, line, column, then code; duplicates (same code at the same place) dropped. */
  sorted(): Diagnostic[] {
    const seen = new Set<string>()
    return [...this.list]
      .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)))
      .filter(d => { const k = `${d.file}:${d.line}:${d.col}:${d.code}:${d.message}`; if (seen.has(k)) return false; seen.add(k); return true })
  }
}
