// The runtime's plug-in API: everything a policy's runtime half (policies/<kind>/runtime.ts and the files
// beside it) may use from the runtime, besides the kernel (config/). Policies import nothing else of runtime/.
import type { StageOptionsBase, Stage } from '../config/stage.js'
import type { StageEnv } from '../config/stage-env.js'

export { errorReply, replyWith } from './reply.js'
export { redirectReply } from './respond.js'
export { redisReady, redisHealthOf, redisBounded, REDIS_TIMEOUT, type RedisHealth } from './redis.js'
export { undici } from './lazy-require.js'

/**
 * A policy's runtime half, registered in runtime/policies.ts under its `kind` (the name generated code calls:
 * `stages.<kind>(options)`). Both functions run at load, once per stage of a route, never per request.
 */
export interface RuntimePolicy<O extends StageOptionsBase> {
  readonly kind: string
  /** Does all setup (keys, limiters, metric children) and returns the per-request stage. May throw: the load is refused. */
  create(options: O, env: StageEnv): Stage
  /**
   * How the stage behaves in `gwc test` (no network, a frozen clock, `env.offline` set), when that differs
   * from `create`: e.g. `auth` admits the claims the test case declares instead of verifying a token.
   */
  offline?(options: O, env: StageEnv): Stage
}
