// test/runtime/http1/response-parser.test.ts: parseResponseHead on an upstream's bytes: the status line, how the
// body is framed (length, chunked, read until close, none for HEAD/1xx/204/304/101/CONNECT), keep-alive, the
// refusals, every split point and a 1xx followed by the final response.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HeadFailure, parseResponseHead, type ResponseHead } from '../../../runtime/http1/response-parser.js'

const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const parse = (s: string, method = 'GET'): ResponseHead | HeadFailure | null => { const x = b(s); return parseResponseHead(x, 0, x.length, LIMITS, method) }
function head(s: string, method = 'GET'): ResponseHead {
  const r = parse(s, method)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? 'incomplete' : (r as HeadFailure).detail}`)
  return r
}
const framing = (s: string, method = 'GET'): [string, number, boolean] => { const h = head(s, method); return [h.body, h.contentLength, h.keepAlive] }

test('status line and fields', () => {
  const s = 'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nSet-Cookie: a\r\nSet-Cookie: b\r\nContent-Length: 2\r\n\r\n'
  const h = head(s + '{}')
  assert.deepEqual([h.status, h.reason, h.versionMinor, h.size], [404, 'Not Found', 1, s.length])
  assert.deepEqual(h.rawHeaders, ['Content-Type', 'application/json', 'Set-Cookie', 'a', 'Set-Cookie', 'b', 'Content-Length', '2'])
  assert.deepEqual(h.headers['set-cookie'], ['a', 'b'])
  assert.deepEqual([head('HTTP/1.1 200\r\n\r\n').reason, head('HTTP/1.1 200 \r\n\r\n').reason, head('HTTP/1.0 200  A  b\xe9\r\n\r\n').reason], ['', '', ' A  b\xe9'])
})

test('framing: length, chunked, read until close, and none for HEAD, 1xx, 204, 304', () => {
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'), ['length', 5, true])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ['chunked', -1, true])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n'), ['chunked', -1, true])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\n\r\n'), ['close', -1, false])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'), ['close', -1, false])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'), ['close', -1, false])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n'), ['close', -1, false])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD'), ['none', -1, true])
  // After HEAD, keep-alive is what it would be for GET: a HEAD answer without a length closes (llhttp, undici)
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\n\r\n', 'HEAD'), ['none', -1, false])
  assert.deepEqual(framing('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'), ['none', -1, true])
  assert.deepEqual(framing('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n'), ['none', -1, true])
  assert.deepEqual(framing('HTTP/1.1 100 Continue\r\n\r\n'), ['none', -1, true])
  assert.deepEqual(framing('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n'), ['none', -1, true])
  assert.deepEqual(framing('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), ['length', 0, false])
  assert.deepEqual(framing('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n'), ['length', 0, true])
  assert.deepEqual(framing('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), ['length', 0, false])
})

test('upgrades: 101 with Upgrade, a 2xx to CONNECT; a 101 naming no protocol is refused', () => {
  const u = head('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')
  assert.deepEqual([u.upgrade, u.body, u.keepAlive], [true, 'none', true])
  assert.equal(head('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n').upgrade, true)
  assert.equal((parse('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n') as HeadFailure).reason, 'malformed')
  const c = head('HTTP/1.1 200 Connection Established\r\n\r\n', 'CONNECT')
  assert.deepEqual([c.upgrade, c.body], [true, 'none'])
  assert.deepEqual([head('HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n', 'CONNECT').upgrade], [false])
})

test('refusals → malformed: status line, versions, CL+TE, duplicate or bad Content-Length, field syntax', () => {
  for (const s of [
    'HTTP/1.1  200 OK\r\n\r\n', 'HTTP/1.1 2000 OK\r\n\r\n', 'HTTP/1.1 20 OK\r\n\r\n', 'HTTP/1.1 099 OK\r\n\r\n', 'HTTP/1.1 20x OK\r\n\r\n',
    'HTTP/1.1 200 O\x01K\r\n\r\n', 'HTTP/1.1 200 OK\nX: 1\r\n\r\n', 'HTTP/1.1 200 OK\r\rX: 1\r\n\r\n', 'HTTP/2.0 200 OK\r\n\r\n', 'HTTP/1.2 200 OK\r\n\r\n',
    'http/1.1 200 OK\r\n\r\n', 'ICE/1.1 200 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: \r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n', 'HTTP/1.1 200 OK\r\nX : 1\r\n\r\n', 'HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n',
    'HTTP/1.1 200 OK\r\nX: a\x00\r\n\r\n',
  ]) {
    const r = parse(s)
    assert.ok(r instanceof HeadFailure, `accepted ${JSON.stringify(s)}`)
    assert.deepEqual([r.reason, r.status], ['malformed', 400], JSON.stringify(s))
  }
  const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(100)}\r\n\r\n`
  const r = parseResponseHead(b(big), 0, big.length, { maxHeadBytes: 64, maxHeaders: 10 }, 'GET')
  assert.ok(r instanceof HeadFailure && r.reason === 'headers_too_large' && r.status === 431)
})

test('every split point gives null, then the head; a 1xx then the final response back to back', () => {
  const s = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n'
  const buf = b(s)
  const first = parseResponseHead(buf, 0, buf.length, LIMITS, 'POST') as ResponseHead
  assert.deepEqual([first.status, first.size], [100, 25])
  for (let cut = first.size; cut < buf.length; cut++) assert.equal(parseResponseHead(buf, first.size, cut, LIMITS, 'POST'), null, `cut at ${cut}`)
  const second = parseResponseHead(buf, first.size, buf.length, LIMITS, 'POST') as ResponseHead
  assert.deepEqual([second.status, second.body, second.contentLength, first.size + second.size], [201, 'length', 0, buf.length])
  for (let cut = 0; cut < first.size; cut++) assert.equal(parseResponseHead(buf, 0, cut, LIMITS, 'POST'), null)
})
