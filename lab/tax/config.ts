// lab/tax/config.ts: the two flavours of the tax run (quick: minutes, for a fresh clone and CI; full: rounds
// long enough to trust, plus the ≥ 10-minute soak) and the scenarios each runs, in order.
import type { LoadSpec } from '../harness/measure.js'
import { TARGETS, type Engine, type TargetId } from './targets.js'

export type Flavour = 'quick' | 'full'

export interface TaxConfig {
  flavour: Flavour
  rounds: number
  /** Before any scenario, each target is driven this long unrecorded, so no target pays for JIT warm-up in round 1. */
  primeMs: number
  /** Open-model runs whose generator fell behind by more than this (schedule lag p99) are run again, once… */
  disturbedLagMs: number
  /** …up to this many times per run of the harness, so a machine that is busy throughout cannot stretch the run. */
  rerunBudget: number
  warmupMs: number
  durationMs: number
  /** Closed-model workers for the ceiling. */
  concurrency: number
  /** The fixed rates the goals name. */
  fixedRates: number[]
  /** Targets of the fixed-rate scenarios (`fixedRates`), unless `rateTargets` names others for a rate. */
  fixedRateTargets: TargetId[]
  /** Targets of one fixed rate, by rate (e.g. 5,000 req/s only for the goal that reads it). */
  rateTargets?: Partial<Record<number, TargetId[]>>
  /** Targets of the half-ceiling scenario ('all': every target that runs). */
  halfTargets: TargetId[] | 'all'
  /** Topology mix: arrival rate, rounds, duration; the small-request latency stream runs at `mixProbeRate`. */
  mixRate: number
  mixProbeRate: number
  mixRounds: number
  mixDurationMs: number
  /** Load tokens pre-signed by the IdP. */
  tokens: number
  earlyAttempts: number
  /** Sustained run at the ceiling with fd/heap checks; 0 = none. */
  soakMs: number
  soakWindowMs: number
  /** CPU-profile phase: seconds of load per profiled gw (0 = none). */
  profileMs: number
  /** Peers profiled beside gw (each in a process of its own, after gw's). */
  profilePeers: ('floor' | 'bytes')[]
  /**
   * Engines the per-stage gw targets (auth, ratelimit, breaker) run on when no --targets are given; passthrough
   * and the full chain (the goals' targets) always run on every engine asked for.
   */
  stageEngines: Engine[]
  /** 1 MiB transfers (downloads and uploads) through every proxy: rounds, window, warm-up, concurrent clients; 0 rounds = none. */
  transfer: TransferConfig
}

export interface TransferConfig {
  rounds: number
  durationMs: number
  warmupMs: number
  concurrency: number
  /** Body size of each download and upload. */
  bytes: number
  /** Slow readers: this many clients, each reading a `slowBodyBytes` download at `slowRate` bytes/s for `slowMs`. */
  slowReaders: number
  slowRate: number
  slowBodyBytes: number
  slowMs: number
}

const ALL: TargetId[] = TARGETS.map((t) => t.id)
const MIB = 1024 * 1024
/** What the goals read: the references, and gw passthrough and full chain on both engines. */
const GOAL_TARGETS: TargetId[] = ['direct', 'floor', 'bytes', 'gw-pass@node', 'gw-pass@http1', 'gw-full@node', 'gw-full@http1', 'fastify']
/** What the passthrough goals at a fixed rate read. */
const PASS_TARGETS: TargetId[] = ['direct', 'floor', 'gw-pass@node', 'gw-pass@http1', 'fastify']

export const FLAVOURS: Record<Flavour, TaxConfig> = {
  quick: {
    flavour: 'quick', rounds: 3, primeMs: 1000, disturbedLagMs: 20, rerunBudget: 6, warmupMs: 500, durationMs: 1500, concurrency: 64,
    // Quick keeps under ~6 minutes on a quiet machine: the half-ceiling and 5,000 req/s scenarios run what their goals read.
    fixedRates: [2500, 5000], fixedRateTargets: GOAL_TARGETS, rateTargets: { 5000: PASS_TARGETS }, halfTargets: PASS_TARGETS,
    mixRate: 600, mixProbeRate: 200, mixRounds: 1, mixDurationMs: 3000,
    tokens: 200, earlyAttempts: 3, soakMs: 0, soakWindowMs: 30_000, profileMs: 2000, profilePeers: ['floor'],
    // Auth, ratelimit and breaker alone are left to the full flavour (and to the stage-cost experiment) unless named.
    stageEngines: [],
    transfer: { rounds: 2, durationMs: 1000, warmupMs: 250, concurrency: 8, bytes: MIB, slowReaders: 4, slowRate: 256 * 1024, slowBodyBytes: 64 * MIB, slowMs: 2500 },
  },
  full: {
    flavour: 'full', rounds: 4, primeMs: 4000, disturbedLagMs: 20, rerunBudget: 24, warmupMs: 2000, durationMs: 8000, concurrency: 64,
    fixedRates: [2500, 5000], fixedRateTargets: ALL, rateTargets: { 5000: GOAL_TARGETS }, halfTargets: 'all',
    mixRate: 600, mixProbeRate: 200, mixRounds: 3, mixDurationMs: 15_000,
    tokens: 1000, earlyAttempts: 10, soakMs: 10 * 60_000, soakWindowMs: 30_000, profileMs: 8000, profilePeers: ['floor', 'bytes'],
    stageEngines: ['http1'],
    transfer: { rounds: 4, durationMs: 3000, warmupMs: 1000, concurrency: 8, bytes: MIB, slowReaders: 4, slowRate: 256 * 1024, slowBodyBytes: 64 * MIB, slowMs: 10_000 },
  },
}

export interface ScenarioPlan {
  id: string
  title: string
  spec: LoadSpec
  targets: TargetId[]
}

/** Scenario ids the goals and reports refer to. */
export const SCENARIO = {
  ceiling: 'ceiling',
  half: 'half-ceiling',
  rate: (r: number) => `rate-${r}`,
  mix: 'topology-mix',
  download: 'download-1mib',
  upload: 'upload-1mib',
} as const

/** The ceiling scenario (closed model): every target. */
export function ceilingPlan(c: TaxConfig, targets: TargetId[]): ScenarioPlan {
  return {
    id: SCENARIO.ceiling,
    title: `(a) small-body passthrough ceiling: closed model, ${c.concurrency} concurrent, ${c.durationMs / 1000} s × ${c.rounds} rounds`,
    spec: { model: 'closed', concurrency: c.concurrency, durationMs: c.durationMs, warmupMs: c.warmupMs },
    targets,
  }
}

/**
 * The fixed-rate scenarios: half of the slowest proxy's ceiling (so no target is saturated and latency compares
 * service, not queueing), then the rates the goals name.
 */
export function ratePlans(c: TaxConfig, halfRate: number, targets: TargetId[]): ScenarioPlan[] {
  const open = (rate: number): LoadSpec => ({ model: 'open', rate, connections: 64, durationMs: c.durationMs, warmupMs: c.warmupMs })
  const half = c.halfTargets
  const plans: ScenarioPlan[] = [{
    id: SCENARIO.half,
    title: `(b) fixed rate at about half the slowest proxy's ceiling: open model, ${halfRate} req/s`,
    spec: open(halfRate), targets: half === 'all' ? targets : targets.filter((t) => half.includes(t)),
  }]
  for (const r of c.fixedRates) {
    const only = c.rateTargets?.[r] ?? c.fixedRateTargets
    plans.push({
      id: SCENARIO.rate(r),
      title: `(b) fixed rate ${r.toLocaleString('en-US')} req/s: open model`,
      spec: open(r), targets: targets.filter((t) => only.includes(t)),
    })
  }
  return plans
}

/** Half the lowest median ceiling among the proxies (direct excluded), rounded down to 100 req/s, at least 100. */
export function halfCeilingRate(ceilings: Map<string, number>): number {
  const proxies = [...ceilings].filter(([t, v]) => t !== 'direct' && Number.isFinite(v) && v > 0).map(([, v]) => v)
  if (proxies.length === 0) return 1000
  return Math.max(100, Math.floor(Math.min(...proxies) / 2 / 100) * 100)
}

/** What a run will do, counted: the input of `estimateSeconds`. */
export interface RunShape {
  /** Targets of the ceiling (every target that runs). */
  targets: TargetId[]
  /** Proxies of the transfers (direct included) and of the slow readers. */
  transferTargets: number
  slowTargets: number
  /** gw processes the topology mix runs through (one per engine). */
  mixEngines: number
  /** Processes profiled (gw targets and peers). */
  profiles: number
}

/** Seconds a measured run costs beyond its warm-up and window: probe and stub calls, the drain (from quick runs: 0.4–0.5 s). */
const PER_RUN_S = 0.45

/**
 * How long a run takes on a quiet machine, in seconds: every measured run (warm-up + window + overhead), the
 * priming pass, the early check, transfers, slow readers, the mix, the soak and the profiles. A busy machine
 * stretches it (re-runs of disturbed runs, slow drains).
 */
export function estimateSeconds(c: TaxConfig, s: RunShape): number {
  const run = (warmupMs: number, durationMs: number): number => warmupMs / 1000 + durationMs / 1000 + PER_RUN_S
  const plans = [ceilingPlan(c, s.targets), ...ratePlans(c, 1000, s.targets)]
  const measured = plans.reduce((n, p) => n + p.targets.length * c.rounds, 0) * run(c.warmupMs, c.durationMs)
  const prime = (s.targets.length * c.primeMs) / 1000
  const early = c.earlyAttempts * s.transferTargets * 0.5
  const t = c.transfer
  const transfers = t.rounds * 2 * s.transferTargets * run(t.warmupMs, t.durationMs)
  const slow = t.slowReaders > 0 ? s.slowTargets * (t.slowMs / 1000 + 0.5) : 0
  const mix = s.mixEngines * c.mixRounds * (run(c.warmupMs, c.mixDurationMs) + 3) // + the large bodies' drain
  const profiles = c.profileMs > 0 ? s.profiles * (c.profileMs / 1000 + 1.5 + 3) : 0
  const startup = 15
  return Math.round(startup + prime + measured + early + transfers + slow + mix + c.soakMs / 1000 + profiles)
}
