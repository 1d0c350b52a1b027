// test/runtime/http1/upstream-connection-mut.test.ts: survivors of the first Stryker run of
// runtime/http1/upstream-connection.ts lines 120-199 (the request writer: head, Buffer and stream bodies),
// pinned through real sockets: heads are written as latin1 (obs-text bytes as they are), an empty Buffer is no
// body, a body on a method that defines none ends the connection's reuse (a POST's does not), an abort inside
// onConnect writes nothing and keeps the connection, an abort after the head closes it, an upgrade offer
// answered normally is not reused, and a request stream that errors or is destroyed fails the exchange.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { delay, ok, Recorder, send, waitFor, upstreamsClosedAfter } from './upstream-helpers.js'

const upstream = upstreamsClosedAfter()
const H = ['host', 'h']

test('a head is written as latin1: an obs-text value reaches the upstream byte for byte (null, Buffer, stream and empty stream bodies)', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  const v = 'caf\xe9 \xff'
  await send(pool, { path: '/n', headers: ['host', 'h', 'x-v', v] })
  assert.equal(up.requests.at(-1), `GET /n HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-v: ${v}\r\n\r\n`)
  await send(pool, { method: 'POST', path: '/b', headers: ['host', 'h', 'x-v', v], body: Buffer.from('ab') })
  assert.equal(up.requests.at(-1), `POST /b HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-v: ${v}\r\ncontent-length: 2\r\n\r\nab`)
  await send(pool, { method: 'POST', path: '/s', headers: ['host', 'h', 'x-v', v], body: Readable.from([Buffer.from('abc')], { objectMode: false }) })
  assert.equal(up.requests.at(-1), `POST /s HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-v: ${v}\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`)
  await send(pool, { method: 'PUT', path: '/e', headers: ['host', 'h', 'x-v', v], body: Readable.from([], { objectMode: false }) })
  assert.equal(up.requests.at(-1), `PUT /e HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-v: ${v}\r\ncontent-length: 0\r\n\r\n`)
  await send(pool, { method: 'GET', path: '/g', headers: ['host', 'h', 'x-v', v], body: Readable.from([], { objectMode: false }) })
  assert.equal(up.requests.at(-1), `GET /g HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-v: ${v}\r\n\r\n`)
  assert.equal(up.conns.length, 1)
  await pool.close()
})

test('an empty Buffer is no body: a GET with one has no framing and its connection is reused', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  await send(pool, { path: '/e', headers: H, body: Buffer.alloc(0) })
  assert.equal(up.requests.at(-1), 'GET /e HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n')
  await send(pool, { path: '/f', headers: H })
  assert.equal(up.conns.length, 1)
  await pool.close()
})

test('a body on a method that defines none (GET, DELETE) is sent, then the connection is not reused; a POST\'s is', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  await send(pool, { method: 'POST', path: '/p', headers: H, body: Buffer.from('x') })
  await send(pool, { method: 'POST', path: '/p2', headers: H, body: Readable.from([Buffer.from('y')], { objectMode: false }) })
  assert.equal(up.conns.length, 1, 'POSTs with bodies share one connection')
  await send(pool, { method: 'GET', path: '/g', headers: H, body: Buffer.from('x') })
  assert.equal(up.requests.at(-1), 'GET /g HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 1\r\n\r\nx')
  await send(pool, { path: '/after-buffer', headers: H })
  assert.equal(up.conns.length, 2, 'the GET with a Buffer body was the last on its connection')
  await send(pool, { method: 'DELETE', path: '/d', headers: H, body: Readable.from([Buffer.from('z')], { objectMode: false }) })
  await send(pool, { path: '/after-stream', headers: H })
  assert.equal(up.conns.length, 3, 'the DELETE with a stream body was the last on its connection')
  await pool.close()
})

test('an abort inside onConnect: the given error, nothing written, the connection serves the next request', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  assert.equal((await send(pool, { path: '/warm', headers: H })).status, 200)
  for (const reuse of [true, false]) {
    const r = new Recorder()
    const mine = new Error('client gone')
    r.onConnect = (abort) => { r.connected = true; abort(mine) }
    pool.dispatch({ method: 'POST', path: '/no', headers: H, body: Buffer.from('x') }, r)
    const o = await r.done
    assert.equal(o.error, mine)
    const next = await send(pool, { path: '/next', headers: H })
    assert.equal(next.status, 200, String(reuse))
  }
  assert.equal(up.requests.some(r => r.includes('/no')), false, 'nothing of the aborted request was written')
  assert.equal(up.conns.length, 1, 'one connection throughout')
  await pool.close()
})

test('an abort after the head was written: the error given (or UND_ERR_ABORTED), the connection closed', { timeout: 15_000 }, async () => {
  const up = await upstream(() => undefined) // holds every request
  const pool = up.pool()
  const r = new Recorder()
  pool.dispatch({ method: 'GET', path: '/held', headers: H, body: null }, r)
  await waitFor(() => up.requests.length === 1, 5000, 'the request at the upstream')
  r.abortFn!()
  const o = await r.done
  assert.equal(o.error?.code, 'UND_ERR_ABORTED')
  assert.equal(o.error?.message, 'Request aborted')
  await waitFor(() => up.conns[0].closed, 5000, 'the connection to close')
  await pool.destroy()
})

test('an upgrade offer answered with a normal response: delivered, and the connection is not reused', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok('no')))
  const pool = up.pool()
  const o = await send(pool, { path: '/ws', headers: H, upgrade: 'websocket' })
  assert.equal(o.body.toString(), 'no')
  await send(pool, { path: '/next', headers: H })
  assert.equal(up.conns.length, 2)
  await pool.close()
})

test('a request stream that errors fails the exchange with its error; one destroyed without an error with UND_ERR_ABORTED', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  const boom = new Error('disk on fire')
  const bad = new Readable({ read() {} })
  const r = send(pool, { method: 'POST', path: '/err', headers: H, body: bad })
  bad.push('abc')
  await waitFor(() => up.conns.length === 1 && up.conns[0].data.includes('abc'), 5000, 'the first bytes')
  bad.destroy(boom)
  assert.equal((await r).error, boom)
  const gone = new Readable({ read() {} })
  const r2 = send(pool, { method: 'POST', path: '/gone', headers: H, body: gone })
  gone.push('abc')
  await waitFor(() => up.conns.length === 2 && up.conns[1].data.includes('abc'), 5000, 'the first bytes')
  gone.destroy()
  const o2 = await r2
  assert.equal(o2.error?.code, 'UND_ERR_ABORTED')
  assert.equal(o2.error?.message, 'Request aborted')
  await delay(10)
  await pool.close()
})
