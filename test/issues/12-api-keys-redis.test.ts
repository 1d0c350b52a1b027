// test/issues/12-api-keys-redis.test.ts: API keys kept in Redis for a fleet (`keys NAME { redis "HASH" }`), with a
// real redis-server on a free port: a key's SHA-256 is a field of the hash (value: the consumer id); two
// gateways share it, a key added or removed there takes effect on the next request of both, and Redis not
// answering is 503 auth_unavailable (fail closed), never a request let in unchecked.
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { keyHash } from '../../policies/auth/keys-file.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { agent, send } from '../policies/fixtures.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
const HASH = 'gwp:keys:partners'
const ACME = 'gwk_acme-redis-key-0123456789abcdefghijklmnop'
const ua = agent()
const seen: IncomingHttpHeaders[] = []
let upstream: Server
let redis: TestRedis
let admin: Redis
let gwA: TestGateway
let gwB: TestGateway

before(async () => {
  if (skip) return
  redis = await startRedis()
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  admin.on('error', () => undefined)
  await admin.connect()
  await admin.hset(HASH, keyHash(ACME), 'acme')
  upstream = createServer((req, res) => { seen.push(req.headers); res.end('ok') })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const policy = `
upstream web { replicas 127.0.0.1:${(upstream.address() as { port: number }).port} }
keys partners { redis "${HASH}"; forward consumer as X-Consumer-Id }
route data { match path prefix "/"; auth partners; ratelimit by consumer 1000 per 1s; timeout 2s; proxy web }
`
  const settings = { redisUrl: redis.url, redisTimeoutMs: 100 }
  ;[gwA, gwB] = await Promise.all([startGateway(policy, settings), startGateway(policy, settings)])
})

after(async () => {
  if (skip) return
  admin.disconnect()
  await gwA.close(); await gwB.close(); await ua.close()
  await new Promise(r => upstream.close(r))
  await redis.stop()
})

const get = (gw: TestGateway, key?: string) => send(ua, gw.url + '/x', { headers: key === undefined ? {} : { 'x-api-key': key } })

test('a key in the Redis hash is accepted by every gateway, its consumer forwarded and the key not', { skip }, async () => {
  for (const gw of [gwA, gwB]) {
    const a = await get(gw, ACME)
    assert.equal(a.status, 200)
    assert.equal(seen[seen.length - 1]['x-consumer-id'], 'acme')
    assert.equal(seen[seen.length - 1]['x-api-key'], undefined)
  }
  assert.equal((await get(gwA, 'gwk_unknown-0000000000000000000000000000000')).status, 401)
  assert.equal((await get(gwA)).status, 401)
})

test('a key added to or removed from the hash takes effect on the next request of both gateways', { skip }, async () => {
  const fresh = 'gwk_fresh-redis-key-0123456789abcdefghijklmn'
  assert.equal((await get(gwB, fresh)).status, 401)
  await admin.hset(HASH, keyHash(fresh), 'initech')
  assert.equal((await get(gwA, fresh)).status, 200)
  assert.equal((await get(gwB, fresh)).status, 200)
  await admin.hdel(HASH, keyHash(fresh))
  assert.equal((await get(gwA, fresh)).status, 401)
  assert.equal((await get(gwB, fresh)).status, 401)
})

test('Redis not answering: 503 auth_unavailable, nothing forwarded; answering again: 200', { skip }, async () => {
  const before = seen.length
  redis.pause()
  try {
    const a = await get(gwA, ACME)
    assert.equal(a.status, 503)
    assert.equal(JSON.parse(a.text).error, 'auth_unavailable')
    assert.equal(seen.length, before)
  } finally { redis.resume() }
  let status = 0
  for (let i = 0; i < 50 && status !== 200; i++) { status = (await get(gwA, ACME)).status; if (status !== 200) await new Promise(r => setTimeout(r, 100)) }
  assert.equal(status, 200)
})
