// test/runtime/http1/connection-pipeline.test.ts: how an http1-engine connection ends an answer and goes on or
// closes. A gateway-made answer larger than the socket can take, sent with Connection: close to a client that
// reads late, arrives whole before the close, and the connection is then closed on the gateway's side even if
// the client keeps its own side open. Requests pipelined behind another on one http1-engine
// connection (runtime/http1/connection.ts), where the response before them did something unusual: a second
// large answer to a client that reads late still gets every byte (socket 'drain' reaches it, also after the
// first answer's last write completes behind it); a request behind one refused with 413 and Connection: close is never served (issue 14: survivors
// of the Stryker run of connection.ts).
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { bound, req, sleep, WireConnection } from '../../helpers/wire.js'

const HUGE = Buffer.alloc(8 << 20, 'y')
let up: RecordingUpstream
let gw: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave(r => r.target === '/up/huge' ? { kind: 'answer', body: HUGE } : { kind: 'answer', body: `${r.method} ${r.target}` })
  gw = await startGateway(`
upstream u { replicas ${up.addrs} }
route small { match path prefix "/small"; max_body 64B; timeout 5s; proxy u }
route up { match path prefix "/up"; timeout 5s; proxy u }
route own { match path prefix "/"; timeout 5s; respond 200 text "ok" }
`, { engine: 'http1', headersTimeoutMs: 2000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 5000, drainTimeoutMs: 500 })
})
after(async () => { await gw.close(); await up.close() })

const open = (): Promise<WireConnection> => WireConnection.open(gw.running.address.port)

test('two large answers pipelined, to a client that reads late, arrive whole: the second gets its drain while the first is still being written', async () => {
  const c = await open()
  try {
    c.socket.pause()
    await c.write(req('GET /up/huge HTTP/1.1', 'Host: h') + req('GET /up/huge HTTP/1.1', 'Host: h'))
    await sleep(600) // the gateway fills the socket: the first answer's last write waits, the second has begun
    c.socket.resume()
    for (const which of ['first', 'second']) {
      const r = await c.read({ timeoutMs: 10_000 })
      assert.equal(r.status, 200, which)
      assert.equal(r.body.length, HUGE.length, which)
    }
    // and the connection goes on
    assert.equal((await c.send(req('GET /up/third HTTP/1.1', 'Host: h'))).text, 'GET /up/third')
  } finally { c.close() }
})

test('a request pipelined behind a chunked body that ends past max_body is never served: 413, then the close', async () => {
  up.reset()
  const c = await open()
  try {
    // the head and a first chunk; once the gateway reads the body, the chunk that crosses max_body, the last
    // chunk and the next request in one write: the 413 is decided while that write is being parsed
    await c.write(req('POST /small/x HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '28\r\n' + 'a'.repeat(40) + '\r\n')
    await sleep(100)
    await c.write('28\r\n' + 'b'.repeat(40) + '\r\n0\r\n\r\n' + req('GET /up/behind HTTP/1.1', 'Host: h'))
    await Promise.race([c.closed, bound(3000)])
    assert.equal(c.isClosed, true, 'closed after the 413')
    const text = c.unread().toString('latin1')
    assert.match(text, /^HTTP\/1\.1 413 /)
    assert.equal(text.split('HTTP/1.1 ').length - 1, 1, `one answer only: ${JSON.stringify(text.slice(0, 300))}`)
  } finally { c.close() }
  await sleep(100)
  assert.deepEqual(up.received.map(r => r.target), ['/small/x'], 'the request behind never reached the upstream')
  assert.equal(up.received[0].complete, false, 'the body past max_body was not forwarded whole')
})

test('a request with a body behind a 417 (an Expect other than 100-continue): the answer closes the connection, neither it nor the request behind is served', async () => {
  const c = await open()
  try {
    const before = up.received.length
    const body = 'z'.repeat(200_000)
    await c.write(req('POST /up/x HTTP/1.1', 'Host: h', 'Expect: something-else', `Content-Length: ${body.length}`) + body + req('GET /up/after HTTP/1.1', 'Host: h'))
    const first = await c.read({ timeoutMs: 5000 })
    assert.equal(first.status, 417)
    assert.equal(first.header('connection'), 'close')
    await Promise.race([c.closed, bound(3000)])
    assert.equal(c.isClosed, true)
    assert.equal(c.unread().length, 0, 'no second answer')
    await sleep(100)
    assert.equal(up.received.length, before, 'nothing reached the upstream')
  } finally { c.close() }
})

test('Connection: close after a gateway-made answer larger than the socket takes: every byte arrives, then the gateway closes its side for good', async () => {
  const SIZE = 6_000_000 // more than the loopback socket buffers hold: part of it is still queued in the gateway when the answer ends
  const g = await startGateway(`upstream u { replicas ${up.addrs} }
route up { match path prefix "/up"; timeout 10s; proxy u }
route own { match path prefix "/"; timeout 10s; respond 200 text "${'y'.repeat(SIZE)}" }`, { engine: 'http1', drainTimeoutMs: 500 })
  try {
    // a client that keeps its side open after the gateway's FIN (allowHalfOpen): the gateway must still let go
    const s = connect({ port: g.running.address.port, host: '127.0.0.1', allowHalfOpen: true })
    await new Promise(r => s.once('connect', r))
    let got = 0
    s.on('data', (c: Buffer) => { got += c.length })
    const ended = new Promise(r => s.once('end', r))
    s.pause()
    s.write(req('GET / HTTP/1.1', 'Host: h', 'Connection: close'))
    await sleep(300)
    s.resume()
    await Promise.race([ended, bound(8000)])
    assert.ok(got > SIZE && got < SIZE + 300, `${got} bytes for a ${SIZE}-byte body`)
    const open = async () => new Promise<number>((res, rej) => g.running.server.getConnections((e, n) => e ? rej(e) : res(n)))
    for (let i = 0; i < 50 && await open() > 0; i++) await sleep(20)
    assert.equal(await open(), 0, 'the gateway closed the connection although the client did not')
    s.destroy()
    // kept alive: the answer's last write waits for the client, and the connection serves the next request after it
    const c = await WireConnection.open(g.running.address.port)
    try {
      c.socket.pause()
      await c.write(req('GET / HTTP/1.1', 'Host: h'))
      await sleep(300)
      c.socket.resume()
      const r = await c.read({ timeoutMs: 8000 })
      assert.equal(r.body.length, SIZE)
      assert.equal((await c.send(req('GET / HTTP/1.1', 'Host: h'), { timeoutMs: 8000 })).body.length, SIZE)
    } finally { c.close() }
    // a proxied answer pipelined behind it: it begins while the first answer's last write still waits for the
    // client, and gets its 'drain' after that write completes
    const p = await WireConnection.open(g.running.address.port)
    try {
      p.socket.pause()
      // two of them first: more than the socket buffers take, so the second one's last write surely waits
      await p.write(req('GET / HTTP/1.1', 'Host: h') + req('GET / HTTP/1.1', 'Host: h') + req('GET /up/huge HTTP/1.1', 'Host: h'))
      await sleep(300)
      p.socket.resume()
      assert.equal((await p.read({ timeoutMs: 8000 })).body.length, SIZE)
      assert.equal((await p.read({ timeoutMs: 8000 })).body.length, SIZE)
      assert.equal((await p.read({ timeoutMs: 8000 })).body.length, HUGE.length)
    } finally { p.close() }
    // the client half-closes once the answer has ended (still queued in the gateway): the rest is still sent
    const h = await WireConnection.open(g.running.address.port)
    try {
      h.socket.pause()
      await h.write(req('GET / HTTP/1.1', 'Host: h', 'Connection: close'))
      await sleep(300)
      h.socket.end()
      await sleep(100)
      h.socket.resume()
      assert.equal((await h.read({ timeoutMs: 8000 })).body.length, SIZE)
    } finally { h.close() }
  } finally { await g.close() }
})
