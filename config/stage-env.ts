// What a stage factory gets from the runtime at load: settings, metric children, a logger, the clock, state that
// outlives one bundle (JWKS caches, limiter counters) so a reload does not reset it, and the Redis client.
import type { Logger } from 'pino'
import type { RequestContext } from './context.js'
import type { DeclarationIR } from './ir.js'
import type { Settings } from './settings.js'

export interface CounterChild { inc(n?: number): void }
export interface GaugeChild { set(v: number): void; inc(n?: number): void; dec(n?: number): void }
/** A metric with labels; children are bound at load (`child('route-a', '429')`), never per request. */
export interface LabelledMetric<C> { child(...values: string[]): C }

export interface StageMetrics {
  /** `gw_stage_rejects_total{stage, route, code}`: requests a stage answered itself. */
  rejects(stage: string, route: string, code: string): CounterChild
  /** A counter a policy owns (`gw_<area>_<thing>_total`): registered once per process, kept across reloads. */
  counter(name: string, help: string, labels: readonly string[]): LabelledMetric<CounterChild>
  /** A gauge a policy owns; `aggregator` says how the cluster primary combines workers' values (sum, max, min). */
  gauge(name: string, help: string, labels: readonly string[], aggregator?: string): LabelledMetric<GaugeChild>
}

/** The part of the Redis client (ioredis) a stage may use. */
export interface RedisLike {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  script(sub: 'LOAD', script: string): Promise<unknown>
  readonly status: string
  quit(): Promise<unknown>
  disconnect(): void
}

/** What `gwc test` tells offline stages about the case being run (null in the gateway). */
export interface OfflineCase {
  /** Claims of the verified token the case declares (`as:`), or undefined when it declares none. */
  claims(ctx: RequestContext): Record<string, unknown> | undefined
  /** The consumer of the verified API key the case declares (`consumer:`), or undefined when it declares none. */
  consumer(ctx: RequestContext): string | undefined
}

export interface StageEnv {
  settings: Settings
  metrics: StageMetrics
  log: Logger
  /** Wall-clock ms (Date.now in the gateway, a frozen clock in `gwc test`). Bind it at load: `const now = env.now`. */
  now: () => number
  /** The policies' declarations of the bundle being loaded (`jwt NAME { … }`, …), by name. */
  declarations: ReadonlyMap<string, DeclarationIR>
  /** Lower-case headers the gateway sets from what a stage verified (identity headers, BundleIR.identityHeaders). */
  identityHeaders: ReadonlySet<string>
  /**
   * State shared across reloads: returns the value stored under `key`, creating it when absent. Keys must
   * encode everything the state depends on (a changed limit gets a new key, hence fresh state). A value with
   * a `stop()` is stopped when no live bundle uses its key any more.
   */
  shared<T>(key: string, create: () => T): T
  /** The Redis client, or null when no redisUrl is configured. */
  redis: RedisLike | null
  /** Work a load must finish before the bundle goes live (e.g. first JWKS fetch), bounded by the loader. */
  warmups: Promise<unknown>[]
  /** Set only in `gwc test`: the case being run. */
  offline: OfflineCase | null
}
