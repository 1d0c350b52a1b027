// test/runtime/redis-health.test.ts: the kernel's Redis pieces (runtime/redis.ts) on their own: RedisHealth's
// transitions (down after REDIS_DOWN_AFTER failed decisions in a row, one line down and one up, at once on a
// connection error or a reconnection), redisBounded (the value, REDIS_TIMEOUT, the client's own error; with or
// without a health tracker), redisReady (at once when ready, else on 'ready' or after its bound, its listener
// gone either way), and createRedis against a real redis-server: its client options, a command failing fast
// while disconnected, the connection's 'error' and 'ready' telling the tracker without any decision being
// made. Issue 14: runtime/redis.ts joined the mutation area `policies` with the shared Redis bound.
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { after, before, test } from 'node:test'
import type { Logger } from 'pino'
import type { Redis } from 'ioredis'
import { createRedis, redisBounded, redisHealthOf, redisReady, RedisHealth, REDIS_DOWN_AFTER, REDIS_TIMEOUT, type RedisLike } from '../../runtime/redis.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** A logger that records `level fields message` (only what RedisHealth writes: warn and info). */
function recorder(): { log: Logger; lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = []
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => { lines.push({ level, fields, msg }) }
  return { log: { warn: at('warn'), info: at('info') } as unknown as Logger, lines }
}

test('RedisHealth: down after REDIS_DOWN_AFTER failed decisions in a row, a success in between starts the count again', () => {
  assert.equal(REDIS_DOWN_AFTER, 3)
  const { log, lines } = recorder()
  const h = new RedisHealth(log)
  h.failed(250.4); h.failed(250.4); h.ok()
  h.failed(250.4); h.failed(250.4)
  assert.equal(lines.length, 0, 'two, a success, two: no outage')
  h.failed(250.4)
  assert.deepEqual(lines.map(l => [l.level, l.fields.err]), [['warn', 'no answer within 250 ms']])
  assert.match(lines[0].msg, /^redis not answering/)
  h.failed(new Error('later')); h.failed(300); h.connectionError('ECONNREFUSED')
  assert.equal(lines.length, 1, 'one line per outage, not per failed decision')
})

test('RedisHealth: the client\'s error is the reason; the way back is logged once with how long it was down', async () => {
  const { log, lines } = recorder()
  const h = new RedisHealth(log)
  const downAt = performance.now()
  for (let i = 0; i < REDIS_DOWN_AFTER; i++) h.failed(new Error(`boom ${i}`))
  assert.deepEqual(lines.map(l => [l.level, l.fields.err]), [['warn', 'boom 2']])
  await sleep(40)
  const elapsed = performance.now() - downAt
  h.ok(); h.ok()
  assert.deepEqual(lines.map(l => l.level), ['warn', 'info'])
  assert.match(lines[1].msg, /^redis answering again/)
  const downMs = lines[1].fields.downMs as number
  assert.ok(downMs >= 35 && downMs <= elapsed + 1, `downMs ${downMs} for ${elapsed} ms down`)
  // up again: the count starts from zero
  h.failed(1); h.failed(1)
  assert.equal(lines.length, 2)
})

test('RedisHealth: a connection error is an outage at once, a reconnection its end; neither repeats', () => {
  const { log, lines } = recorder()
  const h = new RedisHealth(log)
  h.connected()
  assert.equal(lines.length, 0, 'connected while up: nothing to say')
  h.connectionError('connect ECONNREFUSED 127.0.0.1:1')
  h.connectionError('again')
  assert.deepEqual(lines.map(l => [l.level, l.fields.err]), [['warn', 'connect ECONNREFUSED 127.0.0.1:1']])
  h.connected(); h.connected()
  assert.deepEqual(lines.map(l => l.level), ['warn', 'info'])
})

test('redisBounded: the value, REDIS_TIMEOUT past the bound, the client\'s own error; with a tracker or without one', async () => {
  const { log, lines } = recorder()
  for (const health of [null, new RedisHealth(log)]) {
    assert.equal(await redisBounded(health, 1000, () => Promise.resolve('timeout')), 'timeout', 'a value that reads "timeout" is a value')
    const t0 = performance.now()
    assert.equal(await redisBounded(health, 30, () => new Promise(() => undefined)), REDIS_TIMEOUT)
    assert.ok(performance.now() - t0 >= 25)
    const err = new Error('READONLY')
    await assert.rejects(redisBounded(health, 1000, () => Promise.reject(err)), e => e === err)
  }
  assert.equal(lines.length, 0, 'one timeout and one error: no outage yet')
  const h = new RedisHealth(log)
  for (let i = 0; i < REDIS_DOWN_AFTER; i++) assert.equal(await redisBounded(h, 5, () => new Promise(() => undefined)), REDIS_TIMEOUT)
  assert.deepEqual(lines.map(l => [l.level, l.fields.err]), [['warn', 'no answer within 5 ms']], 'timeouts tell the tracker')
  assert.equal(await redisBounded(h, 1000, () => Promise.resolve(1)), 1)
  assert.deepEqual(lines.map(l => l.level), ['warn', 'info'], 'an answer tells it too')
})

test('redisReady: at once for a ready client; else on its ready event or after the bound, its listener removed either way', async () => {
  const ready = Object.assign(new EventEmitter(), { status: 'ready' }) as unknown as RedisLike & EventEmitter
  let t0 = performance.now()
  await redisReady(ready, 2000)
  assert.ok(performance.now() - t0 < 500, 'a ready client waits for nothing')
  const later = Object.assign(new EventEmitter(), { status: 'connecting' }) as unknown as RedisLike & EventEmitter
  t0 = performance.now()
  setTimeout(() => later.emit('ready'), 20)
  await redisReady(later, 2000)
  assert.ok(performance.now() - t0 < 1000)
  assert.equal(later.listenerCount('ready'), 0)
  const never = Object.assign(new EventEmitter(), { status: 'connecting' }) as unknown as RedisLike & EventEmitter
  await redisReady(never, 20)
  assert.equal(never.listenerCount('ready'), 0, 'no listener left behind by a bound that ran out')
})

const skip = hasRedis() ? false : 'redis-server is not installed'
let redis: TestRedis
before(async () => { if (!skip) redis = await startRedis() })
after(async () => { if (!skip) await redis.stop() })

test('createRedis: fail fast while disconnected, reconnect with a capped backoff; the connection itself tells the tracker', { skip }, async () => {
  const { log, lines } = recorder()
  const r = createRedis(redis.url, 300, log) as Redis
  try {
    await redisReady(r, 3000)
    assert.equal(r.status, 'ready')
    const o = r.options as Redis['options'] & { retryStrategy: (n: number) => number }
    assert.deepEqual([o.commandTimeout, o.enableOfflineQueue, o.maxRetriesPerRequest, o.connectTimeout, o.lazyConnect], [300, false, 0, 1000, false])
    assert.deepEqual([1, 3, 20, 100].map(n => o.retryStrategy(n)), [100, 300, 2000, 2000])
    assert.ok(redisHealthOf(r) instanceof RedisHealth)
    await redis.kill()
    // no command was sent: the connection's 'error' alone declares the outage
    const t0 = performance.now()
    while (lines.length === 0 && performance.now() - t0 < 3000) await sleep(10)
    assert.deepEqual(lines.map(l => l.level), ['warn'])
    // a command while disconnected fails at once (no offline queue), well inside the 300 ms bound
    const t1 = performance.now()
    await assert.rejects(r.get('k'))
    assert.ok(performance.now() - t1 < 150, `failed after ${Math.round(performance.now() - t1)} ms`)
    await redis.start()
    const t2 = performance.now()
    while (lines.length === 1 && performance.now() - t2 < 8000) await sleep(20)
    assert.deepEqual(lines.map(l => l.level), ['warn', 'info'], 'the reconnection alone ends it')
  } finally { r.disconnect() }
})
