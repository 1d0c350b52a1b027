// lab/harness/markdown.ts: markdown tables and the number formats every report uses, so a figure reads the
// same in every table (3 significant digits, '—' for not applicable, never NaN or Infinity).

/** A GitHub-flavoured table; `align` per column ('l' | 'r'), default right for all but the first. Cells escape '|'. */
export function mdTable(header: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const al = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'))
  const cell = (v: string | number): string => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const lines = [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${al.map((a) => (a === 'l' ? ':---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ]
  return lines.join('\n')
}

const bad = (x: number | null | undefined): x is null | undefined => x === null || x === undefined || !Number.isFinite(x)

/** 3 significant digits, thousands kept whole: 0.0123, 1.23, 12.3, 123, 12345. */
export function num(x: number | null | undefined): string {
  if (bad(x)) return '—'
  const a = Math.abs(x)
  if (a >= 100) return Math.round(x).toString()
  if (a >= 10) return x.toFixed(1)
  if (a >= 1) return x.toFixed(2)
  if (a === 0) return '0'
  return x.toPrecision(2)
}

/** Milliseconds with the unit dropped (column headers carry it). */
export const ms = num

/** A signed difference: +0.42, −1.3. */
export function signed(x: number | null | undefined): string {
  if (bad(x)) return '—'
  return (x >= 0 ? '+' : '−') + num(Math.abs(x))
}

/** A ratio: 1.42×. */
export function times(x: number | null | undefined): string {
  return bad(x) ? '—' : `${x.toFixed(2)}×`
}

/** A share as a percentage: 0.034 → 3.4%. */
export function pct(x: number | null | undefined): string {
  return bad(x) ? '—' : `${num(x * 100)}%`
}

/** Bytes as B / KB / MB (decimal). */
export function bytes(x: number | null | undefined): string {
  if (bad(x)) return '—'
  const a = Math.abs(x)
  if (a >= 1e6) return `${num(x / 1e6)} MB`
  if (a >= 1e3) return `${num(x / 1e3)} KB`
  return `${Math.round(x)} B`
}

/** Requests per second, whole. */
export function rps(x: number | null | undefined): string {
  return bad(x) ? '—' : Math.round(x).toLocaleString('en-US')
}
