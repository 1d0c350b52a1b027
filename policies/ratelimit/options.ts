// What the generated module passes to `stages.ratelimit(…)`. Shared by both halves of the policy.
import type { StageOptionsBase } from '../../config/stage.js'

/** What a limiter counts by: `ratelimit by ip|user|consumer|claim NAME|header NAME`. */
export type RateLimitKeyIR =
  | { kind: 'ip' }
  | { kind: 'user' }
  | { kind: 'consumer' }
  | { kind: 'claim'; claim: string }
  | { kind: 'header'; header: string }

export interface RatelimitOptions extends StageOptionsBase {
  /**
   * Stable identity of this limiter, the key namespace in memory and in Redis: route, key kind, limit, window and
   * burst (`pay:ip:100/1000ms`, limiterId in check.ts), never its position, so stages added around it keep its counters.
   */
  id: string
  key: RateLimitKeyIR
  /** Requests allowed per window (the sustained rate is limit / windowMs). */
  limit: number
  windowMs: number
  /** Extra requests allowed in a burst above the sustained rate. */
  burst: number
  store: 'local' | 'redis'
  /** What happens when the store cannot answer in time: true = let the request through. */
  failOpen: boolean
}
