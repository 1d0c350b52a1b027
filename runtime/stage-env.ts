// Builds the stage environment (config/stage-env.ts) a bundle's stage factories get at load: the gateway's
// settings, logger and Redis client, metric children from its registry, and the state shared across reloads.
// The gateway, `gwc test` and the benchmarks all build it here.
import type { Logger } from 'pino'
import type { BundleIR } from '../config/ir.js'
import type { Settings } from '../config/settings.js'
import type { OfflineCase, RedisLike, StageEnv, StageMetrics } from '../config/stage-env.js'
import { FastCounter, FastGauge, type GatewayMetrics } from './metrics.js'

export type { StageEnv } from '../config/stage-env.js'

/**
 * Stage metrics over the gateway's registry. A policy's own metric is registered once and stored under
 * `metric:<name>` in the shared state, so a reload reuses it (and its children's counts).
 */
export function stageMetrics(gm: GatewayMetrics, shared: StageEnv['shared']): StageMetrics {
  return {
    rejects: (stage, route, code) => gm.stageRejects.child(stage, route, code),
    counter: (name, help, labels) => shared(`metric:${name}`, () => gm.add(new FastCounter(name, help, labels))),
    gauge: (name, help, labels, aggregator) => shared(`metric:${name}`, () => gm.add(new FastGauge(name, help, labels, aggregator))),
  }
}

export interface StageEnvOptions {
  settings: Settings
  metrics: GatewayMetrics
  log: Logger
  redis: RedisLike | null
  shared: StageEnv['shared']
  /** Wall clock; Date.now unless a test freezes it. */
  now?: () => number
  offline?: OfflineCase | null
}

/** The environment for loading `ir`'s stages (a fresh one per load: its warmups belong to that load). */
export function createStageEnv(ir: Pick<BundleIR, 'declarations' | 'identityHeaders'>, o: StageEnvOptions): StageEnv {
  return {
    settings: o.settings,
    metrics: stageMetrics(o.metrics, o.shared),
    log: o.log,
    now: o.now ?? Date.now,
    declarations: new Map(ir.declarations.map(p => [p.name, p])),
    identityHeaders: new Set(ir.identityHeaders),
    shared: o.shared,
    redis: o.redis,
    warmups: [],
    offline: o.offline ?? null,
  }
}
