// The runtime half of `ratelimit`: registered in runtime/policies.ts. The stage is in stage.ts; the GCRA and
// its two stores (in memory, Redis) in gcra.ts, local.ts and redis.ts.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { RatelimitOptions } from './options.js'
import { createRatelimitStage } from './stage.js'

export const policy: RuntimePolicy<RatelimitOptions> = {
  kind: 'ratelimit',
  create: createRatelimitStage,
  // `gwc test` has no Redis: a shared limit is counted in memory, on the test's frozen clock, which for one
  // process decides exactly as the Redis script does.
  offline: (o, env) => createRatelimitStage({ ...o, store: 'local' }, env),
}
