// Compile side of the circuit breaker: `breaker error_ratio 50% min_requests 20 window 10s open_for 5s`.
import type { OptionsStmt } from '../../grammar/ast.js'
import type { BreakerIR } from '../../config/ir.js'
import type { CheckContext } from './context.js'
import { optNum, readOptions } from '../values.js'

export const BREAKER_DEFAULTS: BreakerIR = { errorRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5_000, halfOpenProbes: 3 }

const SCHEMA = {
  error_ratio: { kind: 'percent', range: { min: 0.01, max: 1 } },
  min_requests: { kind: 'count', range: { min: 1, max: 1_000_000 } },
  window: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
  open_for: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
  half_open: { kind: 'count', range: { min: 1, max: 1000 } },
} as const

export function checkBreaker(ctx: CheckContext, s: OptionsStmt): BreakerIR {
  const o = readOptions(s.options, SCHEMA, '`breaker`', ctx.d)
  return {
    errorRatio: optNum(o, 'error_ratio') ?? BREAKER_DEFAULTS.errorRatio,
    minRequests: optNum(o, 'min_requests') ?? BREAKER_DEFAULTS.minRequests,
    windowMs: optNum(o, 'window') ?? BREAKER_DEFAULTS.windowMs,
    openMs: optNum(o, 'open_for') ?? BREAKER_DEFAULTS.openMs,
    halfOpenProbes: optNum(o, 'half_open') ?? BREAKER_DEFAULTS.halfOpenProbes,
  }
}
