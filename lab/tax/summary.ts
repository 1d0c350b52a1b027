// lab/tax/summary.ts: from the interleaved runs of a scenario to one row per target (medians over rounds) and
// the ratios that are the result (gw over direct, floor and fastify, paired within each round).
import { byRound, METRICS, type Metric, type RunRecord } from '../harness/measure.js'
import { diff, median, minMax, paired, ratio, type ByRound } from '../harness/stats.js'

export interface TargetSummary {
  target: string
  rounds: number
  rps: number
  rpsRange: [number, number]
  p50: number
  p99: number
  p999: number
  /** Median over rounds of (p99 − direct's p99 in the same round); null for direct itself or without a direct run. */
  addedP99: number | null
  cpuUsPerRequest: number | null
  heapBytesPerRequest: number | null
  gcShare: number | null
  eventLoopDelayP99Ms: number | null
  eventLoopDelayMaxMs?: number | null
  /** Proxy CPU as a share of one core (median): 1.0 = its core was saturated. */
  cpuShare: number | null
  /** req/s ÷ proxy CPU share (median over rounds): what one fully busy core of this proxy serves. */
  perCoreRps: number | null
  /** New upstream TCP connections per run (median). */
  upstreamConnections: number
  /** fds of the proxy at the start of its first window and the end of its last. */
  fdsStart: number | null
  fdsEnd: number | null
  upstreamCpuShare: number | null
  generatorCpuShare: number
  errors: number
  completed: number
  warnings: string[]
}

const med = (rs: RunRecord[], f: Metric): number | null => {
  const v = rs.map(f).filter((x): x is number => x !== null && Number.isFinite(x))
  return v.length === 0 ? null : median(v)
}

/** One row per target that ran in the scenario, in the order given. */
export function summarize(records: RunRecord[], scenario: string, order: string[]): TargetSummary[] {
  const out: TargetSummary[] = []
  for (const target of order) {
    const rs = records.filter((r) => r.scenario === scenario && r.target === target).sort((a, b) => a.round - b.round)
    if (rs.length === 0) continue
    const direct = byRound(records, scenario, 'direct', METRICS.p99)
    const added = target === 'direct' || direct.size === 0 ? null : paired(byRound(records, scenario, target, METRICS.p99), direct, diff).median
    const warnings = [...new Set(rs.flatMap((r) => r.load.warnings.map((w) => `round ${r.round + 1}: ${w}`)))]
    out.push({
      target,
      rounds: rs.length,
      rps: median(rs.map(METRICS.rps)),
      rpsRange: minMax(rs.map(METRICS.rps)),
      p50: median(rs.map(METRICS.p50)),
      p99: median(rs.map(METRICS.p99)),
      p999: median(rs.map(METRICS.p999)),
      addedP99: added === null || Number.isNaN(added) ? null : added,
      cpuUsPerRequest: med(rs, METRICS.cpu),
      heapBytesPerRequest: med(rs, METRICS.heap),
      gcShare: med(rs, (r) => r.proxy?.gcShare ?? null),
      eventLoopDelayP99Ms: med(rs, (r) => r.proxy?.eventLoopDelayP99Ms ?? null),
      eventLoopDelayMaxMs: med(rs, (r) => r.proxy?.eventLoopDelayMaxMs ?? null),
      cpuShare: med(rs, (r) => r.proxy?.cpuShare ?? null),
      perCoreRps: med(rs, METRICS.perCore),
      upstreamConnections: Math.round(median(rs.map((r) => r.upstream.connectionsOpened))),
      fdsStart: rs[0].proxy?.fdsStart ?? null,
      fdsEnd: rs[rs.length - 1].proxy?.fdsEnd ?? null,
      upstreamCpuShare: med(rs, (r) => r.upstream.cpuShare),
      generatorCpuShare: median(rs.map((r) => r.load.generatorCpuShare)),
      errors: rs.reduce((n, r) => n + r.load.errors, 0),
      completed: rs.reduce((n, r) => n + r.load.completed, 0),
      warnings,
    })
  }
  return out
}

export interface RatioRow {
  target: string
  /** req/s ÷ the reference's, paired per round (median). */
  rps: Record<string, number>
  /** CPU µs/req ÷ the reference's (proxies only). */
  cpu: Record<string, number>
  /** added p99 ÷ the reference's added p99 (proxies only; direct has none). */
  addedP99: Record<string, number>
}

/** gw targets over each reference (direct, floor, fastify, nginx when present). */
export function ratios(records: RunRecord[], scenario: string, subjects: string[], refs: string[]): RatioRow[] {
  const directP99 = byRound(records, scenario, 'direct', METRICS.p99)
  const addedBy = (t: string): ByRound => {
    const out: ByRound = new Map()
    for (const [round, v] of byRound(records, scenario, t, METRICS.p99)) {
      const d = directP99.get(round)
      if (d !== undefined) out.set(round, v - d)
    }
    return out
  }
  const rows: RatioRow[] = []
  for (const s of subjects) {
    if (!records.some((r) => r.scenario === scenario && r.target === s)) continue
    const row: RatioRow = { target: s, rps: {}, cpu: {}, addedP99: {} }
    for (const ref of refs) {
      if (ref === s || !records.some((r) => r.scenario === scenario && r.target === ref)) continue
      row.rps[ref] = paired(byRound(records, scenario, s, METRICS.rps), byRound(records, scenario, ref, METRICS.rps), ratio).median
      if (ref !== 'direct') {
        row.cpu[ref] = paired(byRound(records, scenario, s, METRICS.cpu), byRound(records, scenario, ref, METRICS.cpu), ratio).median
        // A reference that added next to nothing (≤ 0.05 ms, or less than direct) makes the ratio noise: leave it out.
        const refAdded = new Map([...addedBy(ref)].filter(([, v]) => v > 0.05))
        row.addedP99[ref] = paired(addedBy(s), refAdded, ratio).median
      }
    }
    rows.push(row)
  }
  return rows
}
