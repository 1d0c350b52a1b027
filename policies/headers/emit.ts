// Emit side of `headers`: straight-line calls on the request context (no stage call), names and values as literals.
import type { Emission } from '../../compiler/policy-api.js'
import type { HeadersStageIR } from './check.js'

export function emitHeaders(s: HeadersStageIR): Emission {
  return {
    inline: s.ops.map(op => {
      if (s.target === 'request') return op.op === 'set' ? { method: 'setRequestHeader', args: [op.name, op.value] } : { method: 'removeRequestHeader', args: [op.name] }
      return op.op === 'set' ? { method: 'setResponseHeader', args: [op.name, op.value] } : { method: 'removeResponseHeader', args: [op.name] }
    }),
  }
}
