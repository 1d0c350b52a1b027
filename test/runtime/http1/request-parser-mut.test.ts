// test/runtime/http1/request-parser-mut.test.ts: what parseRequestHead's own tests left loose (issue 14, area
// engine): every method node:http knows is taken and no other, every authority byte llhttp takes in a CONNECT
// target and an absolute-form, the scheme and '://' of an absolute-form, and the exact refusal of each shape.
import assert from 'node:assert/strict'
import { METHODS } from 'node:http'
import { test } from 'node:test'
import { HeadFailure, parseRequestHead, type RequestHead } from '../../../runtime/http1/request-parser.js'

const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const parse = (s: string): RequestHead | HeadFailure | null => { const x = Buffer.from(s, 'latin1'); return parseRequestHead(x, 0, x.length, LIMITS) }
const detail = (s: string): string => { const r = parse(s); assert.ok(r instanceof HeadFailure, `accepted ${JSON.stringify(s)}`); return r.detail }
function head(s: string): RequestHead {
  const r = parse(s)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? 'incomplete' : (r as HeadFailure).detail}`)
  return r
}

test('every method of node:http METHODS is taken (the same constant string), lower case or unknown ones are refused', () => {
  for (const m of METHODS) {
    const target = m === 'CONNECT' ? 'a.test:443' : '/'
    const h = head(`${m} ${target} HTTP/1.1\r\nHost: a\r\n\r\n`)
    assert.equal(h.method, m)
    assert.equal(detail(`${m.toLowerCase()} ${target} HTTP/1.1\r\n\r\n`), 'invalid or unknown method')
    assert.equal(detail(`${m.slice(0, -1)}X / HTTP/1.1\r\n\r\n`), 'invalid or unknown method')
  }
  // the longest method (UNSUBSCRIBE) and one byte more: a token that long is no method, whatever follows
  assert.equal(parse('UNSUBSCRIBE'), null)
  assert.equal(head('UNSUBSCRIBE / HTTP/1.1\r\n\r\n').method, 'UNSUBSCRIBE')
  assert.equal(detail('UNSUBSCRIBEX'), 'invalid or unknown method')
})

test('authority bytes: unreserved, sub-delims, %, :, [, ] and @ (once) in CONNECT and absolute-form targets', () => {
  const bytes = "-_.!~*'()%;:&=+$,[]"
  for (const c of bytes) {
    assert.equal(head(`CONNECT a${c}b:1 HTTP/1.1\r\n\r\n`).target, `a${c}b:1`, `CONNECT with ${c}`)
    assert.equal(head(`GET http://a${c}b/p HTTP/1.1\r\n\r\n`).target, `http://a${c}b/p`, `absolute-form with ${c}`)
  }
  for (const t of ['AZaz09.test:443', 'user@a.test:1', '[::1]:8080', 'a.test']) assert.equal(head(`CONNECT ${t} HTTP/1.1\r\n\r\n`).target, t)
  // what is no authority byte
  for (const c of ['"', '<', '>', '\\', '^', '`', '{', '|', '}', '#']) {
    assert.equal(detail(`CONNECT a${c}b:1 HTTP/1.1\r\n\r\n`), 'invalid request-target', `CONNECT with ${c}`)
    assert.equal(detail(`GET http://a${c}b/p HTTP/1.1\r\n\r\n`), 'invalid request-target', `absolute-form with ${c}`)
  }
  // '@' once (userinfo), '@@' never; the authority ends at '/' or '?', after which any VCHAR goes
  assert.equal(head('GET http://u@a/p HTTP/1.1\r\n\r\n').target, 'http://u@a/p')
  assert.equal(head('GET http://a?x="@@|" HTTP/1.1\r\n\r\n').target, 'http://a?x="@@|"')
  assert.equal(head('GET http://a/"@@| HTTP/1.1\r\n\r\n').target, 'http://a/"@@|')
  assert.equal(detail('GET http://u@@a/ HTTP/1.1\r\n\r\n'), 'invalid request-target')
  assert.equal(detail('CONNECT u@@a:1 HTTP/1.1\r\n\r\n'), 'invalid request-target')
  assert.equal(head('CONNECT u@a:1/x HTTP/1.1\r\n\r\n').target, 'u@a:1/x')
  assert.equal(head('CONNECT * HTTP/1.1\r\n\r\n').target, '*')
  // a CONNECT target is an authority from its first byte: '/' ends it at once
  assert.equal(head('CONNECT /x HTTP/1.1\r\n\r\n').target, '/x')
})

test('absolute-form: letters, then exactly "://", then an authority', () => {
  for (const t of ['http://a', 'HTTPS://a/', 'Ab://x?q', 'z://', 'http://']) assert.equal(head(`GET ${t} HTTP/1.1\r\n\r\n`).target, t)
  for (const t of ['://a', '1://a', 'h1://a', 'http:a', 'http:/a', 'http//a', 'http:\\\\a', 'http:', 'http:/', 'h', 'http;//a']) {
    assert.equal(detail(`GET ${t} HTTP/1.1\r\n\r\n`), 'invalid request-target', t)
  }
})

test('the request line: each part\'s refusal names it', () => {
  assert.equal(detail('GET / HTTP/1.3\r\n\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET / HTTP/1.1\n\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET / HTTP/1.1\r\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET / HTTX/1.1\r\n\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET / HTTP-1.1\r\n\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET / HTTP/2.1\r\n\r\n'), 'invalid or unsupported HTTP version')
  assert.equal(detail('GET /\x00 HTTP/1.1\r\n\r\n'), 'invalid request-target')
  assert.equal(detail('GET \r\n\r\n'), 'invalid request-target')
  assert.equal(detail('GET\r\n\r\n'), 'invalid or unknown method')
  assert.equal(detail(' GET / HTTP/1.1\r\n\r\n'), 'invalid or unknown method')
  // each byte of "HTTP/1.x\r\n" is checked, and the minor version is 0 or 1
  const line = 'HTTP/1.1\r\n'
  for (let i = 0; i < line.length; i++) {
    const bad = line.slice(0, i) + (line[i] === 'X' ? 'Y' : 'X') + line.slice(i + 1)
    assert.equal(detail(`GET / ${bad}\r\n`), 'invalid or unsupported HTTP version', JSON.stringify(bad))
  }
  assert.equal(head('GET / HTTP/1.0\r\n\r\n').versionMinor, 0)
  assert.equal(head('GET / HTTP/1.1\r\n\r\n').versionMinor, 1)
  // incomplete at every byte of the version, then complete
  const full = 'GET / HTTP/1.1\r\n\r\n'
  for (let cut = 6; cut < full.length; cut++) assert.equal(parse(full.slice(0, cut)), null, `cut ${cut}`)
})

test('framing and connection results, exactly', () => {
  const h = head('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n')
  assert.deepEqual([h.body, h.contentLength], ['length', 0])
  const n = head('GET / HTTP/1.1\r\n\r\n')
  assert.deepEqual([n.body, n.contentLength, n.keepAlive, n.upgrade, n.expectContinue], ['none', -1, true, false, false])
  const c = head('CONNECT a:1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')
  assert.deepEqual([c.body, c.contentLength, c.upgrade], ['none', -1, true])
  const ten = head('GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n')
  assert.equal(ten.keepAlive, true)
  const eleven = head('GET / HTTP/1.1\r\nConnection: keep-alive, upgrade\r\n\r\n')
  assert.deepEqual([eleven.keepAlive, eleven.upgrade], [true, false])
  assert.equal(head('GET / HTTP/1.1\r\nConnection: keep-alive\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n').upgrade, true)
  assert.equal(detail('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'), 'Transfer-Encoding whose final coding is not chunked')
  assert.equal(detail('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n'), 'Content-Length with Transfer-Encoding')
  assert.equal(detail('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n'), 'Transfer-Encoding in an HTTP/1.0 request')
  assert.equal(detail('POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n'), 'empty Transfer-Encoding')
})

test('a scheme is letters only: the bytes whose lower-case bit makes them look like letters are refused', () => {
  for (const t of ['_://a', 'h{tp://a', 'h|tp://a', 'h}tp://a', 'h~tp://a', 'h[tp://a', 'h]tp://a', 'h^tp://a', 'h\\tp://a', 'http:x/a', 'http:/x/a', 'http:://a']) {
    assert.equal(detail(`GET ${t} HTTP/1.1\r\n\r\n`), 'invalid request-target', t)
  }
})

test('only the bytes in [start, end) are read, wherever the window lies in the buffer', () => {
  const small = { maxHeadBytes: 64, maxHeaders: 10 }
  const s = 'GET /a HTTP/1.1\r\nHost: a\r\n\r\n'
  const buf = Buffer.from('JUNK'.repeat(10) + s, 'latin1')
  const at = 40
  for (let cut = 0; cut < s.length; cut++) assert.equal(parseRequestHead(buf, at, at + cut, small), null, `cut ${cut}`)
  assert.equal((parseRequestHead(buf, at, buf.length, small) as RequestHead).size, s.length)
  // a method token cut after 11 bytes (as long as the longest method) waits for more, whatever follows the window
  const tok = Buffer.from('UNSUBSCRIBEX / HTTP/1.1\r\n\r\n', 'latin1')
  assert.equal(parseRequestHead(tok, 0, 11, LIMITS), null)
  assert.equal(parseRequestHead(tok, 0, 10, LIMITS), null)
})

test('a method is one of the list, whatever the request line looks like after it', () => {
  for (const line of ['Stryker was here HTTP/1.1', 'GETS / HTTP/1.1', 'Get / HTTP/1.1', 'HTTP/1.1 200 OK', 'CONNECTX a:1 HTTP/1.1']) {
    assert.equal(detail(`${line}\r\n\r\n`), 'invalid or unknown method', line)
  }
})
