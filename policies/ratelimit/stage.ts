// Runtime side of `ratelimit`: picks the key (client ip, user, a claim or a header), asks the local or Redis
// limiter, and answers 429 with Retry-After and the IETF RateLimit-Policy / RateLimit headers
// (draft-ietf-httpapi-ratelimit-headers). A Redis limiter that cannot answer within its bound applies the
// route's policy: fail_open lets the request through, fail_closed answers 503; both are counted.
import type { RequestContext } from '../../config/context.js'
import { CONTINUE, type Continue, type Reply, type Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply, redisBounded, redisHealthOf, redisReady, REDIS_TIMEOUT } from '../../runtime/policy-api.js'
import { gcraParams, type Decision } from './gcra.js'
import { LocalLimiter } from './local.js'
import type { RatelimitOptions } from './options.js'
import { redisKey, redisTake } from './redis.js'

const UNAVAILABLE = errorReply('GW_ERR_RATELIMIT_UNAVAILABLE', ['retry-after', '1'])

export function createRatelimitStage(o: RatelimitOptions, env: StageEnv): Stage {
  const params = gcraParams(o.limit, o.windowMs, o.burst)
  const windowS = Math.max(1, Math.round(o.windowMs / 1000))
  const policyName = o.key.kind === 'header' ? 'header' : o.key.kind === 'claim' ? 'claim' : o.key.kind
  const policyHeader = `"${policyName}";q=${o.limit + o.burst};w=${windowS}`
  const rejected = env.metrics.rejects('ratelimit', o.route, '429')
  const storeErrors = env.metrics.counter('gw_ratelimit_store_errors_total', 'Rate-limit decisions Redis could not make in time, by route and the policy applied', ['route', 'policy'])
    .child(o.route, o.failOpen ? 'fail_open' : 'fail_closed')
  const failClosed = env.metrics.rejects('ratelimit', o.route, '503')

  // A header the gateway sets from verified claims is read from what `auth` established, never from the
  // client's copy (which is spoofable and is stripped before proxying anyway).
  const identityHeader = o.key.kind === 'header' && env.identityHeaders.has(o.key.header)
  const keyOf = (ctx: RequestContext): string => { // HOT PATH
    if (identityHeader) {
      const id = ctx.state.identity
      if (id !== null) for (let i = 0; i < id.length; i++) if (id[i].header === (o.key as { header: string }).header) return id[i].value
      return ''
    }
    switch (o.key.kind) {
      case 'ip': return ctx.clientIp
      case 'user': { const s = ctx.state.claims?.sub; return typeof s === 'string' ? s : '' }
      case 'consumer': return ctx.state.consumer ?? ''
      case 'claim': { const v = ctx.state.claims?.[o.key.claim]; return v === undefined ? '' : String(v) }
      case 'header': { const v = ctx.req.headers[o.key.header]; return v === undefined ? '' : Array.isArray(v) ? v.join(',') : v }
    }
  }

  const tooMany = (d: Decision): Reply => {
    rejected.inc()
    const retry = Math.max(1, Math.ceil(d.retryAfterMs / 1000))
    return errorReply('GW_ERR_RATE_LIMITED', [
      'retry-after', String(retry),
      'ratelimit-policy', policyHeader,
      'ratelimit', `"${policyName}";r=0;t=${retry}`,
    ])
  }

  if (o.store === 'local') {
    // Limiter state survives reloads as long as the limiter's identity (route, key, limit, window, burst) does.
    const limiter = env.shared(`rl:local:${o.id}`, () => new LocalLimiter(params, o.windowMs))
    const d: Decision = { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 }
    const now = env.now
    return function ratelimit(ctx) { // HOT PATH: synchronous
      limiter.take(keyOf(ctx), now(), d)
      return d.allowed ? CONTINUE : tooMany(d)
    }
  }

  const redis = env.redis
  if (redis === null) throw new Error(`route ${JSON.stringify(o.route)} has a redis rate limit, but no redisUrl is configured (--redis)`)
  env.warmups.push(redisReady(redis, 2000))
  const bound = env.settings.redisTimeoutMs
  // Tells the shared tracker whether Redis answered, so an outage is logged once when it starts and ends.
  const health = redisHealthOf(redis)
  const onStoreError = (): Continue | Reply => { storeErrors.inc(); if (o.failOpen) return CONTINUE; failClosed.inc(); return UNAVAILABLE }
  return function ratelimitRedis(ctx) {
    const d: Decision = { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 }
    // Bounded by the Redis command timeout and by what is left of the route's deadline.
    const left = ctx.deadline - performance.now()
    if (left <= 0) return onStoreError()
    return redisBounded(health, Math.min(bound, left), () => redisTake(redis, redisKey(o.id, keyOf(ctx)), params, d)).then(
      r => (r === REDIS_TIMEOUT ? onStoreError() : d.allowed ? CONTINUE : tooMany(d)),
      onStoreError,
    )
  }
}
