// The runtime half of `cors`: registered in runtime/policies.ts. The stage is stage.ts; `gwc test` runs it as is
// (it needs no network and no clock).
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { CorsOptions } from './options.js'
import { createCorsStage } from './stage.js'

export const policy: RuntimePolicy<CorsOptions> = { kind: 'cors', create: createCorsStage }
