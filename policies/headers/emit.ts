// Emit side of `headers`: straight-line calls on the request context, names and values as literals.
import type { HeadersStageIR } from '../../config/ir.js'
import { js, type Code } from '../../compiler/codegen/js.js'

export function emitHeaders(s: HeadersStageIR): Code[] {
  return s.ops.map(op => {
    if (s.target === 'request') return op.op === 'set' ? js`ctx.setRequestHeader(${op.name}, ${op.value})` : js`ctx.removeRequestHeader(${op.name})`
    return op.op === 'set' ? js`ctx.setResponseHeader(${op.name}, ${op.value})` : js`ctx.removeResponseHeader(${op.name})`
  })
}
