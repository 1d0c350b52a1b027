// The runtime half of `headers`: registered in runtime/policies.ts. The compiler emits this stage as a head plan
// (runtime/head-plan.ts: `ctx.requestPlan(reqHead0)`, the edits precomputed), so generated code never calls this
// factory; it is the stage's meaning as context calls, for anything that builds stages from options. The edits
// themselves are applied where headers are made (runtime/headers.ts).
import { CONTINUE, type Stage } from '../../config/stage.js'
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { HeadersOptions } from './options.js'

export function createHeadersStage(o: HeadersOptions): Stage {
  const ops = o.ops.map(op => ({ name: op.name, value: op.op === 'set' ? op.value : null }))
  const request = o.target === 'request'
  return function headers(ctx) {
    for (const { name, value } of ops) {
      if (request) { if (value === null) ctx.removeRequestHeader(name); else ctx.setRequestHeader(name, value) }
      else if (value === null) ctx.removeResponseHeader(name)
      else ctx.setResponseHeader(name, value)
    }
    return CONTINUE
  }
}

export const policy: RuntimePolicy<HeadersOptions> = { kind: 'headers', create: createHeadersStage }
