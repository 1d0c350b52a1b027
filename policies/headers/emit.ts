// Emit side of `headers`: the edits as constants of the route's head plan (compiler/codegen/head-plan.ts), no stage call.
import type { Emission } from '../../compiler/policy-api.js'
import type { HeadersStageIR } from './check.js'

export function emitHeaders(s: HeadersStageIR): Emission {
  return { edits: { target: s.target, ops: s.ops.map(op => ({ name: op.name, value: op.op === 'set' ? op.value : null })) } }
}
