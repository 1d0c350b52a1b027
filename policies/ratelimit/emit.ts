// Emit side of `ratelimit`: the options its runtime stage is bound with, constants inlined.
import type { Json } from '../../compiler/policy-api.js'
import type { RateLimitStageIR } from './check.js'

export const emitRatelimit = (s: RateLimitStageIR, route: string): Json => ({
  route, id: s.id, key: { ...s.key }, limit: s.limit, windowMs: s.windowMs, burst: s.burst, store: s.store, failOpen: s.failOpen,
})
