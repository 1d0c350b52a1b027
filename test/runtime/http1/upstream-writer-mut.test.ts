// test/runtime/http1/upstream-writer-mut.test.ts: what the first Stryker run of runtime/http1/upstream-writer.ts
// (issue 14, area engine) left alive, pinned through real sockets with the exact request bytes: every method
// whose empty body is sent as `content-length: 0` (undici's list), the HeaderError message (no line break from
// a name reaches a log), only the first `host` pair is taken out (a second is written as a line, a 4-byte name
// is not a host), only `content-length` pairs are dropped (not every 14-byte name), the dispatch's contentLength
// wins over a pair's, and a Content-Length that is not a non-negative integer frames the stream chunked.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, test } from 'node:test'
import { ok, RawUpstream, send } from './upstream-helpers.js'

let up: RawUpstream

before(async () => { up = await new RawUpstream((c) => c.socket.write(ok())).listen() })
after(async () => { await up.close() })

const last = (): string => up.requests.at(-1)!
const stream = (...parts: string[]): Readable => Readable.from(parts.map(p => Buffer.from(p)), { objectMode: false })

test('PUT, PATCH, QUERY, PROPFIND, PROPPATCH without a body: content-length: 0 (as POST); GET, OPTIONS: none', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  for (const m of ['PUT', 'PATCH', 'QUERY', 'PROPFIND', 'PROPPATCH']) {
    const o = await send(pool, { method: m, path: '/m', headers: ['host', 'h'] })
    assert.equal(o.status, 200, m)
    assert.equal(last(), `${m} /m HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 0\r\n\r\n`, m)
  }
  for (const m of ['GET', 'OPTIONS', 'put']) {
    await send(pool, { method: m, path: '/n', headers: ['host', 'h'] })
    assert.equal(last(), `${m} /n HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\n\r\n`, m)
  }
  await pool.close()
})

test('the refusal of a value with a line break names the header, with the name\'s own CR/LF/NUL shown as ?', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  const a = await send(pool, { path: '/bad', headers: ['host', 'h', 'X-Trace', 'v\r\n'] })
  assert.equal(a.error?.code, 'UND_ERR_INVALID_ARG')
  assert.equal(a.error?.message, 'invalid X-Trace header')
  const b = await send(pool, { path: '/bad', headers: ['host', 'h', 'x\r\ny', 'v\n'] })
  assert.equal(b.error?.message, 'invalid x?\ny header')
  await pool.close()
})

test('only the first host pair goes first; a second is a header line; a 4-byte name before it is not a host', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  await send(pool, { path: '/h2', headers: ['date', 'now', 'Host', 'one.test', 'HOST', 'two.test', 'x-y', 'z'] })
  assert.equal(last(), 'GET /h2 HTTP/1.1\r\nhost: one.test\r\nconnection: keep-alive\r\ndate: now\r\nHOST: two.test\r\nx-y: z\r\n\r\n')
  await send(pool, { path: '/h0', headers: ['from', 'a@b', 'via', '1.1 p'] })
  assert.equal(last(), `GET /h0 HTTP/1.1\r\nhost: 127.0.0.1:${up.port}\r\nconnection: keep-alive\r\nfrom: a@b\r\nvia: 1.1 p\r\n\r\n`)
  await pool.close()
})

test('a 14-byte name that is not content-length is kept; Content-Length pairs are dropped', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  await send(pool, { method: 'POST', path: '/c', headers: ['host', 'h', 'x-fourteen-abc', '1', 'Content-Type', 'text/plain', 'CONTENT-LENGTH', '2'], body: stream('hi') })
  assert.equal(last(), 'POST /c HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\nx-fourteen-abc: 1\r\nContent-Type: text/plain\r\ncontent-length: 2\r\n\r\nhi')
  await pool.close()
})

test('the dispatch\'s contentLength wins over a content-length pair, even when they differ', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  await send(pool, { method: 'POST', path: '/k', headers: ['host', 'h', 'content-length', '5'], contentLength: 3, body: stream('xyz') })
  assert.equal(last(), 'POST /k HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 3\r\n\r\nxyz')
  await pool.close()
})

test('a Content-Length that is not a non-negative integer frames the stream chunked; 0 is a length', { timeout: 10_000 }, async () => {
  const pool = up.pool()
  for (const v of ['abc', '1.5', '-2']) {
    const o = await send(pool, { method: 'POST', path: '/x', headers: ['host', 'h', 'content-length', v], body: stream('ab', 'c') })
    assert.equal(o.status, 200, v)
    assert.equal(last(), 'POST /x HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n', JSON.stringify(v))
  }
  for (const contentLength of [1.5, -2, Number.NaN]) {
    await send(pool, { method: 'POST', path: '/y', headers: ['host', 'h'], contentLength, body: stream('ab') })
    assert.equal(last(), 'POST /y HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', String(contentLength))
  }
  // 0 is a length: a stream that then carries bytes is a mismatch, not a chunked body
  const n = up.requests.length
  const z = await send(pool, { method: 'POST', path: '/z', headers: ['host', 'h'], contentLength: 0, body: stream('abc') })
  assert.equal(z.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  assert.equal(up.requests.length, n, 'nothing of it reached the upstream as a request')
  await pool.close()
})
