// lab/tax/goals.ts: the gateway's performance goals, each computed from paired (same-round) runs of the tax
// table and checked with its gap: PASS/MISS by how much, or n/a when a target it needs did not run.
import { checkGoal, diff, median, paired, ratio, type ByRound, type GoalResult, type GoalSpec } from '../harness/stats.js'
import { byRound, METRICS, type RunRecord } from '../harness/measure.js'

export interface GoalScenarios {
  /** The closed-model ceiling scenario. */
  ceiling: string
  /** The fixed-rate scenario at about half the ceiling (CPU per request is compared at the same load). */
  half: string
  /** Open model at 2,500 req/s. */
  r2500: string
  /** Open model at 5,000 req/s. */
  r5000: string
}

export const GOALS: Record<string, GoalSpec> = {
  passRps: { id: 'pass-rps', text: 'gw passthrough ≥ 1.4× @fastify/http-proxy req/s (ceiling)', op: '>=', threshold: 1.4, unit: 'x' },
  passCpu: { id: 'pass-cpu', text: 'gw passthrough CPU µs/req ≤ 1.15× the floor proxy (same fixed rate)', op: '<=', threshold: 1.15, unit: 'x' },
  fullRps: { id: 'full-rps', text: 'gw full chain ≥ 1.2× @fastify/http-proxy passthrough req/s (ceiling)', op: '>=', threshold: 1.2, unit: 'x' },
  passP99: { id: 'pass-p99-2500', text: 'gw passthrough added p99 over direct < 1 ms at 2,500 req/s', op: '<', threshold: 1, unit: 'ms' },
  fullP99: { id: 'full-p99-2500', text: 'gw full chain added p99 over direct < 2 ms at 2,500 req/s', op: '<', threshold: 2, unit: 'ms' },
  p99vsFastify: { id: 'pass-p99-5000', text: "gw passthrough added p99 ≤ ½ of fastify's at 5,000 req/s (ratio of added p99s)", op: '<=', threshold: 0.5, unit: 'x' },
}

/** Added p99 over direct, per round. */
function addedP99(records: RunRecord[], scenario: string, target: string): ByRound {
  const direct = byRound(records, scenario, 'direct', METRICS.p99)
  const out: ByRound = new Map()
  for (const [round, v] of byRound(records, scenario, target, METRICS.p99)) {
    const d = direct.get(round)
    if (d !== undefined) out.set(round, v - d)
  }
  return out
}

/** A proxy whose core was less busy than this at the ceiling was held back by the other side (generator, stub, machine). */
const SATURATED = 0.85

/**
 * At the ceiling a req/s ratio is only a proxy-to-proxy comparison when both proxies' cores were saturated. When
 * one was not, say so, with the per-core ratio (req/s ÷ CPU share, paired per round) that does compare them.
 */
export function saturationNote(records: RunRecord[], scenario: string, a: string, b: string): string | undefined {
  const share = (t: string): number => median([...byRound(records, scenario, t, METRICS.cpuShare).values()])
  const sa = share(a), sb = share(b)
  if (!Number.isFinite(sa) || !Number.isFinite(sb) || (sa >= SATURATED && sb >= SATURATED)) return undefined
  const perCore = paired(byRound(records, scenario, a, METRICS.perCore), byRound(records, scenario, b, METRICS.perCore), ratio).median
  const held = [sa < SATURATED ? `${a} ${Math.round(sa * 100)}%` : '', sb < SATURATED ? `${b} ${Math.round(sb * 100)}%` : ''].filter(Boolean).join(', ')
  return `not both saturated (proxy core busy: ${held}): the load side or the machine capped the run; per-core capacity ratio ${perCore.toFixed(2)}×`
}

/**
 * Evaluates every goal. The fastify p99 goal divides gw's added p99 by fastify's within each round; a round where
 * fastify added nothing measurable (≤ 0.05 ms) is dropped, since the ratio would be noise.
 */
export function evaluateGoals(records: RunRecord[], s: GoalScenarios): GoalResult[] {
  const r = (scenario: string, target: string, f: (x: RunRecord) => number | null): ByRound => byRound(records, scenario, target, f)
  const g1 = paired(r(s.ceiling, 'gw-pass', METRICS.rps), r(s.ceiling, 'fastify', METRICS.rps), ratio)
  const g2 = paired(r(s.half, 'gw-pass', METRICS.cpu), r(s.half, 'floor', METRICS.cpu), ratio)
  const g3 = paired(r(s.ceiling, 'gw-full', METRICS.rps), r(s.ceiling, 'fastify', METRICS.rps), ratio)
  const direct2500 = r(s.r2500, 'direct', METRICS.p99)
  const g4 = paired(r(s.r2500, 'gw-pass', METRICS.p99), direct2500, diff)
  const g5 = paired(r(s.r2500, 'gw-full', METRICS.p99), direct2500, diff)
  const fastifyAdded = new Map([...addedP99(records, s.r5000, 'fastify')].filter(([, v]) => v > 0.05))
  const g6 = paired(addedP99(records, s.r5000, 'gw-pass'), fastifyAdded, ratio)
  return [
    checkGoal(GOALS.passRps, g1.median, g1.perRound, saturationNote(records, s.ceiling, 'gw-pass', 'fastify')),
    checkGoal(GOALS.passCpu, g2.median, g2.perRound),
    checkGoal(GOALS.fullRps, g3.median, g3.perRound, saturationNote(records, s.ceiling, 'gw-full', 'fastify')),
    checkGoal(GOALS.passP99, g4.median, g4.perRound),
    checkGoal(GOALS.fullP99, g5.median, g5.perRound),
    checkGoal(GOALS.p99vsFastify, g6.median, g6.perRound),
  ]
}
