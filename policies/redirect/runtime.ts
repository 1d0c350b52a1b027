// The runtime half of `redirect https`: registered in runtime/policies.ts.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { RedirectOptions } from './options.js'
import { createRedirectStage } from './stage.js'

export const policy: RuntimePolicy<RedirectOptions> = { kind: 'redirect', create: createRedirectStage }
