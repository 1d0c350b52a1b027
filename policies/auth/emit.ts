// Emit side of `auth`: the options its runtime stage is bound with, constants inlined.
import type { Json } from '../../compiler/policy-api.js'
import type { AuthStageIR } from './check.js'

export const emitAuth = (s: AuthStageIR, route: string): Json =>
  (s.or === undefined ? { route, provider: s.provider, audience: s.audience } : { route, provider: s.provider, or: s.or, audience: s.audience })
