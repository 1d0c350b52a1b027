// What the generated module passes to `stages.ratelimit(…)`. Shared by both halves of the policy.
import type { RateLimitKeyIR } from '../../config/ir.js'
import type { StageOptionsBase } from '../../config/stage.js'

export interface RatelimitOptions extends StageOptionsBase {
  /** The limiter's identity: the name of its key space in memory and in Redis (see limiterId in check.ts). */
  id: string
  key: RateLimitKeyIR
  limit: number
  windowMs: number
  burst: number
  store: 'local' | 'redis'
  failOpen: boolean
}
