// test/policies/ratelimit-edges.test.ts: what ratelimit-stage leaves open about the stage (policies/ratelimit/stage.ts),
// found by the mutation run: an empty key value and a missing one are the same bucket for every kind that can have
// both; a Redis that answers with an error (not a timeout) applies fail_open / fail_closed like a timeout does; a
// Redis client without the gateway's health tracker works; the outage log names the bound a decision missed when
// the route's deadline was nearer than the Redis bound; the store-error counter's help text.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { redisKey } from '../../policies/ratelimit/redis.js'
import { createRedis, redisReady } from '../../runtime/redis.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { ctx, envWith, LIMITED, stage, statuses, UNAVAILABLE } from '../helpers/ratelimit-stage.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
let redis: TestRedis | undefined
let plain: Redis | undefined
before(async () => {
  if (skip) return
  redis = await startRedis()
  plain = new Redis(redis.url)
})
after(async () => {
  plain?.disconnect()
  await redis?.stop()
})

test('an empty key value and a missing one count in one bucket: subject, claim, and a header the gateway sets from claims', async () => {
  const claims = (c: Record<string, unknown> | null) => ({ claims: c, identity: null })
  const user = stage({ limit: 1, windowMs: 60_000, key: { kind: 'user' } })
  assert.deepEqual(await statuses(user.rl, [ctx({ state: claims({ sub: '' }) }), ctx({ state: claims({}) })]), ['ok', LIMITED])
  const claim = stage({ limit: 1, windowMs: 60_000, key: { kind: 'claim', claim: 'tid' } })
  assert.deepEqual(await statuses(claim.rl, [ctx({ state: claims({ tid: '' }) }), ctx({ state: claims({}) })]), ['ok', LIMITED])
  const provider = { name: 'idp', forward: [{ claim: 'tid', header: 'x-tenant' }] } as unknown as JwtProviderIR
  const header = stage({ limit: 1, windowMs: 60_000, key: { kind: 'header', header: 'x-tenant' } }, envWith({ providers: [provider] }))
  const identity = (v: string | null) => ctx({ state: { claims: {}, identity: v === null ? [] : [{ header: 'x-tenant', value: v }] } })
  assert.deepEqual(await statuses(header.rl, [identity(''), identity(null)]), ['ok', LIMITED])
})

test('redis: a decision Redis refuses with an error: fail_open passes, fail_closed is 503, both counted (help text included)', { skip }, async () => {
  const env = envWith({ redis: plain! })
  const open = stage({ route: 'open', limit: 5, windowMs: 60_000, store: 'redis', failOpen: true }, env)
  const closed = stage({ route: 'closed', limit: 5, windowMs: 60_000, store: 'redis', failOpen: false }, env)
  await Promise.all(env.warmups)
  // a key of another type where the limiter keeps its state: the script fails with WRONGTYPE
  for (const s of [open, closed]) await plain!.sadd(redisKey(s.opts.id, '192.0.2.1'), 'x')
  assert.deepEqual(await statuses(open.rl, [ctx()]), ['ok'])
  assert.deepEqual(await statuses(closed.rl, [ctx()]), [UNAVAILABLE])
  assert.deepEqual(await statuses(closed.rl, [ctx({ clientIp: '192.0.2.2' })]), ['ok'], 'another key is decided by Redis')
  assert.equal(await open.count('gw_ratelimit_store_errors_total', { route: 'open', policy: 'fail_open' }), 1)
  assert.equal(await open.count('gw_ratelimit_store_errors_total', { route: 'closed', policy: 'fail_closed' }), 1)
  assert.match(await env.gm.registry.metrics(), /^# HELP gw_ratelimit_store_errors_total Rate-limit decisions Redis could not make in time, by route and the policy applied$/m)
})

test('redis: a client made without the gateway\'s health tracker decides and fails like one made with it', { skip }, async () => {
  const env = envWith({ redis: plain!, boundMs: 3000 })
  const s = stage({ limit: 1, windowMs: 60_000, store: 'redis', failOpen: false }, env)
  assert.deepEqual(await statuses(s.rl, [ctx({ clientIp: '192.0.2.7' }), ctx({ clientIp: '192.0.2.7' })]), ['ok', LIMITED])
  await plain!.sadd(redisKey(s.opts.id, '192.0.2.8'), 'x')
  assert.deepEqual(await statuses(s.rl, [ctx({ clientIp: '192.0.2.8' })]), [UNAVAILABLE])
})

test('redis: the outage log names the bound the decisions missed: the route\'s deadline when it is nearer than the Redis bound', { skip }, async () => {
  const logs: { level: number; msg: string; err?: string }[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line)) } })
  const client = createRedis(redis!.url, 5000, log)
  try {
    await redisReady(client, 5000)
    const s = stage({ limit: 100, windowMs: 60_000, store: 'redis', failOpen: true }, envWith({ redis: client, boundMs: 3000 }))
    redis!.pause()
    try {
      // one after another, each with 150 ms left when it starts (a context's deadline is fixed when it is made)
      for (let i = 0; i < 3; i++) assert.deepEqual(await statuses(s.rl, [ctx({ msLeft: 150 })]), ['ok'])
    } finally { redis!.resume() }
    const down = logs.filter(l => l.level === 40)
    assert.equal(down.length, 1, JSON.stringify(logs))
    assert.match(String(down[0].err), /^no answer within 1[45]\d ms$/)
  } finally { client.disconnect() }
})
