// Emit side of `ratelimit`: the options its runtime stage is bound with, constants inlined.
import type { RateLimitStageIR } from '../../config/ir.js'
import type { Json } from '../../compiler/codegen/js.js'

export const emitRatelimit = (s: RateLimitStageIR, route: string): Json => ({
  route, id: s.id, key: { ...s.key }, limit: s.limit, windowMs: s.windowMs, burst: s.burst, store: s.store, failOpen: s.failOpen,
})
