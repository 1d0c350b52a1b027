// lab/test/peers-bytes.test.ts: the byte-level limit peer (lab/peers/bytes.ts) proxies what the tax table sends
// it and keeps both sides' connections: a GET, a POST body (Content-Length and chunked), a chunked response split
// at every byte, keep-alive reuse on both sides, pipelined requests, HEAD and 204 (no body), an early answer, an
// upstream that closes an idle connection (the request goes out once more), a down upstream (502). Its framing
// readers alone: readFraming and ChunkedScanner. (The checks every peer shares are in peers-proxy.test.ts.)
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { ChunkedScanner, readFraming, startBytesProxy } from '../peers/bytes.js'
import { rawConnect } from '../harness/raw-http.js'
import { deadPort } from '../../test/helpers/dead-address.js'

let upstream: http.Server
const BIG = Buffer.alloc(4 * 1024 * 1024, 'z')
let proxy: { url: string; port: number; close(): Promise<void> }
/** Upstream TCP connections accepted, and the requests they carried. */
let upstreamConnections = 0
const seen: { method: string; url: string; bytes: number; connection: string | undefined }[] = []

before(async () => {
  upstream = http.createServer((req, res) => {
    let bytes = 0
    if (req.url === '/early') { res.writeHead(413, { 'content-length': '5' }); res.end('early'); req.resume(); return }
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, bytes, connection: req.headers.connection })
      if (req.url === '/chunked') { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('hello, '); setTimeout(() => res.end('world'), 20); return }
      if (req.url === '/big') { res.writeHead(200, { 'content-length': BIG.length }); res.end(BIG); return }
      if (req.url === '/empty') { res.writeHead(204); res.end(); return }
      if (req.url === '/close') { res.writeHead(200, { connection: 'close', 'content-length': '2' }); res.end('ok'); return }
      const body = JSON.stringify({ method: req.method, url: req.url, bytes })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
  })
  upstream.on('connection', () => { upstreamConnections++ })
  upstream.keepAliveTimeout = 30_000
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  proxy = await startBytesProxy({ listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }], connections: 2 })
})

after(async () => {
  await proxy.close()
  upstream.closeAllConnections()
  await new Promise((r) => upstream.close(r))
})

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
after(() => agent.destroy())

function send(method: string, path: string, o: { body?: Buffer | string; chunked?: boolean; a?: http.Agent | false } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = o.body !== undefined && o.chunked !== true ? { 'content-length': Buffer.byteLength(o.body) } : {}
    const req = http.request(proxy.url + path, { method, headers, agent: o.a ?? agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), socket: req.socket! }))
    })
    req.on('error', reject)
    if (o.body !== undefined) {
      if (o.chunked === true) { const b = Buffer.from(o.body); for (let i = 0; i < b.length; i += 1000) req.write(b.subarray(i, i + 1000)) }
      else req.write(o.body)
    }
    req.end()
  })
}

test('readFraming: the three fields framing needs, any case, HTTP/1.0 closes unless keep-alive', () => {
  assert.deepEqual(readFraming('GET / HTTP/1.1\r\nHost: a\r\n\r\n', false), { body: 0, length: 0, hasLength: false, close: false })
  assert.deepEqual(readFraming('POST / HTTP/1.1\r\nCONTENT-LENGTH: 12\r\nConnection: Close\r\n\r\n', false), { body: 1, length: 12, hasLength: true, close: true })
  assert.deepEqual(readFraming('POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 5\r\n\r\n', false), { body: 2, length: 5, hasLength: true, close: false })
  assert.deepEqual(readFraming('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', false), { body: 0, length: 0, hasLength: true, close: false })
  assert.equal(readFraming('GET / HTTP/1.0\r\n\r\n', true).close, true)
  assert.equal(readFraming('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true).close, false)
  assert.equal(readFraming('GET / HTTP/1.1\r\nx-connection: close\r\ncache-control: no\r\n\r\n', false).close, false, 'other names starting with c')
})

test('ChunkedScanner: finds the end of a chunked body fed in any split, extensions and trailers included', () => {
  const body = Buffer.from('5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nx-sum: 1\r\n\r\nNEXT')
  const end = body.length - 4
  for (let split = 1; split < body.length; split++) {
    const s = new ChunkedScanner()
    let got = s.scan(body, 0, split)
    if (got < 0) got = s.scan(body, split, body.length)
    assert.equal(got, end, `split at ${split}`)
  }
  const bytewise = new ChunkedScanner()
  let at = -1
  for (let i = 0; i < body.length && at < 0; i++) at = bytewise.scan(body, i, i + 1)
  assert.equal(at, end)
  assert.equal(new ChunkedScanner().scan(Buffer.from('0\r\n\r\n'), 0, 5), 5)
})

test('a GET and a POST body through one kept-alive client connection and one upstream connection', async () => {
  const before = upstreamConnections
  const a = await send('GET', '/hello?x=1')
  assert.equal(a.status, 200)
  assert.deepEqual(JSON.parse(a.body), { method: 'GET', url: '/hello?x=1', bytes: 0 })
  const big = 'x'.repeat(300_000)
  const b = await send('POST', '/upload', { body: big })
  assert.equal(b.status, 200)
  assert.equal(JSON.parse(b.body).bytes, big.length)
  const c = await send('POST', '/upload', { body: big, chunked: true })
  assert.equal(JSON.parse(c.body).bytes, big.length, 'a chunked upload')
  assert.equal(a.socket, c.socket, 'the client connection was kept alive')
  assert.ok(upstreamConnections - before <= 1, `upstream connections opened: ${upstreamConnections - before}`)
})

test('a chunked response streams through, and the connection goes on after it', async () => {
  const r = await send('GET', '/chunked')
  assert.equal(r.status, 200)
  assert.equal(r.headers['transfer-encoding'], 'chunked')
  assert.equal(r.body, 'hello, world')
  assert.equal((await send('GET', '/after')).status, 200)
})

test('HEAD and 204 answers have no body; the next request on the connection is read right', async () => {
  const h = await send('HEAD', '/hello')
  assert.equal(h.status, 200)
  assert.equal(h.body, '')
  const e = await send('GET', '/empty')
  assert.equal(e.status, 204)
  const n = await send('GET', '/n')
  assert.equal(JSON.parse(n.body).url, '/n')
  assert.equal(h.socket, n.socket)
})

test('pipelined requests are answered in order on one connection', async () => {
  const c = await rawConnect('127.0.0.1', proxy.port)
  try {
    await c.write('GET /p1 HTTP/1.1\r\nhost: a\r\n\r\nPOST /p2 HTTP/1.1\r\nhost: a\r\ncontent-length: 3\r\n\r\nabcGET /p3 HTTP/1.1\r\nhost: a\r\n\r\n')
    const got: number[] = []
    for (let i = 0; i < 3; i++) { const r = await c.next(2000); got.push(r.status, r.bodyBytes) }
    assert.deepEqual(seen.slice(-3).map((s) => `${s.method} ${s.url} ${s.bytes}`), ['GET /p1 0', 'POST /p2 3', 'GET /p3 0'])
    assert.equal(c.closed, false)
  } finally { c.close() }
})

test('an upstream Connection: close reaches the client, which the proxy closes after the answer', async () => {
  const c = await rawConnect('127.0.0.1', proxy.port)
  try {
    await c.write('GET /close HTTP/1.1\r\nhost: a\r\n\r\n')
    const r = await c.next(2000)
    assert.equal(r.status, 200)
    assert.equal(r.headers.connection, 'close')
    await new Promise((res) => setTimeout(res, 100))
    assert.equal(c.closed, true)
  } finally { c.close() }
})

test('an early answer: the client gets it, its upload is read to the end, and its connection serves the next request', async () => {
  const c = await rawConnect('127.0.0.1', proxy.port)
  try {
    const size = 1_000_000
    await c.write(`POST /early HTTP/1.1\r\nhost: a\r\ncontent-length: ${size}\r\n\r\n`)
    const upload = (async () => { const chunk = Buffer.alloc(65536, 'x'); for (let n = 0; n < size; n += chunk.length) await c.write(chunk.subarray(0, Math.min(chunk.length, size - n))) })()
    const r = await c.next(3000)
    assert.equal(r.status, 413)
    await upload
    await c.write('GET /next HTTP/1.1\r\nhost: a\r\n\r\n')
    const n = await c.next(3000)
    assert.equal(n.status, 200)
  } finally { c.close() }
})

test('an upstream that closed an idle kept-alive connection: the request goes out once more on a new one', async () => {
  await send('GET', '/warm')
  // close the upstream's side of every idle connection, as its keep-alive timeout would
  upstream.closeIdleConnections()
  await new Promise((r) => setTimeout(r, 50))
  const r = await send('GET', '/again')
  assert.equal(r.status, 200)
  assert.equal(JSON.parse(r.body).url, '/again')
})

test('more concurrent requests than pooled connections wait for one; none fails', async () => {
  // (a keep-alive client: heads pass through as sent, so a client's Connection: close would close the upstream one too)
  const wide = new http.Agent({ keepAlive: true, maxSockets: 12 })
  const before = upstreamConnections
  try {
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => send('POST', `/c${i}`, { body: 'y'.repeat(1000 * i), a: wide })))
    assert.deepEqual(rs.map((r) => JSON.parse(r.body).bytes), Array.from({ length: 12 }, (_, i) => 1000 * i))
  } finally { wide.destroy() }
  assert.ok(upstreamConnections - before <= 2, `a pool of 2 opened ${upstreamConnections - before}`)
})

test('a slow reader of a large answer: the upstream connection it paused serves the next request', async () => {
  const one = await startBytesProxy({ listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: '127.0.0.1', port: (upstream.address() as AddressInfo).port }], connections: 1 })
  const c = await rawConnect('127.0.0.1', one.port)
  try {
    c.socket.pause() // read nothing for a while: the proxy's writes back up and it pauses the upstream socket
    await c.write('GET /big HTTP/1.1\r\nhost: a\r\n\r\n')
    await new Promise((r) => setTimeout(r, 300))
    c.socket.resume()
    const r = await c.next(5000)
    assert.equal(r.bodyBytes, BIG.length)
    // the one pooled connection is the one that was paused
    await c.write('GET /after-big HTTP/1.1\r\nhost: a\r\n\r\n')
    assert.equal((await c.next(3000)).status, 200)
  } finally { c.close(); await one.close() }
})

test('a down upstream is a 502 with Connection: close', async () => {
  const lonely = await startBytesProxy({ listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: '127.0.0.1', port: deadPort() }], connections: 1 })
  try {
    const r = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(lonely.url + '/', { agent: false }, resolve).on('error', reject))
    r.resume()
    assert.equal(r.statusCode, 502)
    assert.equal(r.headers.connection, 'close')
  } finally { await lonely.close() }
})
