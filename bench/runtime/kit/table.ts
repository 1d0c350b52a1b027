// bench/runtime/kit/table.ts: plain-text tables for the micro-benchmarks (console.table quotes strings and
// cannot right-align numbers, which makes ns/op columns hard to scan).

export type Align = 'l' | 'r'

/** Columns padded to their widest cell; numbers right-aligned by the caller's `align`. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[]): string {
  const width = headers.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const cell = (s: string, i: number): string => (align[i] === 'r' ? s.padStart(width[i]) : s.padEnd(width[i]))
  const line = (cells: readonly string[]): string => cells.map(cell).join('  ').trimEnd()
  return [line(headers), width.map(w => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A number with thousands separators and at most `digits` decimals ("1,234.5"). */
export function num(x: number, digits = 0): string {
  if (!Number.isFinite(x)) return String(x)
  return x.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits })
}

/** ns/op with precision that suits its size (1.23, 45.6, 1,234). */
export const ns = (x: number): string => num(x, x < 10 ? 2 : x < 100 ? 1 : 0)

/** Bytes/op: whole bytes, but "<1" rather than a misleading 0 for amortised crumbs. */
export const bytes = (x: number): string => (x > 0 && x < 1 ? '<1' : num(x, 0))
