// Emit side of `auth`: the options its runtime stage is bound with, constants inlined.
import type { AuthStageIR } from '../../config/ir.js'
import type { Json } from '../../compiler/codegen/js.js'

export const emitAuth = (s: AuthStageIR, route: string): Json => ({ route, provider: s.provider, audience: s.audience })
