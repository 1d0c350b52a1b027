// test/issues/9-ratelimit-key-identity.test.ts (issue 9, item 10): a limiter's counters are keyed by what it
// means (route, key, limit, window, burst), not by its position in the pipeline. A hot reload that inserts a
// `headers` stage above a limiter keeps its counters, in memory and in a real Redis; a change to the limit
// itself starts them fresh. Before the fix, both limiters were keyed `route#N` and the insert reset them.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { addrs, agent, closeAll, send, startTogether } from '../policies/fixtures.js'

const skipRedis = hasRedis() ? false : 'redis-server is not installed'

let stub: Stub
let redis: TestRedis | null = null
let gw: TestGateway
const ua = agent(8)

/** Two routes limited to 5 per minute by ip: one in memory, one in Redis; `extra` goes above each limiter. */
const policy = (extra: string, limit = 5) => `
upstream web { replicas ${addrs(stub)} }
route mem { match path prefix "/mem"; ${extra} ratelimit by ip ${limit} per 1m; timeout 2s; proxy web }
${redis === null ? '' : `route shared { match path prefix "/shared"; ${extra} ratelimit by ip ${limit} per 1m redis fail_closed; timeout 2s; proxy web }`}
`

before(async () => {
  ;[stub, redis] = await startTogether(startStub({ name: 'web', count: 1 }), skipRedis ? Promise.resolve(null) : startRedis())
  gw = await startGateway(policy(''), redis === null ? {} : { redisUrl: redis.url, redisTimeoutMs: 500 })
})
after(async () => {
  await closeAll(ua, gw)
  await closeAll(stub, redis)
})

const statuses = async (path: string, n: number): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await send(ua, gw.url + path + '/status/200')).status)
  return out
}

async function keepsCountAcrossInsert(path: string): Promise<void> {
  await gw.reload(policy(''))
  assert.deepEqual(await statuses(path, 3), [200, 200, 200])
  // an unrelated stage above the limiter: the same limiter, so the same counters (2 left of 5)
  const r = await gw.reload(policy('headers request set X-Env "prod";'))
  assert.equal(r.changed, true)
  assert.deepEqual(await statuses(path, 3), [200, 200, 429], 'the count carried over the reload')
  // a change to the limit itself is a new limiter: it starts fresh
  await gw.reload(policy('headers request set X-Env "prod";', 6))
  assert.deepEqual(await statuses(path, 7), [200, 200, 200, 200, 200, 200, 429], 'a new limit starts from zero')
}

test('in-memory limiter: inserting a headers stage above it keeps its counters across a hot reload; a new limit starts fresh', async () => {
  await keepsCountAcrossInsert('/mem')
})

test('Redis limiter: inserting a headers stage above it keeps the shared counter; a new limit starts fresh', { skip: skipRedis }, async () => {
  await keepsCountAcrossInsert('/shared')
  const admin = new Redis(redis!.url)
  try {
    const keys = (await admin.keys('gwp:rl:*')).sort()
    assert.deepEqual(keys, ['gwp:rl:{shared:ip:5/60000ms}:127.0.0.1', 'gwp:rl:{shared:ip:6/60000ms}:127.0.0.1'], 'keys name the limiter, not its position')
  } finally { admin.disconnect() }
})
