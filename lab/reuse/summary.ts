// lab/reuse/summary.ts: one row per pool variant from its interleaved runs (medians over rounds), with the
// connection figures that are the point of the experiment: new upstream connections per second and the reuse
// ratio (requests dispatched per connection opened) in the window.
import type { RunRecord } from '../harness/measure.js'
import { median } from '../harness/stats.js'

export interface VariantSummary {
  variant: string
  rounds: number
  rps: number
  p50: number
  p99: number
  /** gw_upstream_connections_opened_total delta per second of the window (median over rounds). */
  newConnectionsPerS: number
  /** dispatched ÷ opened in the window; Infinity when no connection was opened (full reuse). */
  reuseRatio: number
  fdsMedian: number
  fdsMax: number
  cpuUsPerRequest: number | null
  errors: number
}

type Run = RunRecord & { fds: { median: number; max: number } }

export function summarizeVariants(runs: Run[], order: string[]): VariantSummary[] {
  const out: VariantSummary[] = []
  for (const variant of order) {
    const rs = runs.filter((r) => r.target === variant)
    if (rs.length === 0) continue
    const opened = rs.reduce((n, r) => n + (r.gw?.opened ?? 0), 0)
    const dispatched = rs.reduce((n, r) => n + (r.gw?.dispatched ?? 0), 0)
    const cpu = rs.map((r) => r.proxy?.cpuUsPerRequest ?? NaN)
    out.push({
      variant,
      rounds: rs.length,
      rps: median(rs.map((r) => r.load.rps)),
      p50: median(rs.map((r) => r.load.latencyMs.p50)),
      p99: median(rs.map((r) => r.load.latencyMs.p99)),
      newConnectionsPerS: median(rs.map((r) => (r.gw?.opened ?? 0) / (r.load.durationMs / 1000))),
      reuseRatio: opened === 0 ? Infinity : dispatched / opened,
      fdsMedian: median(rs.map((r) => r.fds.median)),
      fdsMax: Math.max(...rs.map((r) => r.fds.max).filter(Number.isFinite)),
      cpuUsPerRequest: Number.isNaN(median(cpu)) ? null : median(cpu),
      errors: rs.reduce((n, r) => n + r.load.errors, 0),
    })
  }
  return out
}
