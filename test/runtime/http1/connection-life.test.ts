// test/runtime/http1/connection-life.test.ts: one client connection's life on the http1 engine
// (runtime/http1/connection.ts), on the wire: pipelined requests answered in order, request bodies (length and
// chunked) delivered whole with the connection going on, a body nobody reads dropped so the next request is
// parsed, a head dripped byte by byte still bound by the header timeout, the client's half-close in each state,
// a reset mid-response, `Connection: close` after a large body, a body cut short upstream, and a body over
// max_body. Written for the survivors of the Stryker run of connection.ts (issue 14); the gateway runs in this
// process with `engine: http1`, so an exception in the engine fails the test.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { bound, req, sleep, WireConnection } from '../../helpers/wire.js'

const BIG = Buffer.alloc(1 << 20, 'x')
const HUGE = Buffer.alloc(8 << 20, 'y')
let up: RecordingUpstream
let gw: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave(r => {
    if (r.target === '/up/huge') return { kind: 'answer', body: HUGE }
    if (r.target === '/up/big') return { kind: 'answer', headers: [['content-type', 'text/plain']], body: BIG }
    if (r.target === '/up/slow') return { kind: 'answer', body: 'slow', delayMs: 600 }
    if (r.target.endsWith('/early')) return { kind: 'early', body: 'early' }
    if (r.target === '/up/trunc') return { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789', close: true }
    return { kind: 'answer', body: `${r.method} ${r.target}` }
  })
  gw = await startGateway(`
upstream u { replicas ${up.addrs} }
route small { match path prefix "/small"; max_body 64B; timeout 5s; proxy u }
route up { match path prefix "/up"; timeout 5s; proxy u }
route own { match path prefix "/"; timeout 5s; respond 200 text "ok" }
`, { engine: 'http1', headersTimeoutMs: 500, requestTimeoutMs: 5000, keepAliveTimeoutMs: 5000 })
  assert.equal(gw.running.server.constructor.name, 'Http1Server')
})
after(async () => { await gw.close(); await up.close() })

const open = (): Promise<WireConnection> => WireConnection.open(gw.running.address.port)
/** The body the upstream received for the request to `target` (whole). */
const bodyAt = (target: string): string => {
  const r = up.received.filter(x => x.target === target).at(-1)
  assert.ok(r?.complete, `no whole request to ${target}`)
  return r.body.toString('latin1')
}
/** Whether the server closes the connection within `ms`. */
const closesWithin = async (c: WireConnection, ms: number): Promise<boolean> => { await Promise.race([c.closed, bound(ms)]); return c.isClosed }

test('requests pipelined in one write are answered in order, one after another, on the one connection', async () => {
  const c = await open()
  try {
    await c.write(req('GET /a HTTP/1.1', 'Host: h') + req('GET /up/b HTTP/1.1', 'Host: h') + req('POST /up/c HTTP/1.1', 'Host: h', 'Content-Length: 3') + 'abc' + req('GET /d HTTP/1.1', 'Host: h'))
    const texts = []
    for (let i = 0; i < 4; i++) texts.push((await c.read()).text)
    assert.deepEqual(texts, ['ok', 'GET /up/b', 'POST /up/c', 'ok'])
    assert.equal(bodyAt('/up/c'), 'abc')
    // a request pipelined behind one answered later than it arrived (the upstream takes 600 ms)
    await c.write(req('GET /up/slow HTTP/1.1', 'Host: h') + req('GET /e HTTP/1.1', 'Host: h'))
    assert.equal((await c.read()).text, 'slow')
    assert.equal((await c.read()).text, 'ok')
    assert.equal(c.isClosed, false)
  } finally { c.close() }
})

test('request bodies by length and chunked reach the upstream whole, and the connection serves the next request', async () => {
  const c = await open()
  try {
    const a = await c.send([req('POST /up/len HTTP/1.1', 'Host: h', 'Content-Length: 11') + 'hello', ' world'], { gapMs: 30 })
    assert.equal(a.text, 'POST /up/len')
    assert.equal(bodyAt('/up/len'), 'hello world')
    const b = await c.send([req('PUT /up/chunked HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'], { gapMs: 30 })
    assert.equal(b.text, 'PUT /up/chunked')
    assert.equal(bodyAt('/up/chunked'), 'hello world')
    assert.equal((await c.send(req('GET /up/after HTTP/1.1', 'Host: h'))).text, 'GET /up/after')
  } finally { c.close() }
})

test('an upstream that answers before the body ends: the rest is read and dropped and the next request served; past max_body the connection closes', async () => {
  const c = await open()
  try {
    const body = 'b'.repeat(20_000)
    await c.write(req('POST /up/early HTTP/1.1', 'Host: h', `Content-Length: ${body.length}`) + body.slice(0, 100))
    assert.equal((await c.read()).text, 'early')
    await c.write(body.slice(100))
    assert.equal((await c.send(req('GET /up/next HTTP/1.1', 'Host: h'))).text, 'GET /up/next')
    await c.write(req('POST /up/early HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '4\r\nabcd\r\n')
    assert.equal((await c.read()).text, 'early')
    await c.write('0\r\n\r\n' + req('GET /up/then HTTP/1.1', 'Host: h'))
    assert.equal((await c.read()).text, 'GET /up/then')
  } finally { c.close() }
  // a body past the route's max_body after an early answer is not read to its end: the connection is closed
  const big = await open()
  try {
    await big.write(req('POST /small/early HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '10\r\n' + 'a'.repeat(16) + '\r\n')
    assert.equal((await big.read()).text, 'early')
    for (let i = 0; i < 20 && !big.isClosed; i++) { await big.write('40\r\n' + 'c'.repeat(64) + '\r\n').catch(() => undefined); await sleep(10) }
    assert.equal(await closesWithin(big, 2000), true)
  } finally { big.close() }
})

test('a head dripped a few bytes at a time is still bound by the header timeout from its first byte', async () => {
  const c = await open()
  try {
    const t0 = Date.now()
    const head = 'GET /own HTTP/1.1\r\nHost: h\r\nX-Drip: ' + 'd'.repeat(60)
    let i = 0
    while (!c.isClosed && i < head.length && Date.now() - t0 < 3000) {
      await c.write(head.slice(i, i + 2)).catch(() => undefined)
      i += 2
      await sleep(40)
    }
    const r = await c.read({ timeoutMs: 3000 })
    assert.equal(r.status, 408)
    assert.ok(Date.now() - t0 < 2000, `408 after ${Date.now() - t0} ms (timeout 500 ms)`)
  } finally { c.close() }
})

test('the client half-closes: idle, the gateway closes without a word; mid-head or mid-body, 400; a request being served, no answer', async () => {
  const idle = await open()
  try {
    assert.equal((await idle.send(req('GET /own HTTP/1.1', 'Host: h'))).text, 'ok')
    idle.socket.end()
    assert.equal(await closesWithin(idle, 2000), true)
    assert.equal(idle.unread().length, 0)
  } finally { idle.close() }
  for (const partial of ['GET /own HTTP/1.1\r\nHost: h\r\n', req('POST /up/x HTTP/1.1', 'Host: h', 'Content-Length: 10') + 'abc']) {
    const c = await open()
    try {
      await c.write(partial)
      await sleep(50)
      c.socket.end()
      const r = await c.read({ timeoutMs: 2000 })
      assert.equal(r.status, 400, JSON.stringify(partial))
      assert.equal(await closesWithin(c, 2000), true)
    } finally { c.close() }
  }
  const served = await open()
  try {
    await served.write(req('GET /up/slow HTTP/1.1', 'Host: h'))
    await sleep(50)
    served.socket.end()
    assert.equal(await closesWithin(served, 3000), true)
    await sleep(800) // past the upstream's answer
    assert.equal(served.unread().length, 0)
  } finally { served.close() }
  // the gateway goes on
  const c = await open()
  try { assert.equal((await c.send(req('GET /own HTTP/1.1', 'Host: h'))).text, 'ok') } finally { c.close() }
})

test('Connection: close after a large body: every byte arrives, then the close', async () => {
  const c = await open()
  try {
    const r = await c.send(req('GET /up/big HTTP/1.1', 'Host: h', 'Connection: close'), { timeoutMs: 10_000 })
    assert.equal(r.status, 200)
    assert.equal(r.body.length, BIG.length)
    assert.equal(r.header('connection'), 'close')
    assert.equal(await closesWithin(c, 2000), true)
  } finally { c.close() }
  // a client that reads late: what is still queued in the gateway when the response ends is written before the close
  const late = await open()
  try {
    late.socket.pause()
    await late.write(req('GET /up/huge HTTP/1.1', 'Host: h', 'Connection: close'))
    await sleep(700)
    late.socket.resume()
    const r = await late.read({ timeoutMs: 10_000 })
    assert.equal(r.body.length, HUGE.length)
  } finally { late.close() }
})

test('a client that resets while its large response is being written does not disturb the gateway', async () => {
  for (let i = 0; i < 3; i++) {
    const c = await open()
    await c.write(req('GET /up/big HTTP/1.1', 'Host: h'))
    await sleep(30)
    c.socket.resetAndDestroy()
  }
  await sleep(100)
  const c = await open()
  try { assert.equal((await c.send(req('GET /up/fine HTTP/1.1', 'Host: h'))).text, 'GET /up/fine') } finally { c.close() }
})

test('an upstream body cut short: the client sees its connection closed, not a hang', async () => {
  const c = await open()
  try {
    await c.write(req('GET /up/trunc HTTP/1.1', 'Host: h'))
    assert.equal(await closesWithin(c, 3000), true)
    assert.match(c.unread().toString('latin1'), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n0123456789$/)
  } finally { c.close() }
})

test('a chunked body over max_body: 413, and the connection is closed rather than read to the end', async () => {
  const c = await open()
  try {
    await c.write(req('POST /small/x HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '40\r\n' + 'a'.repeat(64) + '\r\n')
    await c.write('10\r\n' + 'b'.repeat(16) + '\r\n').catch(() => undefined)
    assert.equal(await closesWithin(c, 3000), true)
    assert.match(c.unread().toString('latin1'), /^HTTP\/1\.1 413 /)
  } finally { c.close() }
})
