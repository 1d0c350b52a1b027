// test/runtime/http1/upstream-body-length.test.ts: a streamed request body against its declared length, and
// empty chunks inside a chunked one, checked as the bytes the upstream receives (survivors of the Stryker run of
// runtime/http1/upstream-connection.ts 161-169). A body longer than its content-length must fail before the
// extra bytes reach the upstream: bytes past the declared length would be read as the start of a next request.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { delay, ok, send, upstreamsClosedAfter } from './upstream-helpers.js'

const upstream = upstreamsClosedAfter()
const H = ['host', 'h']
// Readable.from is object mode: every element is delivered as one 'data' event, empty Buffers included.
const chunks = (...parts: string[]): Readable => Readable.from(parts.map(p => Buffer.from(p)))

test('an empty chunk inside a chunked upload writes nothing: the body is not ended early', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  const o = await send(pool, { method: 'POST', path: '/c', headers: H, body: chunks('ab', '', 'cd', '') })
  assert.equal(o.error, null)
  assert.equal(up.requests.at(-1), 'POST /c HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n')
  const first = await send(pool, { method: 'PUT', path: '/e', headers: H, body: chunks('', 'x') })
  assert.equal(first.error, null)
  assert.equal(up.requests.at(-1), 'PUT /e HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n')
  assert.equal(up.conns.length, 1)
  await pool.close()
})

test('a streamed body longer than its content-length fails with the length error, and the upstream gets nothing past the length', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  // one chunk already too long: nothing of this request is written at all
  const long = await send(pool, { method: 'POST', path: '/l', headers: [...H, 'content-length', '3'], body: chunks('abcde') })
  assert.equal(long.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  assert.equal(long.error?.message, 'Request body length does not match content-length header')
  // within the length, then a chunk that passes it: the first chunk is sent, the second is not
  const later = await send(pool, { method: 'POST', path: '/m', headers: [...H, 'content-length', '3'], body: chunks('ab', 'cd') })
  assert.equal(later.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  // a declared length of 0 and a body
  const zero = await send(pool, { method: 'POST', path: '/z', headers: H, contentLength: 0, body: chunks('q') })
  assert.equal(zero.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  await delay(50)
  const sent = up.conns.map(c => c.data).join('')
  assert.equal(sent.includes('cd'), false, 'the chunk past the length was not written')
  assert.equal(sent.includes('abcde'), false)
  assert.equal(sent.includes('q'), false)
  assert.match(sent, /POST \/m HTTP\/1\.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 3\r\n\r\nab$/m)
  await pool.close()
})

test('a streamed body exactly its content-length is sent as it is, with no chunk framing', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  const o = await send(pool, { method: 'POST', path: '/x', headers: [...H, 'content-length', '4'], body: chunks('ab', '', 'cd') })
  assert.equal(o.error, null)
  assert.equal(up.requests.at(-1), 'POST /x HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 4\r\n\r\nabcd')
  const none = await send(pool, { method: 'POST', path: '/0', headers: H, contentLength: 0, body: chunks() })
  assert.equal(none.error, null)
  assert.equal(up.requests.at(-1), 'POST /0 HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n')
  await pool.close()
})
