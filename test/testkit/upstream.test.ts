// test/testkit/upstream.test.ts: every built-in endpoint of the stub upstream, over real sockets with undici.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { patternSha256, startStub, type Stub } from '../../testkit/upstream/stub.js'

let stub: Stub
let base: string
const agent = new Agent({ keepAliveTimeout: 2000 })
const sha = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex')
const get = (path: string, opts: Omit<Parameters<typeof request>[1] & object, 'dispatcher'> = {}) =>
  request(base + path, { ...opts, dispatcher: agent })

before(async () => {
  stub = await startStub({ name: 'ep' })
  base = stub.url()
})
after(async () => {
  await agent.close()
  await stub.close()
})

test('healthz answers 200 and names the replica', async () => {
  const res = await get('/healthz')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['x-stub-replica'], 'ep-1')
  assert.deepEqual(await res.body.json(), { ok: true, replica: 'ep-1' })
})

test('healthz answers 503 once flipped unhealthy, over the API and the control plane', async () => {
  stub.setHealthy(undefined, false)
  let res = await get('/healthz')
  assert.equal(res.statusCode, 503)
  await res.body.dump()
  stub.setHealthy('ep-1', true)
  res = await get('/healthz')
  assert.equal(res.statusCode, 200)
  await res.body.dump()
  res = await get('/__stub/health?ok=0', { method: 'POST' })
  assert.equal(res.statusCode, 200)
  await res.body.dump()
  res = await get('/healthz')
  assert.equal(res.statusCode, 503)
  await res.body.dump()
  await (await get('/__stub/health?ok=1', { method: 'POST' })).body.dump()
  assert.equal((await get('/healthz')).statusCode, 200)
})

test('echo reports method, url, version, raw headers in order, remote address and body hash', async () => {
  const body = Buffer.from('hello, stub')
  const res = await get('/echo?a=1', { method: 'PUT', body, headers: { 'X-Mixed-Case': 'v1', 'x-second': 'v2' } })
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['x-stub-replica'], 'ep-1')
  const e = await res.body.json() as Record<string, unknown>
  assert.equal(e.method, 'PUT')
  assert.equal(e.url, '/echo?a=1')
  assert.equal(e.httpVersion, '1.1')
  assert.equal(e.remoteAddress, '127.0.0.1')
  assert.equal(e.bodyBytes, body.length)
  assert.equal(e.bodySha256, sha(body))
  const raw = e.rawHeaders as string[]
  const i = raw.indexOf('X-Mixed-Case')
  assert.ok(i >= 0 && i % 2 === 0, `raw header names keep their case: ${JSON.stringify(raw)}`)
  assert.equal(raw[i + 1], 'v1')
  assert.ok(raw.indexOf('x-second') > i, 'raw headers keep their order')
})

test('upload streams 5 MB through sha256 and reports bytes and hash', async () => {
  const body = randomBytes(5 * 1024 * 1024)
  const res = await get('/upload', { method: 'POST', body })
  assert.equal(res.statusCode, 200)
  const r = await res.body.json() as { bytes: number; sha256: string }
  assert.equal(r.bytes, body.length)
  assert.equal(r.sha256, sha(body))
})

test('bytes/N sends N deterministic bytes (5 MB) matching x-body-sha256', async () => {
  const n = 5 * 1024 * 1024
  const res = await get(`/bytes/${n}`)
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-length'], String(n))
  const hash = createHash('sha256')
  let len = 0
  for await (const chunk of res.body) { hash.update(chunk as Buffer); len += (chunk as Buffer).length }
  assert.equal(len, n)
  const digest = hash.digest('hex')
  assert.equal(digest, res.headers['x-body-sha256'])
  assert.equal(digest, patternSha256(n))
  const again = await get(`/bytes/${n}`)
  assert.equal(sha(Buffer.from(await again.body.arrayBuffer())), digest, 'the same size gives the same bytes')
})

test('bytes/N and chunked reject bad or oversized bodies with 400', async () => {
  const res = await get('/bytes/nope')
  assert.equal(res.statusCode, 400)
  assert.equal((await res.body.json() as { error: string }).error, 'bad_request')
  const huge = await get('/chunked?n=100000&size=65536')
  assert.equal(huge.statusCode, 400, 'chunked bodies are bounded like /bytes/N')
  await huge.body.dump()
})

test('chunked sends n pieces with Transfer-Encoding: chunked, spread over time', async () => {
  const res = await get('/chunked?n=5&size=10&interval=40')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['transfer-encoding'], 'chunked')
  assert.equal(res.headers['content-length'], undefined)
  const arrivals: number[] = []
  const parts: Buffer[] = []
  for await (const chunk of res.body) { arrivals.push(performance.now()); parts.push(chunk as Buffer) }
  const all = Buffer.concat(parts)
  assert.equal(all.length, 50)
  assert.equal(sha(all), res.headers['x-body-sha256'])
  assert.equal(sha(all), patternSha256(50))
  assert.ok(arrivals.length >= 3, `pieces arrive separately (${arrivals.length} reads)`)
  assert.ok(arrivals[arrivals.length - 1] - arrivals[0] >= 100, 'pieces are interval ms apart')
})

test('sse delivers each event as it is written (arrivals spread out)', async () => {
  const res = await get('/sse?n=4&interval=80')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'text/event-stream')
  const arrivals: number[] = []
  let text = ''
  for await (const chunk of res.body) {
    const s = (chunk as Buffer).toString()
    text += s
    for (let k = 0; k < s.split('\n\n').length - 1; k++) arrivals.push(performance.now())
  }
  const events = text.split('\n\n').filter((e) => e !== '')
  assert.equal(events.length, 4)
  assert.match(events[0], /^id: 0\nevent: tick\ndata: \{"i":0,"t":\d+\}$/)
  assert.equal(arrivals.length, 4)
  for (let k = 1; k < 4; k++) assert.ok(arrivals[k] - arrivals[k - 1] >= 40, `event ${k} arrived ${arrivals[k] - arrivals[k - 1]} ms after the previous`)
})

test('status/CODE answers that status, with no body for 204', async () => {
  const res = await get('/status/418')
  assert.equal(res.statusCode, 418)
  assert.deepEqual(await res.body.json(), { status: 418, replica: 'ep-1' })
  const empty = await get('/status/204')
  assert.equal(empty.statusCode, 204)
  assert.equal(await empty.body.text(), '')
  assert.equal((await get('/status/99')).statusCode, 400)
})

test('delay/MS answers after MS', async () => {
  const t0 = performance.now()
  const res = await get('/delay/150')
  assert.equal(res.statusCode, 200)
  await res.body.dump()
  assert.ok(performance.now() - t0 >= 140)
})

test('hang never answers; the client gives up', async () => {
  await assert.rejects(get('/hang', { signal: AbortSignal.timeout(150) }), (e: Error) => e.name === 'TimeoutError' || e.name === 'AbortError')
})

test('reset destroys the connection without a response', async () => {
  await assert.rejects(get('/reset'), (e: Error & { code?: string }) => /UND_ERR_SOCKET|ECONNRESET/.test(String(e.code)))
  assert.equal((await get('/healthz')).statusCode, 200, 'the stub carries on')
})

test('early answers before reading a 1 MB upload, and the stub survives', async () => {
  const body = randomBytes(1024 * 1024)
  const res = await get('/early', { method: 'POST', body })
  assert.equal(res.statusCode, 413)
  assert.equal((await res.body.json() as { early: boolean }).early, true)
  const ok = await get('/early?status=200', { method: 'POST', body })
  assert.equal(ok.statusCode, 200)
  await ok.body.dump()
  // With Connection: close the client may see the socket go away mid-upload; either outcome is fine, a crash is not.
  const closing = new Agent()
  try {
    const r = await request(base + '/early?close=1', { method: 'POST', body: randomBytes(4 * 1024 * 1024), dispatcher: closing })
    assert.equal(r.statusCode, 413)
    await r.body.dump()
  } catch (e) {
    assert.match(String((e as { code?: string }).code), /UND_ERR_SOCKET|ECONNRESET|EPIPE/)
  } finally { await closing.close() }
  const health = await get('/healthz')
  assert.equal(health.statusCode, 200)
  await health.body.dump()
})

test('hop sends hop-by-hop headers and an end-to-end one', async () => {
  const res = await get('/hop')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers.connection, 'close, x-hop')
  assert.equal(res.headers['keep-alive'], 'timeout=5, max=100')
  assert.equal(res.headers['x-hop'], 'must-be-stripped')
  assert.equal(res.headers['proxy-connection'], 'keep-alive')
  assert.equal(res.headers['x-end-to-end'], 'must-be-kept')
  assert.equal(res.headers.upgrade, undefined)
  const body = await res.body.json() as { hopByHop: string[] }
  assert.deepEqual(body.hopByHop, ['connection', 'keep-alive', 'x-hop', 'proxy-connection'])
  const ka = await get('/hop?close=0')
  assert.equal(ka.headers.connection, 'keep-alive, x-hop')
  await ka.body.dump()
})

test('every response, rule-driven or built in, carries x-stub-replica', async () => {
  for (const p of ['/', '/any/path', '/status/500', '/bytes/3', '/echo', '/__stub/stats']) {
    const res = await get(p)
    assert.equal(res.headers['x-stub-replica'], 'ep-1', p)
    await res.body.dump()
  }
})
