// Runtime side of `auth` with a `keys` provider: the request presents an API key in a header or a query
// parameter; the key's SHA-256 is looked up among the keys file's hashes (keys-file.ts). Missing, duplicate,
// malformed or unknown keys get the same 401 as any auth failure. The consumer id goes to ctx.state.consumer
// (`ratelimit by consumer`) and, when the provider forwards it, upstream as an identity header.
//
// Timing: the presented key is hashed first and the hash is what is compared (a Map lookup), so how long a
// lookup takes depends on the hash of the guess, never on how many leading bytes of a real key it shares: to
// steer a guess's hash towards a stored one an attacker would have to invert SHA-256.
import type { RequestContext } from '../../config/context.js'
import { queryParam } from '../../config/query.js'
import { CONTINUE, type Continue, type Reply, type Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply, redisBounded, redisHealthOf, redisReady, REDIS_TIMEOUT } from '../../runtime/policy-api.js'
import type { IdentityHeader } from '../../config/context.js'
import type { RedisLike } from '../../config/stage-env.js'
import { createHash } from 'node:crypto'
import { CONSUMER_ID, KeysFile, keyHash } from './keys-file.js'
import type { KeysProviderIR } from './options.js'

const MISSING = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'ApiKey'])
const INVALID = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'ApiKey error="invalid_key"'])
/** Longest key looked up: anything longer is refused before hashing. */
const MAX_KEY = 512

/**
 * The value of header `name` (lower-case) from the raw header list: undefined when absent, null when sent more
 * than once (Node would join some duplicates with `, ` and silently drop others, such as a second
 * Authorization). HOT PATH: lower-cases only names of the right length.
 */
export function singleHeader(raw: readonly string[], name: string): string | null | undefined {
  let v: string | undefined
  const len = name.length
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]
    if (n.length === len && n.toLowerCase() === name) {
      if (v !== undefined) return null
      v = raw[i + 1]
    }
  }
  return v
}

/** How a request presents a provider's key: its value, undefined (absent) or null (duplicate, undecodable). */
export function keyReader(p: KeysProviderIR): (ctx: RequestContext) => string | null | undefined {
  const name = p.key.name
  return p.key.in === 'header' ? ctx => singleHeader(ctx.req.rawHeaders, name) : ctx => queryParam(ctx.query, name)
}

export function keysFileOf(p: KeysProviderIR & { store: { kind: 'file' } }, env: StageEnv): KeysFile {
  const path = p.store.path
  const key = `keys:${path}\0${p.forwardConsumer ?? ''}`
  let created = false
  const f = env.shared(key, () => { created = true; return new KeysFile(path, p.forwardConsumer, env.log) })
  // a bundle load re-reads the file (a broken file refuses the bundle; the old one keeps serving)
  if (!created) f.reloadNow()
  return f
}

export function createKeysStage(route: string, p: KeysProviderIR, env: StageEnv): Stage {
  if (p.store.kind === 'redis') return createRedisKeysStage(route, p as KeysProviderIR & { store: { kind: 'redis' } }, env)
  const file = keysFileOf(p as KeysProviderIR & { store: { kind: 'file' } }, env)
  const read = keyReader(p)
  const r401 = env.metrics.rejects('auth', route, '401')
  return function auth(ctx: RequestContext): Continue | Reply { // HOT PATH: synchronous
    const key = read(ctx)
    if (key === undefined) { r401.inc(); return MISSING }
    if (key === null || key.length === 0 || key.length > MAX_KEY) { r401.inc(); return INVALID }
    const e = file.lookup(key)
    if (e === undefined) { r401.inc(); return INVALID }
    ctx.state.consumer = e.consumer
    if (e.identity !== null) ctx.state.identity = e.identity
    return CONTINUE
  }
}

/** KEYS[1] = the hash; ARGV[1] = the key's SHA-256 (hex). Returns the consumer id or nil. */
const HGET_LUA = "return redis.call('HGET', KEYS[1], ARGV[1])"
const HGET_SHA = createHash('sha1').update(HGET_LUA).digest('hex')
/** Redis did not answer in time: whether the key is valid cannot be known (not the client's fault). */
const UNAVAILABLE = errorReply('GW_ERR_AUTH_UNAVAILABLE', ['retry-after', '1'])
/** Identity headers made per consumer as they are first seen (bounded; cleared when full). */
const IDENTITY_CACHE_MAX = 10_000

async function hget(r: RedisLike, hash: string, field: string): Promise<unknown> {
  try { return await r.evalsha(HGET_SHA, 1, hash, field) } catch (e) {
    if (!String((e as Error).message).includes('NOSCRIPT')) throw e
    return r.eval(HGET_LUA, 1, hash, field)
  }
}

/**
 * Keys in a Redis hash (field: the key's SHA-256 hex, value: the consumer id), shared by a fleet: adding or
 * removing a field takes effect on the next request, on every gateway. One HGET per request, bounded by the
 * Redis timeout and the route's deadline; no answer in time is 503 auth_unavailable (fail closed: a key that
 * cannot be checked is not let in).
 */
function createRedisKeysStage(route: string, p: KeysProviderIR & { store: { kind: 'redis' } }, env: StageEnv): Stage {
  const redis = env.redis
  if (redis === null) throw new Error(`auth of route ${JSON.stringify(route)} reads keys from Redis (keys ${JSON.stringify(p.name)}), but no redisUrl is configured (--redis)`)
  env.warmups.push(redisReady(redis, 2000))
  const health = redisHealthOf(redis)
  const hash = p.store.hash
  const read = keyReader(p)
  const forward = p.forwardConsumer
  const identities = new Map<string, IdentityHeader[]>()
  const bound = env.settings.redisTimeoutMs
  const r401 = env.metrics.rejects('auth', route, '401')
  const r503 = env.metrics.rejects('auth', route, '503')
  const admit = (ctx: RequestContext, consumer: string): Continue | Reply => {
    ctx.state.consumer = consumer
    if (forward !== null) {
      let id = identities.get(consumer)
      if (id === undefined) {
        if (identities.size >= IDENTITY_CACHE_MAX) identities.clear()
        identities.set(consumer, id = [{ header: forward, value: consumer }])
      }
      ctx.state.identity = id
    }
    return CONTINUE
  }
  return function auth(ctx: RequestContext): Continue | Reply | Promise<Continue | Reply> { // HOT PATH
    const key = read(ctx)
    if (key === undefined) { r401.inc(); return MISSING }
    if (key === null || key.length === 0 || key.length > MAX_KEY) { r401.inc(); return INVALID }
    const left = ctx.deadline - performance.now()
    if (left <= 0) { r503.inc(); return UNAVAILABLE }
    return redisBounded(health, Math.min(bound, left), () => hget(redis, hash, keyHash(key))).then(
      v => {
        if (v === REDIS_TIMEOUT) { r503.inc(); return UNAVAILABLE }
        // a value that is not a consumer id (set by hand) is refused like an unknown key
        if (typeof v !== 'string' || !CONSUMER_ID.test(v)) { r401.inc(); return INVALID }
        return admit(ctx, v)
      },
      () => { r503.inc(); return UNAVAILABLE },
    )
  }
}

/**
 * A `keys` provider in `gwc test`: the case stands in for the key store (file or Redis), as it stands in for the
 * IdP with `as:`. A request presenting a key (any value) in a case that declares `consumer:` passes with that
 * consumer; without `consumer:` it is refused as the gateway refuses an unknown key. The key's place, the
 * refusals of missing and duplicate keys, the consumer's identity header and the key's removal upstream are
 * the gateway's own.
 */
export function createOfflineKeysStage(_route: string, p: KeysProviderIR, env: StageEnv): Stage {
  const offline = env.offline
  if (offline === null) throw new Error('the offline keys stage runs only under `gwc test`')
  const read = keyReader(p)
  const forward = p.forwardConsumer
  return function auth(ctx: RequestContext): Continue | Reply {
    const key = read(ctx)
    if (key === undefined) return MISSING
    const consumer = offline.consumer(ctx)
    if (key === null || key.length === 0 || key.length > MAX_KEY || consumer === undefined) return INVALID
    ctx.state.consumer = consumer
    if (forward !== null) ctx.state.identity = [{ header: forward, value: consumer }]
    return CONTINUE
  }
}
