// bench/runtime/kit/compare.ts: the micro-benchmark baseline (bench/baseline.json) and the comparison of a
// run against it: a case more than 5 % slower, or allocating more, is a REGRESSION; one more than 5 % faster
// or allocating less is `improved`; cases without a baseline are `new`, baseline cases that ran no more are
// `removed`. Flags inform; they never fail a run (see bench/micro.ts).
// Time is compared on the fastest batch (minNs), not the mean: on this shared 2-core machine the mean of
// one case moved by 30-50 % between back-to-back runs while the fastest batch repeated to within a few
// percent. What min cannot see (GC time from allocating more) the bytes comparison catches.
import type { CaseResult } from './measure.js'
import type { FileResult } from './suite.js'
import { bytes, ns, num, renderTable } from './table.js'

/** The numbers a baseline keeps per case (key `file/case`). */
export interface CaseNumbers { nsPerOp: number; p99Ns: number; minNs: number; opsPerSec: number; bytesPerOp: number }

export interface LoadReading { at: string; loadavg: [number, number, number] }

export interface Baseline {
  format: 'gwp-micro-baseline'
  version: 1
  /** Where and when it was recorded: on a shared machine the load is part of the number. */
  recorded: { at: string; node: string; cpus: number; cpuModel: string; commit: string | null; load: LoadReading[]; note?: string }
  cases: Record<string, CaseNumbers>
}

export const BASELINE_FORMAT = 'gwp-micro-baseline'
/** Relative change that is flagged, either way. */
export const THRESHOLD = 0.05
/**
 * Allocation changes below this many bytes per op are not flagged, whatever the ratio: amortised crumbs
 * (a pool refilled every 1,024 ops, a batch joined every 200 lines) move by fractions of a byte between runs,
 * and 0 → 0.4 B/op is not a regression. Anything real allocates at least one 8-byte word more.
 */
export const BYTES_SLACK = 8

export type Flag = 'REGRESSION' | 'improved' | 'ok' | 'new' | 'removed'

export interface Comparison {
  key: string
  cur: CaseNumbers | null
  base: CaseNumbers | null
  /** (cur - base) / base of the fastest batch's ns/op (minNs); null without both. */
  timeChange: number | null
  /** cur - base bytes/op; null without both. */
  bytesChange: number | null
  flag: Flag
  /** Why it is flagged ("time +7.3%", "bytes +48"), '' when ok. */
  reason: string
}

export const caseKey = (file: string, name: string): string => `${file}/${name}`

export function numbersOf(r: CaseResult): CaseNumbers {
  return { nsPerOp: r.nsPerOp, p99Ns: r.p99Ns, minNs: r.minNs, opsPerSec: r.opsPerSec, bytesPerOp: r.bytesPerOp }
}

/** Current results keyed `file/case`. */
export function resultMap(files: readonly FileResult[]): Record<string, CaseNumbers> {
  const out: Record<string, CaseNumbers> = {}
  for (const f of files) for (const c of f.cases) out[caseKey(f.file, c.name)] = numbersOf(c)
  return out
}

/** One case against its baseline. */
export function compareCase(key: string, cur: CaseNumbers | null, base: CaseNumbers | null): Comparison {
  if (cur === null && base === null) throw new Error(`compareCase: nothing to compare for ${key}`)
  if (base === null) return { key, cur, base, timeChange: null, bytesChange: null, flag: 'new', reason: 'no baseline' }
  if (cur === null) return { key, cur, base, timeChange: null, bytesChange: null, flag: 'removed', reason: 'in the baseline, not run' }
  const timeChange = base.minNs > 0 ? (cur.minNs - base.minNs) / base.minNs : 0
  const bytesChange = cur.bytesPerOp - base.bytesPerOp
  const moreBytes = bytesChange >= BYTES_SLACK && cur.bytesPerOp > base.bytesPerOp * (1 + THRESHOLD)
  const fewerBytes = -bytesChange >= BYTES_SLACK && cur.bytesPerOp < base.bytesPerOp * (1 - THRESHOLD)
  const slower = timeChange > THRESHOLD
  const faster = timeChange < -THRESHOLD
  const worse: string[] = []
  const better: string[] = []
  if (slower) worse.push(`time ${pct(timeChange)}`)
  if (moreBytes) worse.push(`bytes +${num(bytesChange, 1)}`)
  if (faster) better.push(`time ${pct(timeChange)}`)
  if (fewerBytes) better.push(`bytes ${num(bytesChange, 1)}`)
  if (worse.length > 0) return { key, cur, base, timeChange, bytesChange, flag: 'REGRESSION', reason: worse.join(', ') }
  if (better.length > 0) return { key, cur, base, timeChange, bytesChange, flag: 'improved', reason: better.join(', ') }
  return { key, cur, base, timeChange, bytesChange, flag: 'ok', reason: '' }
}

/**
 * Every current case against the baseline, in run order, then the baseline cases that did not run although
 * they were in scope (their file ran and they pass the filter): those are `removed`. Baseline cases out of
 * scope (a file not run, a case filtered out) are left out, not reported as removed.
 */
export function compareRuns(base: Record<string, CaseNumbers>, cur: Record<string, CaseNumbers>, inScope: (key: string) => boolean): Comparison[] {
  const out: Comparison[] = []
  for (const [key, c] of Object.entries(cur)) out.push(compareCase(key, c, base[key] ?? null))
  for (const [key, b] of Object.entries(base)) if (!(key in cur) && inScope(key)) out.push(compareCase(key, null, b))
  return out
}

export function countFlags(rows: readonly Comparison[]): Record<Flag, number> {
  const n: Record<Flag, number> = { REGRESSION: 0, improved: 0, ok: 0, new: 0, removed: 0 }
  for (const r of rows) n[r.flag]++
  return n
}

export function formatComparison(rows: readonly Comparison[]): string {
  return renderTable(
    ['case', 'ns/op', 'min ns', 'base', 'Δ min', 'B/op', 'base', 'Δ B', 'flag'],
    rows.map(r => [
      r.key,
      r.cur === null ? '-' : ns(r.cur.nsPerOp),
      r.cur === null ? '-' : ns(r.cur.minNs),
      r.base === null ? '-' : ns(r.base.minNs),
      r.timeChange === null ? '' : pct(r.timeChange),
      r.cur === null ? '-' : bytes(r.cur.bytesPerOp),
      r.base === null ? '-' : bytes(r.base.bytesPerOp),
      r.bytesChange === null || Math.abs(r.bytesChange) < 1 ? '' : (r.bytesChange > 0 ? '+' : '') + num(r.bytesChange, 0),
      r.flag === 'ok' ? '' : r.flag === 'REGRESSION' || r.flag === 'improved' ? `${r.flag} (${r.reason})` : r.flag,
    ]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  )
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`

/** Reads a baseline object, refusing other formats (an empty baseline when there is none yet). */
export function parseBaseline(text: string | null): Baseline | null {
  if (text === null) return null
  const b = JSON.parse(text) as Baseline
  if (b?.format !== BASELINE_FORMAT || b.version !== 1 || typeof b.cases !== 'object') throw new Error(`not a ${BASELINE_FORMAT} v1 file`)
  return b
}
