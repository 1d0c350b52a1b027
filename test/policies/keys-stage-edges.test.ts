// test/policies/keys-stage-edges.test.ts: the keys stage's Redis store (policies/auth/keys-stage.ts) in-process, as
// the gateway builds it (the runtime half of `auth`, createStageEnv), against a real redis-server: what the gateway
// tests through sockets leave open, found by the mutation run. One script call per request once Redis has the
// script, and the script sent again only after NOSCRIPT; a duplicate key refused before Redis is asked; a passed
// deadline answered 503 without a Redis call; a Redis error reply is 503 like a timeout; a client without the
// gateway's health tracker; the outage log naming the deadline's bound; refusals counted by code; identity headers
// made once per consumer in a bounded cache, and none without `forward consumer`; the offline stage only under
// `gwc test`.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { pino, type Logger } from 'pino'
import { loadSettings } from '../../config/settings.js'
import { CONTINUE } from '../../config/stage.js'
import { keyHash } from '../../policies/auth/keys-file.js'
import type { KeysProviderIR } from '../../policies/auth/options.js'
import { policy } from '../../policies/auth/runtime.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { createRedis, redisReady, type RedisLike } from '../../runtime/redis.js'
import type { Reply } from '../../runtime/reply.js'
import { createStageEnv } from '../../runtime/stage-env.js'
import { metric } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
const HASH = 'gwp:keys:stage-edges'
let redis: TestRedis | undefined
let plain: Redis | undefined
/** The Redis calls the stage made, by command name. */
let sent: string[] = []
/** `plain` as the stage sees it, recording its script calls (no health tracker: it is not createRedis's). */
let recording: RedisLike
before(async () => {
  if (skip) return
  redis = await startRedis()
  plain = new Redis(redis.url)
  recording = new Proxy(plain, {
    get(t, k) {
      const v = Reflect.get(t, k) as unknown
      if (k === 'evalsha' || k === 'eval') return (...a: unknown[]) => { sent.push(k); return (v as (...x: unknown[]) => unknown).apply(t, a) }
      return typeof v === 'function' ? v.bind(t) : v
    },
  }) as unknown as RedisLike
  await plain.hset(HASH, keyHash('gwk_alice'), 'alice', keyHash('gwk_bob'), 'bob')
})
after(async () => {
  plain?.disconnect()
  await redis?.stop()
})

const provider = (forward: string | null, hash = HASH): KeysProviderIR => ({
  kind: 'keys', name: 'fleet', store: { kind: 'redis', hash }, key: { in: 'header', name: 'x-api-key' }, forwardConsumer: forward,
  source: { file: 'p.gwp', line: 1, col: 1 },
})
function keysStage(o: { client?: RedisLike; forward?: string | null; hash?: string; log?: Logger; offline?: boolean } = {}) {
  const p = provider(o.forward === undefined ? 'x-consumer' : o.forward, o.hash)
  const metrics = new GatewayMetrics({ defaultMetrics: false })
  const shared = new Map<string, unknown>()
  const env = createStageEnv({ declarations: [p], identityHeaders: p.forwardConsumer === null ? [] : [p.forwardConsumer] }, {
    settings: loadSettings(undefined, { redisTimeoutMs: 3000 }), metrics, log: o.log ?? pino({ level: 'silent' }), redis: o.client ?? recording,
    shared: <T>(k: string, create: () => T): T => { if (!shared.has(k)) shared.set(k, create()); return shared.get(k) as T },
    offline: o.offline === true ? { claims: () => undefined, consumer: () => 'carol' } : null,
  })
  const options = { route: 'api', provider: 'fleet', audience: [] } as never
  // offline: the stage `gwc test` builds, with (true) or without (false) the test case standing in for the store
  const stage = o.offline === undefined ? policy.create(options, env) : policy.offline!(options, env)
  const rejects = async (code: string) => metric(await metrics.registry.metrics(), 'gw_stage_rejects_total', { stage: 'auth', route: 'api', code }) ?? 0
  return { stage, env, rejects }
}
type Ctx = { req: { rawHeaders: string[] }; state: { consumer: string | null; identity: unknown }; deadline: number }
const request = (keys: string[], msLeft = 2000): Ctx =>
  ({ req: { rawHeaders: keys.flatMap(k => ['X-Api-Key', k]) }, state: { consumer: null, identity: null }, deadline: performance.now() + msLeft })
const answer = async (stage: ReturnType<typeof keysStage>['stage'], c: Ctx) => {
  const r = await stage(c as never)
  return r === CONTINUE ? 'ok' : `${(r as Reply).code} ${(r as Reply).headers.join(': ')}`
}
const INVALID = 'GW_ERR_UNAUTHORIZED www-authenticate: ApiKey error="invalid_key"'
const UNAVAILABLE = 'GW_ERR_AUTH_UNAVAILABLE retry-after: 1'

test('one script call per request once Redis has the script; after SCRIPT FLUSH, NOSCRIPT sends it once more', { skip }, async () => {
  const { stage } = keysStage()
  await plain!.script('FLUSH')
  sent = []
  assert.equal(await answer(stage, request(['gwk_alice'])), 'ok')
  assert.deepEqual(sent, ['evalsha', 'eval'], 'the first: NOSCRIPT, then the script itself')
  sent = []
  assert.equal(await answer(stage, request(['gwk_bob'])), 'ok')
  assert.equal(await answer(stage, request(['gwk_nobody'])), INVALID)
  assert.deepEqual(sent, ['evalsha', 'evalsha'], 'then by its SHA-1 alone')
})

test('refused before Redis is asked: a key sent twice (401), and a deadline already passed (503); both counted', { skip }, async () => {
  const { stage, rejects } = keysStage()
  sent = []
  assert.equal(await answer(stage, request(['gwk_alice', 'gwk_alice'])), INVALID)
  assert.equal(await answer(stage, request(['gwk_alice'], -1)), UNAVAILABLE)
  assert.deepEqual(sent, [])
  assert.equal(await rejects('401'), 1)
  assert.equal(await rejects('503'), 1)
})

test('a Redis error reply (the hash is another type) is 503 auth_unavailable, with only the one script call, from a client without a health tracker', { skip }, async () => {
  await plain!.set('gwp:keys:a-string', 'x')
  const { stage, rejects } = keysStage({ hash: 'gwp:keys:a-string' })
  await answer(stage, request(['gwk_alice']))   // the script is loaded either way after this
  sent = []
  assert.equal(await answer(stage, request(['gwk_alice'])), UNAVAILABLE)
  assert.deepEqual(sent, ['evalsha'], 'WRONGTYPE is not NOSCRIPT: the script is not sent again')
  assert.equal(await rejects('503'), 2)
  assert.equal(await rejects('401'), 0)
})

test('identity headers: one per consumer, made once and reused, the cache starting over after 10,000 consumers; none without `forward consumer`', { skip }, async () => {
  const { stage } = keysStage()
  const as = async (key: string) => { const c = request([key]); assert.equal(await answer(stage, c), 'ok', key); return c.state }
  const a1 = await as('gwk_alice')
  assert.equal(a1.consumer, 'alice')
  assert.deepEqual(a1.identity, [{ header: 'x-consumer', value: 'alice' }])
  await as('gwk_bob')
  assert.equal((await as('gwk_alice')).identity, a1.identity, 'the same headers, not made again')
  // 10,000 consumers fill the cache (alice and bob are two of them); the next new one starts it over
  const n = 10_000
  const fields: string[] = []
  for (let i = 0; i < n; i++) fields.push(keyHash(`gwk_c${i}`), `c${i}`)
  await plain!.hset(HASH, ...fields)
  for (let i = 0; i < n - 2; i++) await as(`gwk_c${i}`)
  assert.equal((await as('gwk_alice')).identity, a1.identity, 'still cached at 10,000')
  await as(`gwk_c${n - 2}`)
  const again = await as('gwk_alice')
  assert.notEqual(again.identity, a1.identity, 'made again after the cache started over')
  assert.deepEqual(again.identity, a1.identity)

  const bare = keysStage({ forward: null })
  const c = request(['gwk_alice'])
  assert.equal(await answer(bare.stage, c), 'ok')
  assert.equal(c.state.consumer, 'alice')
  assert.equal(c.state.identity, null)
})

test('the outage log names the bound the lookups missed: the route\'s deadline when it is nearer than the Redis timeout', { skip }, async () => {
  const logs: { level: number; err?: string }[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line)) } })
  const client = createRedis(redis!.url, 5000, log)
  try {
    await redisReady(client, 5000)
    const { stage } = keysStage({ client })
    assert.equal(await answer(stage, request(['gwk_alice'])), 'ok')
    redis!.pause()
    try {
      for (let i = 0; i < 3; i++) assert.equal(await answer(stage, request(['gwk_alice'], 150)), UNAVAILABLE)
      assert.equal(await answer(keysStage().stage, request(['gwk_alice'], 150)), UNAVAILABLE, 'a client without a health tracker, too')
    } finally { redis!.resume() }
    const down = logs.filter(l => l.level === 40)
    assert.equal(down.length, 1, JSON.stringify(logs))
    assert.match(String(down[0].err), /^no answer within 1[45]\d ms$/)
  } finally { client.disconnect() }
})

test('the offline keys stage runs only under `gwc test`', { skip }, async () => {
  assert.throws(() => keysStage({ offline: false }), { message: 'the offline keys stage runs only under `gwc test`' })
  const c = request(['any key'])
  assert.equal(await answer(keysStage({ offline: true }).stage, c), 'ok')
  assert.equal(c.state.consumer, 'carol')
})
