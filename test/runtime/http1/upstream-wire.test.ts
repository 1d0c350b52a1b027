// test/runtime/http1/upstream-wire.test.ts: the exact request bytes the http1 engine's upstream pool
// (runtime/http1/upstream-pool.ts, upstream-writer.ts) writes, the same as undici writes for the same dispatch:
// `host` first (the one in the headers, else the replica's address), `connection: keep-alive` (close after a
// HEAD, upgrade for a tunnel), the headers in order, then the framing from the body: none for a GET without
// one, `content-length: 0` for a POST without one, Content-Length for a Buffer or a stream of known length,
// chunked otherwise. A header value with a line break is refused before anything is written.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { ok, RawUpstream, send } from './upstream-helpers.js'

let up: RawUpstream

before(async () => { up = await new RawUpstream((c) => c.socket.write(ok())).listen() })
after(async () => { await up.close() })

/** The bytes of the last request the upstream received. */
const last = (): string => up.requests.at(-1)!

test('GET: host from the headers first, then connection: keep-alive, the rest in order, no framing', async () => {
  const pool = up.pool()
  const o = await send(pool, { path: '/a?x=1', headers: ['X-A', '1', 'Host', 'shop.test', 'x-b', 'two words'] })
  assert.equal(o.status, 200)
  assert.equal(last(), 'GET /a?x=1 HTTP/1.1\r\nhost: shop.test\r\nconnection: keep-alive\r\nX-A: 1\r\nx-b: two words\r\n\r\n')
  await pool.close()
})

test('no Host in the headers: the replica\'s address, as undici writes it', async () => {
  const pool = up.pool()
  await send(pool, { path: '/', headers: ['accept', '*/*'] })
  assert.equal(last(), `GET / HTTP/1.1\r\nhost: 127.0.0.1:${up.port}\r\nconnection: keep-alive\r\naccept: */*\r\n\r\n`)
  await pool.close()
})

test('POST without a body: content-length: 0; DELETE without one: no framing', async () => {
  const pool = up.pool()
  await send(pool, { method: 'POST', path: '/p', headers: ['host', 'h'] })
  assert.equal(last(), 'POST /p HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n')
  await send(pool, { method: 'DELETE', path: '/d', headers: ['host', 'h'] })
  assert.equal(last(), 'DELETE /d HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n')
  await pool.close()
})

test('a Buffer body: its length, whatever content-length the headers carried', async () => {
  const pool = up.pool()
  await send(pool, { method: 'PUT', path: '/b', headers: ['host', 'h', 'Content-Length', '5', 'x', 'y'], body: Buffer.from('hello') })
  assert.equal(last(), 'PUT /b HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx: y\r\ncontent-length: 5\r\n\r\nhello')
  await pool.close()
})

test('a stream with the headers\' Content-Length is sent with it; one without is chunked, framed as undici frames it', async () => {
  const pool = up.pool()
  const before = up.conns.length
  await send(pool, { method: 'POST', path: '/s', headers: ['host', 'h', 'content-length', '8'], body: Readable.from([Buffer.from('abc'), Buffer.from('defgh')], { objectMode: false }) })
  assert.equal(last(), 'POST /s HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 8\r\n\r\nabcdefgh')
  await send(pool, { method: 'POST', path: '/c', headers: ['host', 'h'], body: Readable.from([Buffer.from('hello'), Buffer.from('0123456789abcdef0')], { objectMode: false }) })
  assert.equal(last(), 'POST /c HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n11\r\n0123456789abcdef0\r\n0\r\n\r\n')
  // an empty stream: no chunked framing at all, content-length: 0 for a POST (undici)
  await send(pool, { method: 'POST', path: '/e', headers: ['host', 'h'], body: Readable.from([], { objectMode: false }) })
  assert.equal(last(), 'POST /e HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n')
  // contentLength given with the dispatch wins over the pairs
  await send(pool, { method: 'POST', path: '/k', headers: ['host', 'h'], contentLength: 3, body: Readable.from([Buffer.from('xyz')], { objectMode: false }) })
  assert.equal(last(), 'POST /k HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 3\r\n\r\nxyz')
  assert.equal(up.conns.length, before + 1, 'all on one kept-alive connection')
  await pool.close()
})

test('a stream shorter or longer than its Content-Length fails the request (the connection is not reused)', async () => {
  const pool = up.pool()
  const short = await send(pool, { method: 'POST', path: '/short', headers: ['host', 'h', 'content-length', '9'], body: Readable.from([Buffer.from('abc')], { objectMode: false }) })
  assert.equal(short.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  const long = await send(pool, { method: 'POST', path: '/long', headers: ['host', 'h', 'content-length', '2'], body: Readable.from([Buffer.from('abc')], { objectMode: false }) })
  assert.equal(long.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  await pool.close()
})

test('headers already rendered as a string are written as they are, their Host line first (as undici writes pairs)', async () => {
  const pool = up.pool()
  await send(pool, { method: 'POST', path: '/r', headers: 'Host: pre.test\r\nx-pre: 1\r\n', body: Buffer.from('hi') })
  assert.equal(last(), 'POST /r HTTP/1.1\r\nHost: pre.test\r\nconnection: keep-alive\r\nx-pre: 1\r\ncontent-length: 2\r\n\r\nhi')
  await send(pool, { method: 'GET', path: '/s', headers: 'host: a.test\r\n', body: null })
  assert.equal(last(), 'GET /s HTTP/1.1\r\nhost: a.test\r\nconnection: keep-alive\r\n\r\n')
  await pool.close()
})

test('HEAD asks for connection: close (undici: a server may send a body anyway) and the connection is not reused', async () => {
  const pool = up.pool()
  const before = up.conns.length
  await send(pool, { method: 'HEAD', path: '/h', headers: ['host', 'h'] })
  assert.equal(last(), 'HEAD /h HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n')
  await send(pool, { method: 'GET', path: '/g', headers: ['host', 'h'] })
  assert.equal(up.conns.length, before + 2, 'the GET after the HEAD went out on a new connection')
  await pool.close()
})

test('an upgrade offer: connection: upgrade and the offer instead of keep-alive', async () => {
  const pool = up.pool()
  await send(pool, { path: '/ws', headers: ['host', 'h', 'sec-websocket-key', 'k'], upgrade: 'websocket' })
  assert.equal(last(), 'GET /ws HTTP/1.1\r\nhost: h\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-key: k\r\n\r\n')
  await pool.close()
})

test('a header value with CR, LF or NUL is refused before any byte is written', async () => {
  const pool = up.pool()
  const n = up.requests.length
  for (const headers of [['host', 'h', 'x-a', 'v\r\nx-injected: 1'], ['host', 'h', 'x-a', 'v\n'], ['host', 'h\0', 'x', 'y']]) {
    const o = await send(pool, { path: '/bad', headers })
    assert.equal(o.error?.code, 'UND_ERR_INVALID_ARG', JSON.stringify(headers))
  }
  assert.equal(up.requests.length, n, 'nothing reached the upstream')
  const good = await send(pool, { path: '/good', headers: ['host', 'h'] })
  assert.equal(good.status, 200, 'the pool still works')
  await pool.close()
})
