// Issue 12 item 4 / issue 14 item 2: the keys stage's edges (policies/auth/keys-stage.ts), through a real gateway
// and real sockets: the longest key looked up (512 characters, listed: admitted; 513, listed: refused before
// hashing), an empty key refused even when the hash of '' is listed, the two refusals told apart by their
// WWW-Authenticate (no key: `ApiKey`; a bad one: `ApiKey error="invalid_key"`) and counted per route, a provider
// without `forward consumer` (no identity header), and from Redis: a value that is not a consumer id refused,
// Redis not answering refused at the route's deadline when it comes before the Redis timeout, and the offline stage's refusals.
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { keyHash } from '../../policies/auth/keys-file.js'
import { bundleFrom, metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { runSuite } from '../../runtime/offline.js'
import { readSpecText } from '../../compiler/tools/test-spec.js'
import { agent, send } from '../policies/fixtures.js'

const skipRedis = hasRedis() ? false : 'redis-server is not installed'
const dir = mkdtempSync(join(tmpdir(), 'gwp-keysstage-'))
const keysFile = join(dir, 'keys.txt')
const LONGEST = 'k'.repeat(512)
const TOO_LONG = 'l'.repeat(513)
const PLAIN = 'gwk_plain-provider-key-0123456789abcdef'
const HASH = 'gwp:keys:edges'
const ua = agent()
const seen: { url: string; headers: IncomingHttpHeaders }[] = []
let upstream: Server
let gw: TestGateway
let redis: TestRedis | undefined
let admin: Redis | undefined
let rgw: TestGateway | undefined

before(async () => {
  writeFileSync(keysFile, [`sha256:${keyHash(LONGEST)} longest`, `sha256:${keyHash(TOO_LONG)} toolong`, `sha256:${keyHash('')} empty`, `sha256:${keyHash(PLAIN)} plain`].join('\n') + '\n')
  upstream = createServer((req, res) => { seen.push({ url: req.url!, headers: req.headers }); res.end('ok') })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as { port: number }).port
  gw = await startGateway(`
upstream web { replicas 127.0.0.1:${port} }
keys fwd { file "${keysFile}"; forward consumer as X-Consumer-Id }
keys bare { file "${keysFile}" }
route fwd { match path prefix "/fwd"; auth fwd; timeout 2s; proxy web }
route bare { match path prefix "/bare"; auth bare; timeout 2s; proxy web }
`)
  if (skipRedis) return
  redis = await startRedis()
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  admin.on('error', () => undefined)
  await admin.connect()
  await admin.hset(HASH, keyHash('gwk_good'), 'good', keyHash('gwk_bad-id'), 'not a consumer id', keyHash('gwk_long-id'), 'x'.repeat(129),
    keyHash(LONGEST), 'longest', keyHash(TOO_LONG), 'toolong', keyHash(''), 'empty')
  rgw = await startGateway(`
upstream web { replicas 127.0.0.1:${port} }
keys fleet { redis "${HASH}" }
route short { match path prefix "/short"; auth fleet; timeout 600ms; proxy web }
route r { match path prefix "/"; auth fleet; timeout 5s; proxy web }
`, { redisUrl: redis.url, redisTimeoutMs: 3000 })
})

after(async () => {
  await gw.close()
  if (rgw !== undefined) await rgw.close()
  admin?.disconnect()
  await redis?.stop()
  await ua.close()
  await new Promise(r => upstream.close(r))
  rmSync(dir, { recursive: true, force: true })
})

const get = async (g: TestGateway, path: string, key?: string) => {
  const before = seen.length
  const a = await send(ua, g.url + path, { headers: key === undefined ? {} : { 'x-api-key': key } })
  return { ...a, reached: seen.length > before }
}

test('the longest key looked up is 512 characters: a listed one is admitted, a listed 513-character one is not', async () => {
  const ok = await get(gw, '/fwd/x', LONGEST)
  assert.equal(ok.status, 200)
  assert.equal(seen.at(-1)!.headers['x-consumer-id'], 'longest')
  const long = await get(gw, '/fwd/x', TOO_LONG)
  assert.equal(long.status, 401)
  assert.equal(long.reached, false)
  assert.equal(long.headers['www-authenticate'], 'ApiKey error="invalid_key"')
})

test('an empty key is refused even when the hash of the empty string is listed', async () => {
  const a = await get(gw, '/fwd/x', '')
  assert.equal(a.status, 401)
  assert.equal(a.reached, false)
  assert.equal(a.headers['www-authenticate'], 'ApiKey error="invalid_key"')
})

test('no key and a bad key are told apart by WWW-Authenticate, and each refusal is counted for its route', async () => {
  const count = async () => metric(await (await fetch(gw.adminUrl + '/metrics')).text(), 'gw_stage_rejects_total', { stage: 'auth', route: 'bare', code: '401' }) ?? 0
  const before = await count()
  const none = await get(gw, '/bare/x')
  assert.equal(none.status, 401)
  assert.equal(none.headers['www-authenticate'], 'ApiKey')
  const wrong = await get(gw, '/bare/x', 'gwk_nobody')
  assert.equal(wrong.status, 401)
  assert.equal(wrong.headers['www-authenticate'], 'ApiKey error="invalid_key"')
  const dup = await send(ua, gw.url + '/bare/x', { headers: ['x-api-key', PLAIN, 'X-Api-Key', PLAIN] as unknown as Record<string, string> })
  assert.equal(dup.status, 401)
  assert.equal(dup.headers['www-authenticate'], 'ApiKey error="invalid_key"')
  assert.equal(await count(), before + 3)
})

test('a provider without `forward consumer`: admitted, no identity header, the key removed', async () => {
  const a = await get(gw, '/bare/x', PLAIN)
  assert.equal(a.status, 200)
  assert.equal(seen.at(-1)!.headers['x-consumer-id'], undefined)
  assert.equal(seen.at(-1)!.headers['x-api-key'], undefined)
  // the key header is read in any case of its name
  const b = await send(ua, gw.url + '/bare/y', { headers: { 'X-API-KEY': PLAIN } })
  assert.equal(b.status, 200)
})

test('Redis: a value that is not a consumer id is refused like an unknown key', { skip: skipRedis }, async () => {
  assert.equal((await get(rgw!, '/x', 'gwk_good')).status, 200)
  for (const key of ['gwk_bad-id', 'gwk_long-id', 'gwk_unknown']) {
    const a = await get(rgw!, '/x', key)
    assert.equal(a.status, 401, key)
    assert.equal(a.reached, false, key)
    assert.equal(a.headers['www-authenticate'], 'ApiKey error="invalid_key"', key)
  }
  const none = await get(rgw!, '/x')
  assert.equal(none.headers['www-authenticate'], 'ApiKey')
  // the same limits as the file's: 512 characters admitted, 513 and the empty key refused before Redis is asked
  assert.equal((await get(rgw!, '/x', LONGEST)).status, 200)
  for (const key of [TOO_LONG, '']) {
    const a = await get(rgw!, '/x', key)
    assert.equal(a.status, 401, `${key.length} characters`)
    assert.equal(a.headers['www-authenticate'], 'ApiKey error="invalid_key"')
  }
})

test('Redis not answering: 503 when the route\'s deadline (600 ms) comes before the Redis timeout (3 s)', { skip: skipRedis }, async () => {
  assert.equal((await get(rgw!, '/short/x', 'gwk_good')).status, 200)
  redis!.pause()
  try {
    const t0 = performance.now()
    const a = await get(rgw!, '/short/x', 'gwk_good')
    const ms = performance.now() - t0
    assert.equal(a.status, 503)
    assert.equal(JSON.parse(a.text).error, 'auth_unavailable')
    assert.equal(a.headers['retry-after'], '1')
    assert.ok(ms < 2000, `answered after ${Math.round(ms)} ms`)
  } finally { redis!.resume() }
})

test('gwc test: the offline keys stage refuses an empty or too long key, and a key without a declared consumer', () => {
  const b = bundleFrom(`
upstream web { replicas 127.0.0.1:9 }
keys partners { file "k.txt"; forward consumer as X-Consumer-Id }
keys bare { file "k.txt" }
route r { match path prefix "/r"; auth partners; timeout 1s; proxy web }
route s { match path prefix "/s"; auth bare; timeout 1s; proxy web }
`)
  const spec = readSpecText(`
cases:
  - request: GET http://h/r
    headers: { X-Api-Key: "${'k'.repeat(512)}" }
    consumer: acme
    expect: { status: 200, forwarded: { x-consumer-id: acme } }
  - request: GET http://h/r
    headers: { X-Api-Key: "${'k'.repeat(513)}" }
    consumer: acme
    expect: { status: 401 }
  - request: GET http://h/r
    headers: { X-Api-Key: "" }
    consumer: acme
    expect: { status: 401 }
  - request: GET http://h/r
    headers: { X-Api-Key: "anything" }
    expect: { status: 401 }
  - request: GET http://h/s
    headers: { X-Api-Key: "anything" }
    consumer: acme
    expect: { status: 200, forwarded: { x-consumer-id: null } }
`, 'spec.yaml')
  assert.deepEqual(spec.diagnostics, [])
  const res = runSuite(b.manifest, b.moduleText, spec.cases)
  assert.deepEqual(res.cases.map(c => [c.ok, c.status, c.failures]), [[true, 200, []], [true, 401, []], [true, 401, []], [true, 401, []], [true, 200, []]])
})

test('a bundle load re-reads the keys file at once, even an edit the poll cannot see (same size, mtime and inode)', async () => {
  const file = join(dir, 'reload.txt')
  const T = 1_700_000_000
  const OLD = 'gwk_reload-old-0000', NEW = 'gwk_reload-new-0000'
  writeFileSync(file, `sha256:${keyHash(OLD)} first\n`)
  utimesSync(file, T, T)
  const policy = (extra: string) => `
upstream web { replicas 127.0.0.1:${(upstream.address() as { port: number }).port} }
keys k { file "${file}" }
route r { match path prefix "/"; auth k; timeout 2s; proxy web }
${extra}`
  const g = await startGateway(policy(''))
  try {
    assert.equal((await get(g, '/x', OLD)).status, 200)
    writeFileSync(file, `sha256:${keyHash(NEW)} first\n`)
    utimesSync(file, T, T)
    const r = await g.reload(policy('route other { match path prefix "/other"; respond 204 }'))
    assert.equal(r.changed, true)
    assert.equal((await get(g, '/x', NEW)).status, 200)
    assert.equal((await get(g, '/x', OLD)).status, 401)
  } finally { await g.close() }
})

test('keys kept in Redis without --redis: the gateway refuses to load, naming the route and the provider', async () => {
  await assert.rejects(startGateway(`
upstream web { replicas 127.0.0.1:9 }
keys fleet { redis "h" }
route r { match path prefix "/"; auth fleet; timeout 1s; proxy web }
`), { message: /auth of route "r" reads keys from Redis \(keys "fleet"\), but no redisUrl is configured \(--redis\)/ })
})
