// What stage factories get from the runtime: settings, metrics, logger, and state that outlives one bundle
// (JWKS caches, rate-limit counters, the Redis connection) so a reload does not reset it.
import type { Logger } from 'pino'
import type { JwtProviderIR } from '../config/ir.js'
import type { Settings } from '../config/settings.js'
import type { GatewayMetrics } from './metrics.js'
import type { RedisLike } from './redis.js'

export interface StageEnv {
  settings: Settings
  metrics: GatewayMetrics
  log: Logger
  /** Identity providers of the bundle being loaded, by name. */
  providers: ReadonlyMap<string, JwtProviderIR>
  /**
   * State shared across reloads: returns the value stored under `key`, creating it when absent. Keys must
   * encode everything the state depends on (a changed limit gets a new key, hence fresh state).
   */
  shared<T>(key: string, create: () => T): T
  /** The Redis client, or null when no redisUrl is configured. */
  redis: RedisLike | null
  /** Work a load must finish before the bundle goes live (e.g. first JWKS fetch), bounded by the loader. */
  warmups: Promise<unknown>[]
}
