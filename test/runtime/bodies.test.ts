// test/runtime/bodies.test.ts: request and response bodies stream through the gateway intact (0 B, 1 KB,
// 5 MB, sized and chunked, checksums both ways), and arrive incrementally rather than after buffering
// (SSE events and chunked pieces as they are sent; the upstream sees an upload before it has ended).
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { patternSha256 } from '../../testkit/upstream/stub.js'
import { echoed, replicaAddrs, startRig, waitFor, type Echo, type Rig } from './fixtures.js'

let rig: Rig
let liar: Server
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const MB5 = 5 * 1024 * 1024

before(async () => {
  // An upstream that breaks its framing: it promises more than it sends, then closes the connection.
  const sockets = new Set<Socket>()
  liar = createServer(sock => {
    sockets.add(sock)
    sock.on('close', () => sockets.delete(sock))
    sock.once('data', d => {
      const chunked = d.toString('latin1').startsWith('GET /liar/chunked')
      sock.end(chunked
        ? 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n'
        : 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(500))
    })
  })
  liar.on('close', () => { for (const s of sockets) s.destroy() })
  await new Promise<void>(r => liar.listen(0, '127.0.0.1', r))
  const liarPort = (liar.address() as { port: number }).port
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
upstream liar { replicas 127.0.0.1:${liarPort} }
route all   { match path prefix "/"; timeout 10s; max_body 16MB; proxy web }
route small { match path prefix "/small"; timeout 10s; max_body 1KB; proxy web }
route liar  { match path prefix "/liar"; timeout 3s; proxy liar }
`)
})
after(async () => {
  await rig.close()
  await new Promise(r => liar.close(r))
})

const send = (path: string, opts: Parameters<typeof request>[1] = {}) => request(rig.gw.url + path, { dispatcher: rig.agent, ...opts })

test('uploads of 0 B, 1 KB and 5 MB with a Content-Length arrive byte-exact', async () => {
  for (const n of [0, 1024, MB5]) {
    const body = randomBytes(n)
    const res = await send('/upload', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
    assert.equal(res.statusCode, 200, `${n} B`)
    const got = await res.body.json() as { bytes: number; sha256: string }
    assert.equal(got.bytes, n, `${n} B`)
    assert.equal(got.sha256, sha(body), `${n} B`)
  }
})

test('chunked uploads (no Content-Length) of 1 KB and 5 MB arrive byte-exact and framed once', async () => {
  for (const n of [1024, MB5]) {
    const body = randomBytes(n)
    const pieces = function* () { for (let i = 0; i < n; i += 64 * 1024) yield body.subarray(i, i + 64 * 1024) }
    const res = await send('/echo', { method: 'PUT', body: Readable.from(pieces()) })
    assert.equal(res.statusCode, 200, `${n} B`)
    const e = await res.body.json() as Echo
    assert.equal(e.bodyBytes, n)
    assert.equal(e.bodySha256, sha(body))
    // undici may re-frame a body it already holds whole with a Content-Length: either framing, never both
    const cl = echoed(e, 'content-length'), te = echoed(e, 'transfer-encoding')
    assert.ok((cl.length === 0 && te.join() === 'chunked') || (te.length === 0 && cl.join() === String(n)), `content-length ${cl}, transfer-encoding ${te}`)
  }
})

test('downloads of 0 B, 1 KB and 5 MB arrive byte-exact with their Content-Length', async () => {
  for (const n of [0, 1024, MB5]) {
    const res = await send(`/bytes/${n}`)
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-length'], String(n))
    const buf = Buffer.from(await res.body.arrayBuffer())
    assert.equal(buf.length, n)
    assert.equal(sha(buf), patternSha256(n))
    assert.equal(res.headers['x-body-sha256'], patternSha256(n))
  }
})

test('a chunked download arrives byte-exact and stays chunked', async () => {
  const res = await send('/chunked?n=40&size=65536')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-length'], undefined)
  const buf = Buffer.from(await res.body.arrayBuffer())
  assert.equal(buf.length, 40 * 65536)
  assert.equal(sha(buf), res.headers['x-body-sha256'])
})

test('SSE events reach the client as they are sent, not when the stream ends', async () => {
  const t0 = performance.now()
  const res = await send('/sse?n=4&interval=400')
  assert.equal(res.statusCode, 200)
  assert.match(String(res.headers['content-type']), /^text\/event-stream/)
  const arrivals: number[] = []
  let text = ''
  for await (const chunk of res.body) {
    const s = (chunk as Buffer).toString()
    text += s
    for (let i = 0; i < (s.match(/\n\n/g) ?? []).length; i++) arrivals.push(performance.now() - t0)
  }
  assert.equal(arrivals.length, 4, text)
  // events are 400 ms apart at the source: buffering would deliver all four together at the end
  assert.ok(arrivals[3] - arrivals[0] >= 700, `events arrived at ${arrivals.map(Math.round).join(', ')} ms`)
  assert.ok(arrivals[0] < arrivals[3] - 700, `first event at ${Math.round(arrivals[0])} ms, last at ${Math.round(arrivals[3])} ms`)
})

test('chunked response pieces are flushed as they arrive', async () => {
  const t0 = performance.now()
  const res = await send('/chunked?n=3&size=100&interval=500')
  const arrivals: number[] = []
  for await (const _ of res.body) arrivals.push(performance.now() - t0)
  assert.ok(arrivals.length >= 2, `pieces: ${arrivals.length}`)
  assert.ok(arrivals[arrivals.length - 1] - arrivals[0] >= 600, `pieces arrived at ${arrivals.map(Math.round).join(', ')} ms`)
})

test('an upload is streamed: the upstream has the request before the client finishes sending', async () => {
  rig.stub.reset()
  let sawUpstream = false
  async function* slow() {
    yield Buffer.alloc(1024, 1)
    // a gateway that buffered the whole body would never let the upstream see the request here
    await waitFor(() => rig.stub.stats().inFlight === 1, 4000, 'the upstream to receive the request head')
    sawUpstream = true
    yield Buffer.alloc(1024, 2)
  }
  const res = await send('/upload', { method: 'POST', body: Readable.from(slow()) })
  const got = await res.body.json() as { bytes: number }
  assert.equal(res.statusCode, 200)
  assert.equal(got.bytes, 2048)
  assert.ok(sawUpstream)
})

test('a response larger than the client reads at once is delivered with backpressure, intact', async () => {
  // read slowly: the gateway must pause the upstream rather than drop or buffer without bound
  const n = 8 * 1024 * 1024
  const res = await send(`/bytes/${n}`)
  const h = createHash('sha256')
  let got = 0
  for await (const chunk of res.body) {
    h.update(chunk as Buffer)
    got += (chunk as Buffer).length
    if (got < 1024 * 1024) await new Promise(r => setTimeout(r, 5))
  }
  assert.equal(got, n)
  assert.equal(h.digest('hex'), patternSha256(n))
})

test('an upstream body cut short is passed on as cut short, never as a complete response', async () => {
  for (const path of ['/liar/length', '/liar/chunked']) {
    const res = await send(path)
    assert.equal(res.statusCode, 200, path)
    let bytes = 0
    await assert.rejects(async () => { for await (const c of res.body) bytes += (c as Buffer).length }, `${path}: the client must see the truncation`)
    assert.ok(bytes <= 500, `${path}: ${bytes} bytes`)
  }
})

test('max_body: a declared length over the limit → 413 before anything is forwarded; a chunked body over it is cut off', async () => {
  rig.stub.reset()
  const res = await send('/small/upload', { method: 'POST', body: Buffer.alloc(4096) })
  assert.equal(res.statusCode, 413)
  assert.equal((await res.body.json() as { error: string }).error, 'payload_too_large')
  assert.equal(rig.stub.stats().requests, 0)
  const ok = await send('/small/x', { method: 'POST', body: Buffer.alloc(1024) })
  assert.equal(ok.statusCode, 200)
  await ok.body.dump()
  // a chunked upload has no length up front: it is counted as it streams and fails once past the limit
  const pieces = async function* () { for (let i = 0; i < 16; i++) yield Buffer.alloc(512) }
  // (`?mode=upload`: the stub reads the whole body before answering, so the limit is what stops it)
  const chunked = await send('/small/upload?mode=upload', { method: 'POST', body: Readable.from(pieces()) }).then(async r => {
    await r.body.dump(); return r.statusCode
  }, () => 'connection closed')
  assert.ok(chunked === 413 || chunked === 'connection closed', String(chunked))
  await new Promise(r => setTimeout(r, 100))
  assert.equal(rig.stub.stats().statuses['200'] ?? 0, 1, 'only the 1 KB request completed upstream')
})
