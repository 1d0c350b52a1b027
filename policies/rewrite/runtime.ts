// The runtime half of `rewrite`: registered in runtime/policies.ts. Path rewrites are a stage (stage.ts);
// `rewrite host …` is emitted inline as `ctx.setUpstreamHost(…)` and made by the same factory for anything
// that builds stages from options.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { RewriteOptions } from './options.js'
import { createRewriteStage } from './stage.js'

export const policy: RuntimePolicy<RewriteOptions> = { kind: 'rewrite', create: createRewriteStage }
