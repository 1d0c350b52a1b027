// test/runtime/bodies.test.ts: request and response bodies stream through the gateway intact (0 B, 1 KB,
// 5 MB, sized and chunked, checksums both ways), and arrive incrementally rather than after buffering
// (SSE events and chunked pieces as they are sent; the upstream sees an upload before it has ended).
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { patternSha256 } from '../../bench/upstream/stub.js'
import { echoed, replicaAddrs, startRig, waitFor, type Echo, type Rig } from './fixtures.js'

let rig: Rig
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
const MB5 = 5 * 1024 * 1024

before(async () => {
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
route all { match path prefix "/"; timeout 10s; max_body 16MB; proxy web }
`)
})
after(async () => { await rig.close() })

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
