// The options of a `headers` stage. The compiler emits this stage inline (straight-line calls on the request
// context), so the generated module never calls `stages.headers(…)`; the runtime factory takes the same shape.
import type { HeaderOpIR } from '../../config/ir.js'
import type { StageOptionsBase } from '../../config/stage.js'

export interface HeadersOptions extends StageOptionsBase {
  target: 'request' | 'response'
  ops: HeaderOpIR[]
}
