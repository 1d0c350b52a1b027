// The issue-14 test helpers checked against each other, without a gateway: the wire client reads exactly what a
// recording replica sends (Content-Length, chunked, close-delimited), and each replica behaviour does what its
// name says (records raw heads and de-chunked bodies, answers early, resets, stalls, closes idle connections).
import assert from 'node:assert/strict'
import { connect, createServer } from 'node:net'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { ManualClock } from '../helpers/clock.js'
import { DEAD_PORTS, deadAddress, deadPort } from '../helpers/dead-address.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { maskHead, req, WireConnection, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
before(async () => { up = await startRecordingUpstream(2) })
after(async () => { await up?.close() })

test('requests are recorded with their raw head, replica and connection; keep-alive reuses the connection', async () => {
  up.reset()
  const c = await WireConnection.open(up.replicas[1].port)
  const a = await c.send(req('GET /a HTTP/1.1', 'Host: x', 'X-Case: Kept'))
  const b = await c.send(['POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '2;ext=1\r\nde\r\n0\r\nT: v\r\n\r\n'], { gapMs: 10 })
  c.close()
  assert.equal(a.status, 200)
  assert.equal(a.text, '{"replica":"r1"}')
  assert.equal(maskHead(a.head, []), 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-replica: r1\r\ncontent-length: 16')
  assert.equal(b.status, 200)
  assert.deepEqual(up.counts(), { r0: 0, r1: 2 })
  const [ra, rb] = up.replicas[1].received
  assert.equal(ra.rawHead, 'GET /a HTTP/1.1\r\nHost: x\r\nX-Case: Kept')
  assert.deepEqual(ra.headers, [['Host', 'x'], ['X-Case', 'Kept']])
  assert.equal(rb.body.toString(), 'abcde')
  assert.ok(rb.complete)
  assert.equal(ra.conn, rb.conn, 'the same connection')
})

test('the wire client reads chunked and close-delimited bodies, and masks variable header values', async () => {
  up.replicas[0].behave({ kind: 'raw', bytes: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Id: 42\r\n\r\n5\r\nhello\r\n0\r\n\r\n' })
  const r = await wireExchange(up.replicas[0].port, req('GET / HTTP/1.1', 'Host: x'))
  assert.equal(r.interim.length, 1)
  assert.equal(r.text, 'hello')
  assert.equal(r.rawBody.toString(), '5\r\nhello\r\n0\r\n\r\n')
  assert.equal(maskHead(r.head, ['x-id']), 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Id: *')
  up.replicas[0].behave({ kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\n\r\nto the end', close: true })
  assert.equal((await wireExchange(up.replicas[0].port, req('GET / HTTP/1.1', 'Host: x'))).text, 'to the end')
  up.replicas[0].behave({ kind: 'answer' })
})

test('early answers, resets, stalls and idle closes', async () => {
  const r0 = up.replicas[0]
  // early: the answer comes before the body is sent
  r0.behave({ kind: 'early', status: 413, body: 'too big' })
  const c = await WireConnection.open(r0.port)
  const early = await c.send('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n')
  assert.equal(early.status, 413)
  await c.write('hello')
  c.close()
  // reset: the request is recorded whole, then the connection is reset
  r0.behave({ kind: 'reset' })
  up.reset()
  await assert.rejects(wireExchange(r0.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi'), /closed/)
  assert.equal(r0.received[0].body.toString(), 'hi')
  // stall: no answer
  r0.behave({ kind: 'stall' })
  await assert.rejects(wireExchange(r0.port, req('GET / HTTP/1.1', 'Host: x'), { timeoutMs: 100 }), /timed out/)
  // idle close: an answered connection is closed after the idle time, without Connection: close
  r0.behave({ kind: 'answer' })
  r0.setIdleClose(30)
  const k = await WireConnection.open(r0.port)
  const ok = await k.send(req('GET / HTTP/1.1', 'Host: x'))
  assert.equal(ok.header('connection'), undefined)
  await k.closed
  assert.ok(k.isClosed)
  r0.setIdleClose(undefined)
})

test('the manual clock moves only forward, and only when told', () => {
  const c = new ManualClock(10)
  const now = c.now
  assert.equal(now(), 10)
  c.advance(2.5)
  assert.equal(now(), 12.5)
  assert.throws(() => c.set(1), /cannot go back/)
  assert.throws(() => c.advance(-1), /cannot advance/)
})

test('dead addresses refuse connections and lie below the range listen(0) hands out', async () => {
  const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)
  assert.ok(deadPort(DEAD_PORTS - 1) < Math.min(low, 1024), `dead ports below ${low} and 1024`)
  assert.equal(deadAddress(1), '127.0.0.1:2')
  assert.throws(() => deadPort(DEAD_PORTS), /not in 0/)
  for (let i = 0; i < DEAD_PORTS; i++) {
    const code = await new Promise<string>(resolve => {
      const s = connect(deadPort(i), '127.0.0.1')
      s.once('connect', () => { s.destroy(); resolve('connected') })
      s.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)))
    })
    assert.equal(code, 'ECONNREFUSED', deadAddress(i))
  }
  // what listen(0) hands out is never one of them
  const ports = await Promise.all(Array.from({ length: 20 }, () => new Promise<number>(resolve => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })))
  assert.ok(ports.every(p => p > DEAD_PORTS), String(ports))
})
