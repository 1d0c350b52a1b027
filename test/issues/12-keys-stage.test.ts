// Issue 12 item 4 / issue 14 item 2: the keys stage's edges (policies/auth/keys-stage.ts), through a real gateway
// and real sockets: the longest key looked up (512 characters, listed: admitted; 513, listed: refused before
// hashing), an empty key refused even when the hash of '' is listed, the two refusals told apart by their
// WWW-Authenticate (no key: `ApiKey`; a bad one: `ApiKey error="invalid_key"`) and counted per route, a provider
// without `forward consumer` (no identity header), a bundle load re-reading the file, the offline stage's
// refusals. The Redis store's edges are in 12-keys-stage-redis (a test process killed on its first failure, as the
// mutation runner does, would leave its redis-server behind: this file starts none).
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { keyHash } from '../../policies/auth/keys-file.js'
import { bundleFrom, metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { runSuite } from '../../runtime/offline.js'
import { readSpecText } from '../../compiler/tools/test-spec.js'
import { agent, send } from '../policies/fixtures.js'

const dir = mkdtempSync(join(tmpdir(), 'gwp-keysstage-'))
const keysFile = join(dir, 'keys.txt')
const LONGEST = 'k'.repeat(512)
const TOO_LONG = 'l'.repeat(513)
const PLAIN = 'gwk_plain-provider-key-0123456789abcdef'
const ua = agent()
const seen: { url: string; headers: IncomingHttpHeaders }[] = []
let upstream: Server
let gw: TestGateway

before(async () => {
  writeFileSync(keysFile, [`sha256:${keyHash(LONGEST)} longest`, `sha256:${keyHash(TOO_LONG)} toolong`, `sha256:${keyHash('')} empty`, `sha256:${keyHash(PLAIN)} plain`].join('\n') + '\n')
  upstream = createServer((req, res) => { seen.push({ url: req.url!, headers: req.headers }); res.end('ok') })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as { port: number }).port
  gw = await startGateway(`
upstream web { replicas 127.0.0.1:${port} }
keys fwd { file "${keysFile}"; forward consumer as X-Consumer-Id }
keys bare { file "${keysFile}" }
keys partner { file "${keysFile}"; forward consumer as X-Partner }
route partner { match path prefix "/partner"; auth partner; timeout 2s; proxy web }
route fwd { match path prefix "/fwd"; auth fwd; timeout 2s; proxy web }
route bare { match path prefix "/bare"; auth bare; timeout 2s; proxy web }
`)
})

after(async () => {
  await gw.close()
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

test('providers reading the same file with different forwarded headers each forward their own', async () => {
  assert.equal((await get(gw, '/partner/x', PLAIN)).status, 200)
  assert.equal(seen.at(-1)!.headers['x-partner'], 'plain')
  assert.equal(seen.at(-1)!.headers['x-consumer-id'], undefined)
  assert.equal((await get(gw, '/fwd/x', PLAIN)).status, 200)
  assert.equal(seen.at(-1)!.headers['x-consumer-id'], 'plain')
  assert.equal(seen.at(-1)!.headers['x-partner'], undefined)
})

test('only the key header counts: a header of the same length with another name is neither the key nor a duplicate', async () => {
  const other = await send(ua, gw.url + '/bare/x', { headers: { 'x-api-kex': PLAIN } })
  assert.equal(other.status, 401)
  assert.equal(other.headers['www-authenticate'], 'ApiKey')
  const both = await send(ua, gw.url + '/bare/x', { headers: { 'x-api-key': PLAIN, 'x-api-kex': 'something else' } })
  assert.equal(both.status, 200)
})
