// test/runtime/http1/edge-response-unit.test.ts: the http1 engine's response object (runtime/http1/edge-response.ts)
// driven directly over a real loopback socket, with the connection's side (ResponseSink) recorded: the exact bytes
// of heads and bodies (length-framed in one write or two, chunked, empty, no body for HEAD/1xx/204/304), the
// implicit head, 100-continue and keep-alive, what is ignored after end or destroy or on a closed socket, the
// connection told once per response (ended) and its write callback given once (written), 'drain' bookkeeping
// and 'close' after flushed/closed. Fast and in-process (issue 14: the mutants of edge-response.ts).
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { chunkedByDefault, Http1Response, type ResponseSink } from '../../../runtime/http1/edge-response.js'

let server: Server
const accepted: Socket[] = []
const tick = () => new Promise(r => setImmediate(r))

before(async () => {
  server = createServer(s => { accepted.push(s) })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()))
})
after(() => { server.close() })

interface Pair { sink: ResponseSink & { endedWith: Http1Response[]; writtenWith: (Error | null | undefined)[] }; client: Socket; received(): string; gsock: Socket }

/** A server-side socket as the response's sink, and the client reading what it is sent. */
async function pair(keepAliveSeconds = 5): Promise<Pair> {
  const n = accepted.length
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  await new Promise<void>(r => client.once('connect', () => r()))
  while (accepted.length === n) await tick()
  const gsock = accepted[n]
  let got = Buffer.alloc(0)
  client.on('data', (c: Buffer) => { got = Buffer.concat([got, c]) })
  client.on('error', () => undefined)
  gsock.on('error', () => undefined)
  const endedWith: Http1Response[] = [], writtenWith: (Error | null | undefined)[] = []
  const sink = { socket: gsock, keepAliveSeconds, ended: (r: Http1Response) => { endedWith.push(r) }, written: (e?: Error | null) => { writtenWith.push(e) }, endedWith, writtenWith }
  return { sink, client, gsock, received: () => got.toString('latin1').replace(/\r\nDate: [^\r]*\r\n/g, '\r\nDate: *\r\n') }
}

/** Waits until the client has `n` bytes or more (or 2 s). */
async function until(p: Pair, pred: (s: string) => boolean): Promise<string> {
  for (let i = 0; i < 200 && !pred(p.received()); i++) await new Promise(r => setTimeout(r, 10))
  return p.received()
}
const done = (p: Pair) => { p.client.destroy(); p.gsock.destroy() }
const res = (p: Pair, o: { keepAlive?: boolean; isHead?: boolean; chunked?: boolean; expect?: boolean } = {}) =>
  new Http1Response(p.sink, o.keepAlive ?? true, o.isHead ?? false, o.chunked ?? true, o.expect ?? false)

const KA = 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n'

test('a length-framed answer: head and body in one piece, ended once, its write callback once', async () => {
  const p = await pair()
  try {
    const r = res(p)
    assert.equal(r.writeHead(200, ['Content-Length', '5', 'X-A', 'b']), r)
    assert.deepEqual([r.statusCode, r.headersSent, r.chunked, r.last], [200, true, false, false])
    assert.equal(p.received(), '', 'the head waits for the body')
    assert.equal(r.end('hello'), r)
    assert.equal(r.finished, true)
    assert.equal(await until(p, s => s.endsWith('hello')), `HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\nDate: *\r\n${KA}\r\nhello`)
    await tick()
    assert.deepEqual([p.sink.endedWith.length, p.sink.endedWith[0] === r, p.sink.writtenWith], [1, true, [null]])
    r.end('again')
    assert.equal(p.sink.endedWith.length, 1, 'a second end() is ignored')
    assert.equal(r.write(Buffer.from('x')), false, 'a write after end() is refused')
  } finally { done(p) }
})

test('bodies around the one-buffer limit (16 KiB) and in several writes arrive byte for byte', async () => {
  for (const size of [16 * 1024, 16 * 1024 + 1, 100_000]) {
    const p = await pair()
    try {
      const body = Buffer.alloc(size, 'q')
      const r = res(p)
      r.writeHead(201, ['Content-Length', String(size * 2)])
      assert.equal(typeof r.write(body), 'boolean')
      r.end(body)
      const head = `HTTP/1.1 201 Created\r\nContent-Length: ${size * 2}\r\nDate: *\r\n${KA}\r\n`
      const got = await until(p, s => s.length >= head.length + size * 2)
      assert.equal(got.length, head.length + size * 2, `size ${size}`)
      assert.ok(got.startsWith(head) && /^q+$/.test(got.slice(head.length)), `size ${size}`)
      await tick(); await tick()
      assert.deepEqual(p.sink.writtenWith, [null], `size ${size}: the write callback once`)
    } finally { done(p) }
  }
})

test('a chunked answer: each write one chunk, empty writes nothing, end with and without data, the last chunk', async () => {
  const p = await pair()
  try {
    const r = res(p)
    r.writeHead(200, ['X-A', '1'])
    assert.equal(r.chunked, true)
    assert.equal(r.write(Buffer.alloc(0)), true)
    assert.equal(await until(p, s => s.endsWith('\r\n\r\n')), `HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: *\r\n${KA}Transfer-Encoding: chunked\r\n\r\n`, 'an empty write sends the head alone')
    r.write(Buffer.from('hello world, 26 bytes long'))
    r.write(Buffer.alloc(0))
    r.end('end')
    const want = `HTTP/1.1 200 OK\r\nX-A: 1\r\nDate: *\r\n${KA}Transfer-Encoding: chunked\r\n\r\n1a\r\nhello world, 26 bytes long\r\n3\r\nend\r\n0\r\n\r\n`
    assert.equal(await until(p, s => s.endsWith('0\r\n\r\n')), want)
    await tick()
    assert.deepEqual(p.sink.writtenWith, [null])
  } finally { done(p) }
  const q = await pair()
  try {
    const r = res(q)
    r.writeHead(200, [])
    r.write(Buffer.from('ab'))
    r.end()
    assert.equal(await until(q, s => s.endsWith('0\r\n\r\n')), `HTTP/1.1 200 OK\r\nDate: *\r\n${KA}Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n`)
    await tick()
    assert.deepEqual(q.sink.writtenWith, [null])
  } finally { done(q) }
})

test('the head alone when the body is empty; a body written earlier and an empty end(): the callback comes once, without a write', async () => {
  const p = await pair()
  try {
    const r = res(p)
    r.writeHead(204, ['X-A', '1'])
    r.end()
    assert.equal(await until(p, s => s.endsWith('\r\n\r\n')), `HTTP/1.1 204 No Content\r\nX-A: 1\r\nDate: *\r\n${KA}\r\n`)
    await tick()
    assert.deepEqual(p.sink.writtenWith, [null])
  } finally { done(p) }
  const q = await pair()
  try {
    const r = res(q)
    r.writeHead(200, ['Content-Length', '3'])
    r.write(Buffer.from('abc'))
    await until(q, s => s.endsWith('abc'))
    r.end()
    assert.equal(q.sink.writtenWith.length, 0, 'not called synchronously')
    await tick()
    assert.deepEqual(q.sink.writtenWith, [undefined], 'called once on the next tick (everything was already handed to the OS)')
    assert.equal(q.received(), `HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDate: *\r\n${KA}\r\nabc`)
  } finally { done(q) }
})

test('no body for HEAD, 1xx, 204 and 304: writes and end data are dropped, the head is sent', async () => {
  for (const [status, isHead, line] of [[200, true, '200 OK'], [204, false, '204 No Content'], [304, false, '304 Not Modified'], [103, false, '103 Early Hints']] as const) {
    const p = await pair()
    try {
      const r = res(p, { isHead })
      r.writeHead(status, ['Content-Length', '5'])
      assert.equal(r.write(Buffer.from('hello')), true, `${status}: a dropped write says go on`)
      r.write(Buffer.from('again'))
      r.end('bye')
      const got = await until(p, s => s.endsWith('\r\n\r\n'))
      await new Promise(res => setTimeout(res, 30))
      assert.equal(p.received(), `HTTP/1.1 ${line}\r\nContent-Length: 5\r\nDate: *\r\n${KA}\r\n`, `${status} head ${isHead}`)
      assert.equal(got, p.received())
    } finally { done(p) }
  }
})

test('the implicit head: a write or end without writeHead sends the status set on the response, no headers', async () => {
  const p = await pair()
  try {
    const r = res(p)
    r.statusCode = 404
    r.write(Buffer.from('x'))
    assert.equal(r.headersSent, true)
    r.end()
    assert.equal(await until(p, s => s.endsWith('0\r\n\r\n')), `HTTP/1.1 404 Not Found\r\nDate: *\r\n${KA}Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n`)
  } finally { done(p) }
  const q = await pair()
  try {
    const r = res(q)
    r.statusCode = 202
    r.end()
    assert.equal(await until(q, s => s.endsWith('0\r\n\r\n')), `HTTP/1.1 202 Accepted\r\nDate: *\r\n${KA}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`)
  } finally { done(q) }
})

test('writeHead twice throws ERR_HTTP_HEADERS_SENT', async () => {
  const p = await pair()
  try {
    const r = res(p)
    r.writeHead(200, [])
    assert.throws(() => r.writeHead(500, []), (e: NodeJS.ErrnoException) => e.code === 'ERR_HTTP_HEADERS_SENT' && e.message === 'Cannot write headers after they are sent to the client')
    assert.equal(r.statusCode, 200)
  } finally { done(p) }
})

test('100-continue: sent when asked, then the connection may stay open; not sent, the answer closes it', async () => {
  const p = await pair()
  try {
    const r = res(p, { expect: true })
    r.writeContinue()
    assert.equal(await until(p, s => s.endsWith('\r\n\r\n')), 'HTTP/1.1 100 Continue\r\n\r\n')
    r.writeHead(200, ['Content-Length', '0'])
    r.end()
    assert.equal(await until(p, s => s.length > 30 && s.endsWith('\r\n\r\n')), `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: *\r\n${KA}\r\n`)
    assert.equal(r.last, false)
  } finally { done(p) }
  const q = await pair()
  try {
    const r = res(q, { expect: true })
    r.writeHead(200, ['Content-Length', '0'])
    r.end()
    assert.equal(await until(q, s => s.endsWith('\r\n\r\n')), 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nDate: *\r\nConnection: close\r\n\r\n')
    assert.deepEqual([r.last, r.shouldKeepAlive], [true, false])
  } finally { done(q) }
  const d = await pair()
  try {
    const r = res(d, { expect: true })
    r.closed()
    r.writeContinue()
    await new Promise(res => setTimeout(res, 30))
    assert.equal(d.received(), '', 'no 100 Continue on a response that is over')
  } finally { done(d) }
})

test('an HTTP/1.0 client (no chunked by default): a body of unknown length ends with the connection; keep-alive seconds come from the connection', async () => {
  const p = await pair(0)
  try {
    const r = res(p, { chunked: false })
    r.writeHead(200, [])
    r.end('abc')
    assert.equal(await until(p, s => s.endsWith('abc')), 'HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\n\r\nabc')
    assert.equal(r.last, true)
  } finally { done(p) }
  const q = await pair(0)
  try {
    const r = res(q)
    r.writeHead(200, ['Content-Length', '1'])
    r.end('z')
    assert.equal(await until(q, s => s.endsWith('z')), 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nDate: *\r\nConnection: keep-alive\r\n\r\nz')
  } finally { done(q) }
})

test('on a socket that is no longer writable: writes are refused, end() tells the connection without writing', async () => {
  const p = await pair()
  try {
    const r = res(p)
    r.writeHead(200, ['Content-Length', '1'])
    p.gsock.end()
    assert.equal(r.write(Buffer.from('x')), false)
    r.end('x')
    assert.deepEqual([p.sink.endedWith.length, r.finished], [1, true])
    await tick()
    assert.deepEqual(p.sink.writtenWith, [], 'no write, so no write callback')
  } finally { done(p) }
})

test('after closed(): write refused, end() only marks it finished (the connection is not told again)', async () => {
  const p = await pair()
  try {
    const r = res(p)
    let closes = 0
    r.on('close', () => { closes++ })
    r.closed()
    r.closed()
    assert.equal(r.destroyed, true)
    assert.equal(closes, 0, "'close' comes on the next tick")
    await tick()
    assert.equal(closes, 1, "one 'close'")
    assert.equal(r.write(Buffer.from('x')), false)
    r.end('x')
    assert.deepEqual([r.finished, p.sink.endedWith.length, r.headersSent], [true, 0, false])
    r.flushed()
    assert.equal(r.writableFinished, false, 'flushed() after closed() changes nothing')
    await tick()
    assert.equal(closes, 1)
    await new Promise(res => setTimeout(res, 30))
    assert.equal(p.received(), '')
  } finally { done(p) }
})

test("flushed(): writableFinished, then one 'close'; destroy(err) destroys the socket", async () => {
  const p = await pair()
  try {
    const r = res(p)
    let closes = 0
    r.on('close', () => { closes++ })
    r.flushed()
    assert.deepEqual([r.writableFinished, r.destroyed], [true, true])
    await tick()
    assert.equal(closes, 1)
    const err = new Error('boom')
    let seen: Error | undefined
    p.gsock.once('error', e => { seen = e })
    assert.equal(r.destroy(err), r)
    assert.equal(p.gsock.destroyed, true)
    await tick()
    assert.equal(seen, err)
  } finally { done(p) }
})

test("a write the socket cannot take at once marks the response as wanting 'drain'; one it takes does not", async () => {
  const p = await pair()
  try {
    p.client.pause()
    const r = res(p)
    r.writeHead(200, [])
    assert.equal(r.write(Buffer.alloc(10)), true)
    assert.equal(r.needDrain, false)
    let ok = true
    for (let i = 0; i < 400 && ok; i++) ok = r.write(Buffer.alloc(64 * 1024))
    assert.equal(ok, false)
    assert.equal(r.needDrain, true)
  } finally { done(p) }
  const q = await pair()
  try {
    q.client.pause()
    const r = res(q)
    r.writeHead(200, ['Content-Length', String(8 << 20)])
    assert.equal(r.write(Buffer.alloc(8 << 20)), false, 'a large first write with the head')
    assert.equal(r.needDrain, true)
  } finally { done(q) }
})

test('chunkedByDefault: HTTP/1.1, or HTTP/1.0 with chunked in TE', () => {
  assert.equal(chunkedByDefault(1, undefined), true)
  assert.equal(chunkedByDefault(0, undefined), false)
  assert.equal(chunkedByDefault(0, 'chunked'), true)
  assert.equal(chunkedByDefault(0, 'gzip, Chunked'), true)
  assert.equal(chunkedByDefault(0, 'xchunked'), false)
  assert.equal(chunkedByDefault(0, ['chunked']), false, 'a list is not a header value node:http would test')
})
