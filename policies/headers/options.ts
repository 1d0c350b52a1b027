// The options of a `headers` stage. The compiler emits this stage inline (straight-line calls on the request
// context), so the generated module never calls `stages.headers(…)`; the runtime factory takes the same shape.
import type { StageOptionsBase } from '../../config/stage.js'

/** One edit: `set NAME "value"` or `remove NAME`. */
export interface HeaderOpIR {
  op: 'set' | 'remove'
  /** Lower-case header name. */
  name: string
  value: string | null
}

export interface HeadersOptions extends StageOptionsBase {
  target: 'request' | 'response'
  ops: HeaderOpIR[]
}
