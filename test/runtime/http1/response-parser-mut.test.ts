// test/runtime/http1/response-parser-mut.test.ts: what parseResponseHead's own tests left loose (issue 14, area
// engine): the status arithmetic and the boundaries of each status class, each refusal's detail, and the
// framing and keep-alive of every combination at those boundaries.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HeadFailure, parseResponseHead, type ResponseHead } from '../../../runtime/http1/response-parser.js'

const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const parse = (s: string, method = 'GET'): ResponseHead | HeadFailure | null => { const x = Buffer.from(s, 'latin1'); return parseResponseHead(x, 0, x.length, LIMITS, method) }
function head(s: string, method = 'GET'): ResponseHead {
  const r = parse(s, method)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? 'incomplete' : (r as HeadFailure).detail}`)
  return r
}
const detail = (s: string, method = 'GET'): string => { const r = parse(s, method); assert.ok(r instanceof HeadFailure, `accepted ${JSON.stringify(s)}`); return r.detail }
const shape = (s: string, method = 'GET') => { const h = head(s, method); return { body: h.body, cl: h.contentLength, keepAlive: h.keepAlive, upgrade: h.upgrade } }

test('the status is the three digits, 100 to 999', () => {
  for (const st of [100, 123, 199, 200, 205, 299, 300, 404, 599, 999]) assert.equal(head(`HTTP/1.1 ${st} X\r\nContent-Length: 0\r\n\r\n`).status, st)
  for (const st of ['000', '099', '010']) assert.equal(detail(`HTTP/1.1 ${st} X\r\n\r\n`), 'invalid status line')
  assert.equal(detail('HTTP/1.1 2x0 X\r\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1 20\r\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1 200X\r\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1 200 a\x7f\r\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1 200\rX\r\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1 200\n\r\n'), 'invalid status line')
  assert.equal(detail('HTTP/1.1  200 OK\r\n\r\n'), 'invalid status line')
  // each byte of "HTTP/1.x " is checked, the minor version is 0 or 1
  const prefix = 'HTTP/1.1 '
  for (let i = 0; i < prefix.length; i++) {
    const bad = prefix.slice(0, i) + 'X' + prefix.slice(i + 1)
    assert.equal(detail(`${bad}200 OK\r\n\r\n`), 'invalid or unsupported HTTP version', JSON.stringify(bad))
  }
  assert.deepEqual([head('HTTP/1.0 200 OK\r\n\r\n').versionMinor, head('HTTP/1.1 200 OK\r\n\r\n').versionMinor], [0, 1])
  // incomplete at every byte of the status line
  const full = 'HTTP/1.1 200 OK\r\n\r\n'
  for (let cut = 0; cut < full.length; cut++) assert.equal(parse(full.slice(0, cut)), null, `cut ${cut}`)
  assert.equal(head('\r\n\nHTTP/1.1 200 OK\r\n\r\n').size, 3 + full.length)
})

test('framing at each status boundary', () => {
  const cl = 'Content-Length: 3\r\n'
  assert.deepEqual(shape(`HTTP/1.1 199 X\r\n${cl}\r\n`), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 200 X\r\n${cl}\r\n`), { body: 'length', cl: 3, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 203 X\r\n${cl}\r\n`), { body: 'length', cl: 3, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 204 X\r\nTransfer-Encoding: chunked\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 204 X\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 205 X\r\n${cl}\r\n`), { body: 'length', cl: 3, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 303 X\r\n${cl}\r\n`), { body: 'length', cl: 3, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 304 X\r\n${cl}\r\n`), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 304 X\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape(`HTTP/1.1 305 X\r\n${cl}\r\n`), { body: 'length', cl: 3, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 200 X\r\nTransfer-Encoding: gzip, chunked\r\n\r\n'), { body: 'chunked', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 200 X\r\nTransfer-Encoding: gzip\r\n\r\n', 'HEAD'), { body: 'none', cl: -1, keepAlive: false, upgrade: false })
  assert.deepEqual(shape('HTTP/1.1 204 X\r\nContent-Length: 0\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  assert.equal(detail('HTTP/1.1 204 X\r\nContent-Length: 1\r\n\r\n'), '204 with a non-zero Content-Length')
  assert.equal(head('HTTP/1.1 205 X\r\nContent-Length: 1\r\n\r\n').contentLength, 1)
  assert.equal(detail('HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n'), 'Content-Length with Transfer-Encoding')
  assert.equal(detail('HTTP/1.1 200 X\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n'), 'duplicate Content-Length')
})

test('upgrades: 101 with a protocol, or a 2xx (200-299) to CONNECT; nothing else', () => {
  assert.equal(detail('HTTP/1.1 101 X\r\n\r\n'), '101 without Upgrade')
  assert.equal(detail('HTTP/1.1 101 X\r\nUpgrade:\r\n\r\n'), '101 without Upgrade')
  assert.deepEqual(shape('HTTP/1.1 101 X\r\nUpgrade: a\r\nContent-Length: 5\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: true })
  assert.deepEqual(shape('HTTP/1.1 102 X\r\nUpgrade: a\r\n\r\n'), { body: 'none', cl: -1, keepAlive: true, upgrade: false })
  for (const st of [200, 250, 299]) assert.deepEqual(shape(`HTTP/1.1 ${st} X\r\nContent-Length: 5\r\n\r\n`, 'CONNECT'), { body: 'none', cl: -1, keepAlive: true, upgrade: true }, String(st))
  for (const st of [199, 300, 407]) assert.equal(head(`HTTP/1.1 ${st} X\r\nContent-Length: 0\r\n\r\n`, 'CONNECT').upgrade, false, String(st))
  assert.equal(head('HTTP/1.1 200 X\r\nContent-Length: 0\r\n\r\n', 'GET').upgrade, false)
})

test('keep-alive: HTTP/1.1 unless close, HTTP/1.0 only with keep-alive, never when read until close', () => {
  const cl = 'Content-Length: 0\r\n'
  assert.equal(head(`HTTP/1.1 200 X\r\n${cl}\r\n`).keepAlive, true)
  assert.equal(head(`HTTP/1.1 200 X\r\nConnection: close\r\n${cl}\r\n`).keepAlive, false)
  assert.equal(head(`HTTP/1.1 200 X\r\nConnection: keep-alive\r\n${cl}\r\n`).keepAlive, true)
  assert.equal(head(`HTTP/1.0 200 X\r\n${cl}\r\n`).keepAlive, false)
  assert.equal(head(`HTTP/1.0 200 X\r\nConnection: keep-alive\r\n${cl}\r\n`).keepAlive, true)
  assert.equal(head(`HTTP/1.0 200 X\r\nConnection: close\r\n${cl}\r\n`).keepAlive, false)
  assert.equal(head('HTTP/1.0 200 X\r\nConnection: keep-alive\r\n\r\n').keepAlive, false)
  assert.equal(head('HTTP/1.1 200 X\r\n\r\n').keepAlive, false)
})

test('the status line ends in CRLF exactly: a CTL or a bare LF before it is refused, with or without a reason', () => {
  for (const s of ['HTTP/1.1 200 OK\x7f\n\r\n', 'HTTP/1.1 200 OK\x00\n\r\n', 'HTTP/1.1 200\x01\n\r\n', 'HTTP/1.1 200 OK\n\n', 'HTTP/1.1 200\n\n']) {
    assert.equal(detail(s), 'invalid status line', JSON.stringify(s))
  }
})

test('a head parsed at an offset inside a larger buffer: the reason and every string are its own', () => {
  const first = 'HTTP/1.1 100 Continue\r\n\r\n'
  const second = 'HTTP/1.1 404 Not Here\r\nX-A: b\r\nContent-Length: 0\r\n\r\n'
  const buf = Buffer.from('JUNK' + first + second, 'latin1')
  const a = parseResponseHead(buf, 4, buf.length, LIMITS, 'GET') as ResponseHead
  assert.deepEqual([a.status, a.reason, a.size], [100, 'Continue', first.length])
  const b = parseResponseHead(buf, 4 + a.size, buf.length, LIMITS, 'GET') as ResponseHead
  assert.deepEqual([b.status, b.reason, b.rawHeaders, b.size], [404, 'Not Here', ['X-A', 'b', 'Content-Length', '0'], second.length])
})
