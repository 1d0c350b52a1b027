// lab/harness/stats.ts: how repeated, interleaved runs become one number per target and one ratio per pair:
// medians over rounds (robust to one disturbed round on a shared machine), ratios and differences paired within a
// round (both sides saw the same machine), and goals checked against those with the gap stated.

/** Median (mean of the two middle values for an even count); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return NaN
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m] : (v[m - 1] + v[m]) / 2
}

/** The q-quantile of a list (nearest rank), NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN
  const v = [...xs].sort((a, b) => a - b)
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]
}

export function minMax(xs: readonly number[]): [number, number] {
  const v = xs.filter((x) => Number.isFinite(x))
  return v.length === 0 ? [NaN, NaN] : [Math.min(...v), Math.max(...v)]
}

/** A value per round for one target: round index → value. */
export type ByRound = Map<number, number>

/**
 * Median over rounds of f(a, b) for the rounds where both targets have a value. `ratio` pairs a/b, `diff` a − b.
 * Returns NaN (and an empty per-round list) when no round has both.
 */
export function paired(a: ByRound, b: ByRound, f: (x: number, y: number) => number): { median: number; perRound: number[] } {
  const perRound: number[] = []
  for (const [round, x] of a) {
    const y = b.get(round)
    if (y === undefined || !Number.isFinite(x) || !Number.isFinite(y)) continue
    const r = f(x, y)
    if (Number.isFinite(r)) perRound.push(r)
  }
  return { median: median(perRound), perRound }
}

export const ratio = (x: number, y: number): number => (y === 0 ? NaN : x / y)
export const diff = (x: number, y: number): number => x - y

export type GoalOp = '>=' | '<=' | '<'

export interface GoalSpec {
  id: string
  /** The goal in words, e.g. "gw passthrough ≥ 1.4× fastify req/s (ceiling)". */
  text: string
  op: GoalOp
  threshold: number
  unit: GoalUnit
}

/** A goal's unit: a ratio, milliseconds, CPU microseconds, mebibytes. */
export type GoalUnit = 'x' | 'ms' | 'µs' | 'MiB'

export interface GoalResult extends GoalSpec {
  value: number
  /** PASS/MISS, or 'n/a' when the value could not be measured (a target skipped or failing). */
  status: 'PASS' | 'MISS' | 'n/a'
  /** How far from the threshold, signed so that positive = margin, negative = shortfall, in the goal's unit. */
  margin: number
  /** One line: "1.52× vs ≥ 1.40× — PASS by 0.12× (9%)". */
  line: string
  /** Per-round values behind the median, when paired. */
  perRound?: number[]
  /** What qualifies the verdict (e.g. the proxy's core was not saturated, so a ceiling is a lower bound). */
  note?: string
}

const fmtUnit = (v: number, unit: GoalUnit): string =>
  unit === 'x' ? `${v.toFixed(2)}×` : unit === 'ms' ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ${unit}`

/** Checks a measured value against a goal and words the gap. */
export function checkGoal(spec: GoalSpec, value: number, perRound?: number[], note?: string): GoalResult {
  const extra = { ...(perRound ? { perRound } : {}), ...(note ? { note } : {}) }
  if (!Number.isFinite(value)) {
    return { ...spec, value, status: 'n/a', margin: NaN, line: 'not measured (a target it needs did not run)', ...extra }
  }
  const pass = spec.op === '>=' ? value >= spec.threshold : spec.op === '<=' ? value <= spec.threshold : value < spec.threshold
  const margin = spec.op === '>=' ? value - spec.threshold : spec.threshold - value
  const rel = spec.threshold !== 0 ? ` (${Math.abs((margin / spec.threshold) * 100).toFixed(0)}%)` : ''
  const opText = spec.op === '>=' ? '≥' : spec.op === '<=' ? '≤' : '<'
  const line = `${fmtUnit(value, spec.unit)} vs ${opText} ${fmtUnit(spec.threshold, spec.unit)} — ` +
    (pass ? `PASS by ${fmtUnit(Math.abs(margin), spec.unit)}${rel}` : `MISS by ${fmtUnit(Math.abs(margin), spec.unit)}${rel}`)
  return { ...spec, value, status: pass ? 'PASS' : 'MISS', margin, line, ...extra }
}
