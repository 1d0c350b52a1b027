// test/policies/ratelimit-stage.test.ts: the `ratelimit` stage in-process, with exact answers: which requests of
// a key are limited, the 429's Retry-After / RateLimit-Policy / RateLimit headers, the key each kind reads (ip,
// user, claim, header, a header the gateway sets from verified claims), state shared by identity, and the Redis
// limiter against a real redis-server: the same decisions through the script (also after SCRIPT FLUSH), bounded
// keys, and fail_open / fail_closed when Redis cannot answer in time. The mutation run (area policies) runs this
// first for policies/ratelimit/stage.ts, redis.ts and runtime.ts; ratelimit-local and ratelimit-redis test the same through
// gateways. The Redis part is skipped when redis-server is not installed.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { CONTINUE } from '../../config/stage.js'
import { gcraParams, type Decision } from '../../policies/ratelimit/gcra.js'
import { redisKey, redisTake } from '../../policies/ratelimit/redis.js'
import { createRedis, redisReady, type RedisLike } from '../../runtime/redis.js'
import type { Reply } from '../../runtime/reply.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { ctx, decide, envWith, LIMITED, stage, statuses } from '../helpers/ratelimit-stage.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
let redis: TestRedis | undefined
let client: Redis | undefined
let admin: Redis | undefined
before(async () => {
  if (skip) return
  redis = await startRedis()
  client = createRedis(redis.url, 5000, pino({ level: 'silent' }))   // generous: this machine may be loaded
  admin = new Redis(redis.url)
  await redisReady(client, 5000)
})
after(async () => {
  client?.disconnect()
  admin?.disconnect()
  await redis?.stop()
})

const limited = (name: string, q: number, w: number, retry: number) =>
  ({ code: LIMITED, headers: ['retry-after', String(retry), 'ratelimit-policy', `"${name}";q=${q};w=${w}`, 'ratelimit', `"${name}";r=0;t=${retry}`] })
const replyOf = (r: unknown) => { assert.notEqual(r, CONTINUE); const x = r as Reply; return { code: x.code, headers: x.headers } }

test('local: the limit per key, and the 429 naming the wait, the quota and the window', async () => {
  const s = stage({ limit: 2, windowMs: 60_000 })
  assert.deepEqual(await statuses(s.rl, [ctx(), ctx()]), ['ok', 'ok'])
  assert.deepEqual(replyOf(await decide(s.rl, ctx())), limited('ip', 2, 60, 30), '2 per minute: the next slot is 30 s away')
  assert.deepEqual(await statuses(s.rl, [ctx({ clientIp: '192.0.2.2' })]), ['ok'], 'another address has its own bucket')
  assert.equal(await s.count('gw_stage_rejects_total', { stage: 'ratelimit', route: 'api', code: '429' }), 1)
})

test('local: burst adds to the bucket and to the quota; the window is advertised in whole seconds (at least 1)', async () => {
  const b = stage({ limit: 1, windowMs: 60_000, burst: 2 })
  assert.deepEqual(await statuses(b.rl, [ctx(), ctx(), ctx()]), ['ok', 'ok', 'ok'])
  assert.deepEqual(replyOf(await decide(b.rl, ctx())), limited('ip', 3, 60, 60))
  const w = stage({ limit: 1, windowMs: 1500 })
  await decide(w.rl, ctx())
  assert.deepEqual(replyOf(await decide(w.rl, ctx())), limited('ip', 1, 2, 2))
  const short = stage({ limit: 1, windowMs: 400 })
  await decide(short.rl, ctx())
  assert.deepEqual(replyOf(await decide(short.rl, ctx())), limited('ip', 1, 1, 1))
})

test('the key each kind counts by', async () => {
  const claims = (c: Record<string, unknown> | null) => ({ claims: c, identity: null })
  const user = stage({ limit: 1, windowMs: 60_000, key: { kind: 'user' } })
  assert.deepEqual(await statuses(user.rl, [ctx({ state: claims({ sub: 'alice' }) }), ctx({ state: claims({ sub: 'bob' }) }), ctx({ state: claims({ sub: 'alice' }) })]), ['ok', 'ok', LIMITED])
  assert.deepEqual(replyOf(await decide(user.rl, ctx({ state: claims({ sub: 'alice' }) }))).headers[3], '"user";q=1;w=60')
  // no subject, or one that is not a string: one shared '' bucket
  assert.deepEqual(await statuses(user.rl, [ctx({ state: claims({ sub: 7 }) }), ctx({ state: claims(null) })]), ['ok', LIMITED])

  const claim = stage({ limit: 1, windowMs: 60_000, key: { kind: 'claim', claim: 'tid' } })
  assert.deepEqual(await statuses(claim.rl, [ctx({ state: claims({ tid: 'acme' }) }), ctx({ state: claims({ tid: 'globex' }) }), ctx({ state: claims({ tid: 'acme' }) })]), ['ok', 'ok', LIMITED])
  assert.deepEqual(await statuses(claim.rl, [ctx({ state: claims({ tid: 5 }) }), ctx({ state: claims({ tid: '5' }) })]), ['ok', LIMITED], 'a number claim counts as its text')
  assert.deepEqual(await statuses(claim.rl, [ctx({ state: claims({}) }), ctx({ state: claims(null) })]), ['ok', LIMITED], 'missing: the shared empty key')
  assert.equal(replyOf(await decide(claim.rl, ctx({ state: claims({ tid: 'acme' }) }))).headers[3], '"claim";q=1;w=60')

  const header = stage({ limit: 1, windowMs: 60_000, key: { kind: 'header', header: 'x-api-key' } })
  assert.deepEqual(await statuses(header.rl, [ctx({ headers: { 'x-api-key': 'a' } }), ctx({ headers: { 'x-api-key': 'b' } }), ctx({ headers: { 'x-api-key': 'a' } })]), ['ok', 'ok', LIMITED])
  assert.deepEqual(await statuses(header.rl, [ctx({ headers: { 'x-api-key': ['c', 'd'] } }), ctx({ headers: { 'x-api-key': 'c,d' } })]), ['ok', LIMITED], 'repeated headers joined with commas')
  assert.deepEqual(await statuses(header.rl, [ctx(), ctx({ headers: { 'x-api-key': '' } })]), ['ok', LIMITED], 'missing: the shared empty key')
  assert.equal(replyOf(await decide(header.rl, ctx({ headers: { 'x-api-key': 'a' } }))).headers[3], '"header";q=1;w=60')

  const ip = stage({ limit: 1, windowMs: 60_000 })
  assert.deepEqual(await statuses(ip.rl, [ctx({ clientIp: '10.0.0.1', headers: { 'x-forwarded-for': '1.1.1.1' } }), ctx({ clientIp: '10.0.0.1', headers: { 'x-forwarded-for': '2.2.2.2' } })]), ['ok', LIMITED])
})

test('a header the gateway sets from verified claims is counted by the verified value, never the client\'s copy', async () => {
  const provider = { name: 'idp', forward: [{ claim: 'tid', header: 'x-tenant' }] } as unknown as JwtProviderIR
  const s = stage({ limit: 1, windowMs: 60_000, key: { kind: 'header', header: 'x-tenant' } }, envWith({ providers: [provider] }))
  const who = (tenant: string | null, spoof?: string) =>
    ctx({ headers: spoof === undefined ? {} : { 'x-tenant': spoof }, state: { claims: {}, identity: tenant === null ? null : [{ header: 'x-other', value: 'z' }, { header: 'x-tenant', value: tenant }] } })
  assert.deepEqual(await statuses(s.rl, [who('acme', 'one'), who('acme', 'two'), who('globex', 'one')]), ['ok', LIMITED, 'ok'])
  // no identity (not authenticated), or one without that header: the shared empty key, whatever the client sends
  assert.deepEqual(await statuses(s.rl, [who(null, 'x'), who(null, 'y')]), ['ok', LIMITED])
  const t = ctx({ headers: { 'x-tenant': 'z' }, state: { claims: {}, identity: [{ header: 'x-other', value: 'z' }] } })
  assert.deepEqual(await statuses(s.rl, [t]), [LIMITED])
  // a header no provider forwards is the client's own
  const plain = stage({ limit: 1, windowMs: 60_000, key: { kind: 'header', header: 'x-client' } }, envWith({ providers: [provider] }))
  assert.deepEqual(await statuses(plain.rl, [ctx({ headers: { 'x-client': 'a' } }), ctx({ headers: { 'x-client': 'b' } })]), ['ok', 'ok'])
})

test('limiter state belongs to the limiter identity: the same id shares it (a reload), another id starts fresh', async () => {
  const shared = new Map<string, unknown>()
  const a = stage({ id: 'api:ip:1/60000ms', limit: 1, windowMs: 60_000 }, envWith({ shared }))
  const again = stage({ id: 'api:ip:1/60000ms', limit: 1, windowMs: 60_000 }, envWith({ shared }))
  const other = stage({ id: 'api:ip:2/60000ms', limit: 1, windowMs: 60_000 }, envWith({ shared }))
  assert.deepEqual(await statuses(a.rl, [ctx()]), ['ok'])
  assert.deepEqual(await statuses(again.rl, [ctx()]), [LIMITED])
  assert.deepEqual(await statuses(other.rl, [ctx()]), ['ok'])
})

test('redis: a redis limit without a Redis connection is refused at load', () => {
  assert.throws(() => stage({ route: 'orders', limit: 1, windowMs: 1000, store: 'redis' }), { message: 'route "orders" has a redis rate limit, but no redisUrl is configured (--redis)' })
})

test('redis: the script\'s decisions, exact, and the key it keeps', { skip }, async () => {
  const p = gcraParams(3, 60_000, 0)
  const bucket = redisKey('lim', 'alice')
  assert.equal(bucket, 'gwp:rl:{lim}:alice')
  const d: Decision = { allowed: false, remaining: -1, retryAfterMs: -1, resetMs: -1 }
  await redisTake(client!, bucket, p, d)
  assert.deepEqual(d, { allowed: true, remaining: 2, retryAfterMs: 0, resetMs: 20_000 })
  const ttl = await admin!.pttl(bucket)
  assert.ok(ttl > 19_000 && ttl <= 21_000, `the key expires when the bucket is full again (+1 s): ${ttl} ms`)
  await redisTake(client!, bucket, p, d)
  assert.equal(d.allowed, true)
  assert.equal(d.remaining, 1)
  assert.ok(d.resetMs > 39_000 && d.resetMs <= 40_000, String(d.resetMs))
  await redisTake(client!, bucket, p, d)
  assert.equal(d.remaining, 0)
  await redisTake(client!, bucket, p, d)
  assert.equal(d.allowed, false)
  assert.equal(d.remaining, 0)
  assert.ok(d.retryAfterMs > 19_000 && d.retryAfterMs <= 20_000, String(d.retryAfterMs))
  assert.ok(d.resetMs > 59_000 && d.resetMs <= 60_000, String(d.resetMs))
  // the script is loaded again when Redis forgot it (a restart, SCRIPT FLUSH)
  await admin!.script('FLUSH')
  const e: Decision = { allowed: false, remaining: -1, retryAfterMs: -1, resetMs: -1 }
  await redisTake(client!, redisKey('lim', 'bob'), p, e)
  assert.deepEqual(e, { allowed: true, remaining: 2, retryAfterMs: 0, resetMs: 20_000 })
})

test('redis: one script call per decision once Redis has the script', { skip }, async () => {
  const p = gcraParams(100, 1000, 0)
  await redisTake(client!, redisKey('calls', 'warm'), p, { allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0 })   // loads it if needed
  await admin!.config('RESETSTAT')
  for (let i = 0; i < 3; i++) await redisTake(client!, redisKey('calls', 'k'), p, { allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0 })
  const stats = String(await admin!.info('commandstats'))
  const calls = (cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0)
  assert.equal(calls('evalsha'), 3, stats)
  assert.equal(calls('eval'), 0, 'the script is called by its SHA-1, not sent again')
})

test('redis: only NOSCRIPT sends the script again; any other failure is the caller\'s (no second command)', async () => {
  const sent: string[] = []
  const failing = (message: string) => ({
    evalsha: async () => { sent.push('evalsha'); throw new Error(message) },
    eval: async () => { sent.push('eval'); return [1, 0, 0, 0] },
  }) as unknown as RedisLike
  const d: Decision = { allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0 }
  await assert.rejects(redisTake(failing('Command timed out'), 'b', gcraParams(1, 1000, 0), d), { message: 'Command timed out' })
  assert.deepEqual(sent, ['evalsha'])
  sent.length = 0
  await redisTake(failing('NOSCRIPT No matching script. Please use EVAL.'), 'b', gcraParams(1, 1000, 0), d)
  assert.deepEqual(sent, ['evalsha', 'eval'])
  assert.equal(d.allowed, true)
})

test('redis: keys are bounded: a value over 128 characters is stored by its SHA-1', () => {
  assert.equal(redisKey('r:ip:1/1000ms', 'k'.repeat(128)), `gwp:rl:{r:ip:1/1000ms}:${'k'.repeat(128)}`)
  assert.equal(redisKey('r:ip:1/1000ms', 'k'.repeat(129)), `gwp:rl:{r:ip:1/1000ms}:h:${createHash('sha1').update('k'.repeat(129)).digest('hex')}`)
})

test('redis: the stage limits through Redis with the same 429, and waits for the connection at load', { skip }, async () => {
  const env = envWith({ redis: client! })
  const s = stage({ limit: 2, windowMs: 60_000, store: 'redis' }, env)
  assert.equal(env.warmups.length, 1)
  await Promise.all(env.warmups)
  assert.deepEqual(await statuses(s.rl, [ctx(), ctx()]), ['ok', 'ok'])
  assert.deepEqual(replyOf(await decide(s.rl, ctx())), limited('ip', 2, 60, 30))
  assert.deepEqual(await statuses(s.rl, [ctx({ clientIp: '192.0.2.9' })]), ['ok'])
  assert.deepEqual((await admin!.keys(`gwp:rl:{${s.opts.id}}:*`)).sort(), [`gwp:rl:{${s.opts.id}}:192.0.2.1`, `gwp:rl:{${s.opts.id}}:192.0.2.9`])
  assert.equal(await s.count('gw_ratelimit_store_errors_total', { route: 'api', policy: 'fail_open' }), 0)
})

test('redis: no time left before the deadline, or Redis not answering within its bound: fail_open passes, fail_closed is 503', { skip }, async () => {
  const env = envWith({ redis: client!, boundMs: 300 })
  const open = stage({ route: 'open', limit: 1, windowMs: 60_000, store: 'redis', failOpen: true }, env)
  const closed = stage({ route: 'closed', limit: 1, windowMs: 60_000, store: 'redis', failOpen: false }, env)
  const UNAVAILABLE = { code: 'GW_ERR_RATELIMIT_UNAVAILABLE', headers: ['retry-after', '1'] }
  // the deadline has passed: no Redis call at all
  assert.equal(await decide(open.rl, ctx({ msLeft: 0 })), CONTINUE)
  assert.deepEqual(replyOf(await decide(closed.rl, ctx({ msLeft: -1 }))), UNAVAILABLE)
  assert.deepEqual(await statuses(open.rl, [ctx(), ctx()]), ['ok', LIMITED], 'the passed deadlines did not count')
  // Redis frozen: each decision gives up at the 300 ms bound
  redis!.pause()
  try {
    const t0 = performance.now()
    assert.equal(await decide(open.rl, ctx()), CONTINUE, 'fail_open lets it through')
    assert.deepEqual(replyOf(await decide(closed.rl, ctx())), UNAVAILABLE)
    assert.deepEqual(replyOf(await decide(closed.rl, ctx({ msLeft: 30 }))), UNAVAILABLE, 'bounded by the deadline when that is nearer')
    assert.ok(performance.now() - t0 < 3000, `each within its bound (${Math.round(performance.now() - t0)} ms for three)`)
  } finally { redis!.resume() }
  const count = (route: string, policy: string) => open.count('gw_ratelimit_store_errors_total', { route, policy })
  assert.equal(await count('open', 'fail_open'), 2)
  assert.equal(await count('closed', 'fail_closed'), 3)
  assert.equal(await open.count('gw_stage_rejects_total', { stage: 'ratelimit', route: 'closed', code: '503' }), 3)
  assert.equal(await open.count('gw_stage_rejects_total', { stage: 'ratelimit', route: 'open', code: '429' }), 1)
})
