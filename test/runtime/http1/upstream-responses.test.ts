// test/runtime/http1/upstream-responses.test.ts: how the http1 engine's upstream pool reads answers
// (runtime/http1/upstream-connection.ts): framing (length, chunked, until close; none for HEAD/204/304), 1xx
// interim answers reported then skipped, a malformed answer refused (GW_ERR_UPSTREAM_PROTOCOL), resets before
// and after the head, the body idle timeout, an early answer (before the request body was written: delivered,
// the connection not reused), backpressure (a paused handler stops the reading: memory stays bounded),
// a 101 handed over with the socket and the bytes after its head, and the stale-socket rule.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { delay, ok, Recorder, send, waitFor, upstreamsClosedAfter } from './upstream-helpers.js'

const upstream = upstreamsClosedAfter()

const H = ['host', 'h']

test('chunked and close-framed bodies are delivered whole; a close-framed one ends at the FIN', async () => {
  const up = await upstream(c => {
    if (c.n === 1) c.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nx-trailer: t\r\n\r\n')
    else { c.socket.write('HTTP/1.1 200 OK\r\n\r\nuntil'); setTimeout(() => c.socket.end(' close'), 20) }
  })
  const pool = up.pool()
  const a = await send(pool, { headers: H })
  assert.equal(a.body.toString(), 'abcde')
  const b = await send(pool, { headers: H })
  assert.equal(b.body.toString(), 'abcde', 'the chunked connection was reused')
  assert.equal(up.conns.length, 1)
  up.conns[0].socket.destroy()
  await waitFor(() => up.conns.length === 1 && up.conns[0].closed, 2000, 'close')
  const c = await send(pool, { headers: H })
  assert.equal(c.error, null)
  assert.equal(c.body.toString(), 'until close')
  await pool.close()
})

test('HEAD, 204 and 304 answers have no body (the next answer on the connection is read correctly)', async () => {
  const up = await upstream((c, req) => {
    const path = req.split(' ')[1]
    if (path === '/head') c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n')
    else if (path === '/204') c.socket.write('HTTP/1.1 204 No Content\r\n\r\n')
    else if (path === '/304') c.socket.write('HTTP/1.1 304 Not Modified\r\ncontent-length: 99\r\n\r\n')
    else c.socket.write(ok('after'))
  })
  const pool = up.pool()
  const head = await send(pool, { method: 'HEAD', path: '/head', headers: H })
  assert.equal(head.status, 200)
  assert.equal(head.body.length, 0)
  for (const p of ['/204', '/304']) {
    const o = await send(pool, { path: p, headers: H })
    assert.equal(o.status, Number(p.slice(1)))
    assert.equal(o.body.length, 0)
    const next = await send(pool, { path: '/next', headers: H })
    assert.equal(next.body.toString(), 'after', `the answer after ${p}`)
  }
  assert.equal(up.conns.length, 2, 'the HEAD\'s connection closed; 204 and 304 kept theirs')
  await pool.close()
})

test('1xx interim answers are reported with their status, then the final answer is delivered', async () => {
  const up = await upstream(c => c.socket.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n' + ok('final')))
  const pool = up.pool()
  const o = await send(pool, { method: 'POST', headers: H, body: Buffer.from('x') })
  assert.deepEqual(o.interim, [103, 100])
  assert.equal(o.status, 200)
  assert.equal(o.body.toString(), 'final')
  await pool.close()
})

test('a malformed answer fails with GW_ERR_UPSTREAM_PROTOCOL and closes the connection', async () => {
  const bad = [
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab',
    'HTTP/1.1 2x0 OK\r\n\r\n',
    'HTTP/1.1 200 OK\r\nbad header\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx: a\rb\r\n\r\n',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    'HTTP/1.1 200 OK\r\nx: ' + 'a'.repeat(17 * 1024) + '\r\n\r\n',
  ]
  let i = 0
  const up = await upstream(c => c.socket.write(bad[i]))
  const pool = up.pool()
  for (; i < bad.length; i++) {
    const o = await send(pool, { headers: H })
    assert.equal(o.error?.code, 'GW_ERR_UPSTREAM_PROTOCOL', JSON.stringify(bad[i].slice(0, 60)))
  }
  await pool.close()
})

test('a reset before the head fails the exchange (ECONNRESET or other side closed); one mid-body after the head too', async () => {
  const up = await upstream((c, req) => {
    if (req.includes('/before')) c.socket.resetAndDestroy()
    else if (req.includes('/fin')) c.socket.end()
    else { c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial'); setTimeout(() => c.socket.resetAndDestroy(), 20) }
  })
  const pool = up.pool()
  const before = await send(pool, { path: '/before', headers: H })
  assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(before.error?.code ?? ''), String(before.error?.code))
  const fin = await send(pool, { path: '/fin', headers: H })
  assert.equal(fin.error?.code, 'UND_ERR_SOCKET')
  const mid = await send(pool, { path: '/mid', headers: H })
  assert.equal(mid.status, 200, 'the head was delivered')
  assert.equal(mid.body.toString(), 'partial')
  assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(mid.error?.code ?? ''), String(mid.error?.code))
  await pool.close()
})

test('a body that stalls longer than the body idle time fails with UND_ERR_BODY_TIMEOUT; a paused reader does not', async () => {
  const up = await upstream((c, req) => {
    if (req.includes('/stall')) c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc')
    else { c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabc'); setTimeout(() => c.socket.write('def'), 400) }
  })
  const pool = up.pool({ bodyIdleMs: 150 })
  const t0 = Date.now()
  const stalled = await send(pool, { path: '/stall', headers: H })
  assert.equal(stalled.error?.code, 'UND_ERR_BODY_TIMEOUT')
  assert.ok(Date.now() - t0 < 1500)
  // paused by the handler for 400 ms (the client not reading): not the upstream's stall
  const r = new Recorder()
  r.pause = true
  pool.dispatch({ method: 'GET', path: '/slow-reader', headers: H, body: null }, r)
  await waitFor(() => r.received === 3, 2000, 'the first bytes')
  await delay(500)
  r.pause = false
  r.resumeFn!()
  const o = await r.done
  assert.equal(o.error, null)
  assert.equal(o.body.toString(), 'abcdef')
  await pool.close()
})

test('an early answer (before the request body was written) is delivered; the connection is not reused', async () => {
  // the upstream answers the upload (below, by hand) while its body is still coming
  const up = await upstream((c, req) => { if (req.includes('/next')) c.socket.write(ok('next')) })
  const pool = up.pool()
  const body = new Readable({ read() {} })
  body.push('first part')
  const r = new Recorder()
  pool.dispatch({ method: 'POST', path: '/upload', headers: H, body }, r)
  await waitFor(() => up.conns.length === 1 && up.conns[0].data.includes('first part'), 2000, 'the first part at the upstream')
  up.conns[0].socket.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 4\r\n\r\nbig!')
  const o = await r.done
  assert.equal(o.status, 413)
  assert.equal(o.body.toString(), 'big!')
  assert.ok(body.destroyed, 'the request body is let go')
  await waitFor(() => up.conns[0].closed, 2000, 'the connection to close')
  const next = await send(pool, { path: '/next', headers: H })
  assert.equal(next.body.toString(), 'next')
  assert.equal(up.conns.length, 2)
  await pool.close()
})

test('a paused handler stops the reading: a fast upstream cannot fill memory, and resuming delivers every byte', async () => {
  const TOTAL = 64 * 1024 * 1024
  let written = 0
  const up = await upstream(c => {
    c.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${TOTAL}\r\n\r\n`)
    const block = Buffer.alloc(64 * 1024, 0x61)
    const pump = () => { while (written < TOTAL) { written += block.length; if (!c.socket.write(block)) { c.socket.once('drain', pump); return } } }
    pump()
  })
  const pool = up.pool()
  const r = new Recorder()
  r.pause = true
  pool.dispatch({ method: 'GET', path: '/big', headers: H, body: null }, r)
  await waitFor(() => r.received > 0, 2000, 'the first bytes')
  await delay(300)
  const at = written
  assert.ok(r.received < 1024 * 1024, `${r.received} bytes delivered while paused`)
  assert.ok(written < 24 * 1024 * 1024, `the upstream could write ${written} bytes while gw was paused`)
  await delay(200)
  assert.equal(written, at, 'the upstream is held by TCP flow control')
  r.pause = false
  r.chunks = [] // count, do not keep
  r.resumeFn!()
  const o = await r.done
  assert.equal(o.error, null)
  assert.equal(r.received, TOTAL)
  await pool.close()
})

test('101: the socket is handed over with the bytes that followed the head, and leaves the pool', async () => {
  const up = await upstream(c => c.socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\nfirst-frame'))
  const pool = up.pool()
  let disconnects = 0
  pool.on('disconnect', () => disconnects++)
  const o = await send(pool, { path: '/ws', headers: H, upgrade: 'websocket' })
  assert.equal(o.upgraded?.status, 101)
  assert.deepEqual(o.upgraded?.headers, ['upgrade', 'websocket', 'connection', 'upgrade'])
  const socket = o.upgraded!.socket
  const got: Buffer[] = []
  socket.on('data', (b: Buffer) => got.push(b))
  socket.resume()
  await waitFor(() => Buffer.concat(got).toString() === 'first-frame', 2000, 'the bytes after the 101 head')
  up.conns[0].socket.write(' more')
  await waitFor(() => Buffer.concat(got).toString() === 'first-frame more', 2000, 'later bytes')
  assert.equal(disconnects, 1)
  socket.destroy()
  // a non-101 answer to an upgrade offer is a normal response
  const refuse = await upstream(c => c.socket.write('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno'))
  const p2 = refuse.pool()
  const r = await send(p2, { path: '/ws', headers: H, upgrade: 'websocket' })
  assert.equal(r.upgraded, null)
  assert.equal(r.status, 403)
  assert.equal(r.body.toString(), 'no')
  await pool.close()
  await p2.close()
})

test('stale socket: a POST given to an idle connection the upstream has just closed goes out once, on a new connection', async () => {
  const up = await upstream(c => c.socket.write(ok(c.n === 1 ? 'one' : 'two')))
  const pool = up.pool()
  assert.equal((await send(pool, { method: 'POST', path: '/1', headers: H, body: Buffer.from('a') })).body.toString(), 'one')
  await delay(20)
  // The upstream closes the idle connection (the FIN is sent now); the dispatch comes before gw's loop has
  // read it: written at once, the POST would meet a closed socket and fail after being sent.
  up.conns[0].socket.destroy()
  const o = await send(pool, { method: 'POST', path: '/2', headers: H, body: Buffer.from('b') })
  assert.equal(o.error, null, String(o.error?.message))
  assert.equal(o.body.toString(), 'two')
  assert.equal(up.conns.length, 2)
  assert.deepEqual(up.requests.map(r => r.split(' ')[1]), ['/1', '/2'], 'the second POST reached the upstream once')
  await pool.close()
})
