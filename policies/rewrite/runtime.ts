// The runtime half of `rewrite`: registered in runtime/policies.ts; the stage is stage.ts.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { RewriteOptions } from './options.js'
import { createRewriteStage } from './stage.js'

export const policy: RuntimePolicy<RewriteOptions> = { kind: 'rewrite', create: createRewriteStage }
