// lab/tax/goals.ts: the gateway's performance goals, each computed from paired (same-round) runs of the tax
// table and checked with its gap: PASS/MISS by how much, or n/a when a target it needs did not run. Issue 13's
// goals judge gw on its own HTTP/1.1 engine (`@http1`, "after"); the earlier goals are checked for every engine
// that ran, so before and after read side by side.
import { checkGoal, diff, median, paired, ratio, type ByRound, type GoalResult, type GoalSpec } from '../harness/stats.js'
import { byRound, METRICS, type RunRecord } from '../harness/measure.js'
import { slowGrowthMiB, transferRatio, unboundedMiB, type SlowReaderResult } from './transfers.js'
import { gwTarget, type Engine } from './targets.js'

export interface GoalScenarios {
  /** The closed-model ceiling scenario. */
  ceiling: string
  /** The fixed-rate scenario at about half the ceiling (CPU per request is compared at the same load). */
  half: string
  /** Open model at 2,500 req/s. */
  r2500: string
  /** Open model at 5,000 req/s. */
  r5000: string
  /** The 1 MiB download and upload scenarios (optional: older runs have none). */
  download?: string
  upload?: string
}

/** The earlier goals (before issue 13), worded for gw on any engine; `goalsFor(engine)` names the engine. */
export const GOALS: Record<string, GoalSpec> = {
  passRps: { id: 'pass-rps', text: 'gw passthrough ≥ 1.4× @fastify/http-proxy req/s (ceiling)', op: '>=', threshold: 1.4, unit: 'x' },
  passCpu: { id: 'pass-cpu', text: 'gw passthrough CPU µs/req ≤ 1.15× the floor proxy (same fixed rate)', op: '<=', threshold: 1.15, unit: 'x' },
  fullRps: { id: 'full-rps', text: 'gw full chain ≥ 1.2× @fastify/http-proxy passthrough req/s (ceiling)', op: '>=', threshold: 1.2, unit: 'x' },
  passP99: { id: 'pass-p99-2500', text: 'gw passthrough added p99 over direct < 1 ms at 2,500 req/s', op: '<', threshold: 1, unit: 'ms' },
  fullP99: { id: 'full-p99-2500', text: 'gw full chain added p99 over direct < 2 ms at 2,500 req/s', op: '<', threshold: 2, unit: 'ms' },
  p99vsFastify: { id: 'pass-p99-5000', text: "gw passthrough added p99 ≤ ½ of fastify's at 5,000 req/s (ratio of added p99s)", op: '<=', threshold: 0.5, unit: 'x' },
}

/** The earlier goals for gw on one engine: ids `pass-rps@http1`, texts "gw@http1 passthrough …". */
export function goalsFor(engine: Engine): Record<keyof typeof GOALS, GoalSpec> {
  const out: Record<string, GoalSpec> = {}
  for (const [k, g] of Object.entries(GOALS)) out[k] = { ...g, id: `${g.id}@${engine}`, text: g.text.replace(/^gw /, `gw@${engine} `) }
  return out
}

/** Issue 13's goals ("Goals", same harness, same run), for gw on its own engine. */
export const ISSUE13: Record<string, GoalSpec> = {
  passCpu: { id: 'i13-pass-cpu', text: 'gw@http1 passthrough ≤ 24 µs CPU/req at the ceiling', op: '<=', threshold: 24, unit: 'µs' },
  passCpuFloor: { id: 'i13-pass-cpu-floor', text: "gw@http1 passthrough CPU/req ≤ 0.75× the floor's (ceiling)", op: '<=', threshold: 0.75, unit: 'x' },
  passRpsFloor: { id: 'i13-pass-rps-floor', text: "gw@http1 passthrough ≥ 1.3× the floor's req/s (ceiling)", op: '>=', threshold: 1.3, unit: 'x' },
  passRpsFastify: { id: 'i13-pass-rps-fastify', text: "gw@http1 passthrough ≥ 2.5× @fastify/http-proxy's req/s (ceiling)", op: '>=', threshold: 2.5, unit: 'x' },
  fullCpu: { id: 'i13-full-cpu', text: 'gw@http1 full chain (cached JWT auth + local rate limit + breaker) ≤ 32 µs CPU/req at the ceiling', op: '<=', threshold: 32, unit: 'µs' },
  p99VsFloor: { id: 'i13-pass-p99-floor', text: "gw@http1 passthrough added p99 over direct at 2,500 req/s below the floor's (gw's − floor's)", op: '<', threshold: 0, unit: 'ms' },
  download: { id: 'i13-download', text: "gw@http1 1 MiB downloads ≥ today's MiB/s (÷ gw@node, same run)", op: '>=', threshold: 1, unit: 'x' },
  upload: { id: 'i13-upload', text: "gw@http1 1 MiB uploads ≥ today's MiB/s (÷ gw@node, same run)", op: '>=', threshold: 1, unit: 'x' },
  slowMemory: { id: 'i13-slow-reader', text: 'gw@http1 memory bounded under slow readers: RSS peak over the start ≤ 32 MiB', op: '<=', threshold: 32, unit: 'MiB' },
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

/** CPU per request at the ceiling is the figure of a busy core; when the core idled, per-request CPU runs high (less batching). */
function busyNote(records: RunRecord[], scenario: string, target: string): string | undefined {
  const s = median([...byRound(records, scenario, target, METRICS.cpuShare).values()])
  return Number.isFinite(s) && s < SATURATED ? `${target}'s core was ${Math.round(s * 100)}% busy (not saturated: per-request CPU reads high)` : undefined
}

/** The earlier six goals for gw on one engine. */
function earlierGoals(records: RunRecord[], s: GoalScenarios, engine: Engine): GoalResult[] {
  const G = goalsFor(engine)
  const pass = gwTarget('gw-pass', engine), full = gwTarget('gw-full', engine)
  const r = (scenario: string, target: string, f: (x: RunRecord) => number | null): ByRound => byRound(records, scenario, target, f)
  const g1 = paired(r(s.ceiling, pass, METRICS.rps), r(s.ceiling, 'fastify', METRICS.rps), ratio)
  const g2 = paired(r(s.half, pass, METRICS.cpu), r(s.half, 'floor', METRICS.cpu), ratio)
  const g3 = paired(r(s.ceiling, full, METRICS.rps), r(s.ceiling, 'fastify', METRICS.rps), ratio)
  const direct2500 = r(s.r2500, 'direct', METRICS.p99)
  const g4 = paired(r(s.r2500, pass, METRICS.p99), direct2500, diff)
  const g5 = paired(r(s.r2500, full, METRICS.p99), direct2500, diff)
  const fastifyAdded = new Map([...addedP99(records, s.r5000, 'fastify')].filter(([, v]) => v > 0.05))
  const g6 = paired(addedP99(records, s.r5000, pass), fastifyAdded, ratio)
  return [
    checkGoal(G.passRps, g1.median, g1.perRound, saturationNote(records, s.ceiling, pass, 'fastify')),
    checkGoal(G.passCpu, g2.median, g2.perRound),
    checkGoal(G.fullRps, g3.median, g3.perRound, saturationNote(records, s.ceiling, full, 'fastify')),
    checkGoal(G.passP99, g4.median, g4.perRound),
    checkGoal(G.fullP99, g5.median, g5.perRound),
    checkGoal(G.p99vsFastify, g6.median, g6.perRound),
  ]
}

/** Issue 13's goals for gw@http1, from the same run's records and slow-reader results. */
export function issue13Goals(records: RunRecord[], s: GoalScenarios, slow: readonly SlowReaderResult[] = []): GoalResult[] {
  const pass = gwTarget('gw-pass', 'http1'), full = gwTarget('gw-full', 'http1')
  const before = gwTarget('gw-pass', 'node')
  const r = (scenario: string, target: string, f: (x: RunRecord) => number | null): ByRound => byRound(records, scenario, target, f)
  const own = (target: string, f: (x: RunRecord) => number | null): { median: number; perRound: number[] } => {
    const v = [...r(s.ceiling, target, f).entries()].sort((a, b) => a[0] - b[0]).map(([, x]) => x)
    return { median: median(v), perRound: v }
  }
  const cpu = own(pass, METRICS.cpu)
  const cpuFloor = paired(r(s.ceiling, pass, METRICS.cpu), r(s.ceiling, 'floor', METRICS.cpu), ratio)
  const rpsFloor = paired(r(s.ceiling, pass, METRICS.rps), r(s.ceiling, 'floor', METRICS.rps), ratio)
  const rpsFastify = paired(r(s.ceiling, pass, METRICS.rps), r(s.ceiling, 'fastify', METRICS.rps), ratio)
  const fullCpu = own(full, METRICS.cpu)
  // (gw − direct) − (floor − direct) in the same round: the direct run cancels out.
  const p99 = paired(r(s.r2500, pass, METRICS.p99), r(s.r2500, 'floor', METRICS.p99), diff)
  const none = { median: NaN, perRound: [] as number[] }
  const dl = s.download === undefined ? none : transferRatio(records, s.download, pass, before)
  const ul = s.upload === undefined ? none : transferRatio(records, s.upload, pass, before)
  const sr = slow.find((x) => x.target === pass)
  const growth = sr === undefined ? null : slowGrowthMiB(sr)
  const slowNote = sr === undefined ? undefined
    : `${sr.readers} readers at ${Math.round(sr.rate / 1024)} KiB/s for ${sr.ms / 1000} s, each asking for ${Math.round(sr.bodyBytes / 1048576)} MiB ` +
      `(buffering them whole would take ${unboundedMiB(sr).toFixed(0)} MiB); RSS peak ${sr.rssPeakBytes === null ? '—' : (sr.rssPeakBytes / 1048576).toFixed(1) + ' MiB'}` +
      `${sr.heapPeakBytes === null ? '' : `, V8 heap peak ${(sr.heapPeakBytes / 1048576).toFixed(1)} MiB`}`
  return [
    checkGoal(ISSUE13.passCpu, cpu.median, cpu.perRound, busyNote(records, s.ceiling, pass)),
    checkGoal(ISSUE13.passCpuFloor, cpuFloor.median, cpuFloor.perRound),
    checkGoal(ISSUE13.passRpsFloor, rpsFloor.median, rpsFloor.perRound, saturationNote(records, s.ceiling, pass, 'floor')),
    checkGoal(ISSUE13.passRpsFastify, rpsFastify.median, rpsFastify.perRound, saturationNote(records, s.ceiling, pass, 'fastify')),
    checkGoal(ISSUE13.fullCpu, fullCpu.median, fullCpu.perRound, busyNote(records, s.ceiling, full)),
    checkGoal(ISSUE13.p99VsFloor, p99.median, p99.perRound),
    checkGoal(ISSUE13.download, dl.median, dl.perRound),
    checkGoal(ISSUE13.upload, ul.median, ul.perRound),
    checkGoal(ISSUE13.slowMemory, growth ?? NaN, undefined, slowNote),
  ]
}

/**
 * Every goal: issue 13's (gw@http1) first, then the earlier ones for each engine in `engines`. A goal whose
 * targets did not run is n/a.
 */
export function evaluateGoals(records: RunRecord[], s: GoalScenarios, engines: readonly Engine[] = ['node', 'http1'], slow: readonly SlowReaderResult[] = []): GoalResult[] {
  const out: GoalResult[] = []
  if (engines.includes('http1')) out.push(...issue13Goals(records, s, slow))
  for (const e of engines) out.push(...earlierGoals(records, s, e))
  return out
}
