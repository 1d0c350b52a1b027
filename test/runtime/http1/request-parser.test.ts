// test/runtime/http1/request-parser.test.ts: parseRequestHead on bytes: what a head yields (fields, folding as
// node:http folds, framing, keep-alive, upgrade), every refusal class with its reason and status, the size and
// count limits, every split point, and pipelined heads.
import assert from 'node:assert/strict'
import { IncomingMessage } from 'node:http'
import { test } from 'node:test'
import { HeadFailure, parseRequestHead, type HeadLimits, type RequestHead } from '../../../runtime/http1/request-parser.js'

const LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const b = (s: string): Buffer => Buffer.from(s, 'latin1')
const parse = (s: string, limits = LIMITS): RequestHead | HeadFailure | null => { const x = b(s); return parseRequestHead(x, 0, x.length, limits) }
function head(s: string): RequestHead {
  const r = parse(s)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? "incomplete" : (r as HeadFailure).detail}`)
  return r
}
function refusal(s: string, reason = 'malformed', status = 400): HeadFailure {
  const r = parse(s)
  assert.ok(r instanceof HeadFailure, `accepted ${JSON.stringify(s)}`)
  assert.equal(r.reason, reason, `${JSON.stringify(s)}: ${r.detail}`)
  assert.equal(r.status, status, JSON.stringify(s))
  return r
}

test('a browser GET: method, target, version, raw fields with OWS trimmed, size, keep-alive', () => {
  const s = 'GET /v1/orders?id=7 HTTP/1.1\r\nHost: api.test\r\nUser-Agent:  Mozilla/5.0 \t\r\nAccept: */*\r\nX-Empty:\r\n\r\n'
  const h = head(s + 'NEXT')
  assert.equal(h.method, 'GET')
  assert.equal(h.target, '/v1/orders?id=7')
  assert.equal(h.versionMajor, 1)
  assert.equal(h.versionMinor, 1)
  assert.deepEqual(h.rawHeaders, ['Host', 'api.test', 'User-Agent', 'Mozilla/5.0', 'Accept', '*/*', 'X-Empty', ''])
  assert.deepEqual({ ...h.headers }, { host: 'api.test', 'user-agent': 'Mozilla/5.0', accept: '*/*', 'x-empty': '' })
  assert.equal(h.size, s.length)
  assert.equal(h.body, 'none')
  assert.equal(h.contentLength, -1)
  assert.equal(h.keepAlive, true)
  assert.equal(h.upgrade, false)
  assert.equal(h.expectContinue, false)
})

test('duplicate fields fold exactly as IncomingMessage.headers folds them', () => {
  const raw = [
    ['Cookie', 'a=1'], ['cookie', 'b=2'], ['Set-Cookie', 'x'], ['set-cookie', 'y'], ['Host', 'h1'], ['X-A', '1'], ['x-a', '2'],
    ['Age', '1'], ['age', '2'], ['Content-Type', 'a'], ['content-type', 'b'], ['User-Agent', 'u1'], ['user-agent', 'u2'],
    ['Authorization', 'a1'], ['Authorization', 'a2'], ['If-Modified-Since', 'd1'], ['if-modified-since', 'd2'], ['Referer', 'r1'],
    ['Referer', 'r2'], ['Proxy-Authorization', 'p1'], ['Proxy-Authorization', 'p2'], ['Accept', 'x'], ['Accept', 'y'],
    ['__proto__', 'z'], ['constructor', 'c'], ['toString', 't'], ['Max-Forwards', '1'], ['Max-Forwards', '2'], ['Etag', 'e'], ['ETag', 'f'],
  ]
  const h = head(`GET / HTTP/1.1\r\n${raw.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`)
  const node = new IncomingMessage(null as never) as unknown as { _addHeaderLines(h: string[], n: number): void; headers: object }
  node._addHeaderLines(raw.flat(), raw.length * 2)
  assert.deepEqual(h.headers, node.headers)
  assert.equal(Object.getPrototypeOf(h.headers), Object.prototype)
  assert.equal(h.headers.cookie, 'a=1; b=2')
  assert.deepEqual(h.headers['set-cookie'], ['x', 'y'])
  assert.equal(h.headers['x-a'], '1, 2')
  assert.equal(h.headers.host, 'h1')
})

test('framing: Content-Length (also 0 and leading zeros), chunked, CONNECT without a body', () => {
  assert.deepEqual([head('POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n').body, head('POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n').contentLength], ['length', 12])
  assert.equal(head('POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n').body, 'length')
  assert.equal(head('POST / HTTP/1.1\r\nContent-Length: 007 \r\n\r\n').contentLength, 7)
  assert.equal(head('POST / HTTP/1.1\r\nContent-Length:\t9007199254740991\r\n\r\n').contentLength, Number.MAX_SAFE_INTEGER)
  const c = head('POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n')
  assert.deepEqual([c.body, c.contentLength], ['chunked', -1])
  // gzip, chunked is framed as chunked here; readHead answers 501 for the coding it cannot forward.
  assert.equal(head('POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n').body, 'chunked')
  assert.equal(head('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n').body, 'chunked')
  const k = head('CONNECT api.test:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n')
  assert.deepEqual([k.body, k.contentLength, k.upgrade], ['none', -1, true])
})

test('keep-alive, upgrade and Expect: 100-continue as llhttp reads Connection (Proxy-Connection too)', () => {
  assert.equal(head('GET / HTTP/1.1\r\nConnection: close\r\n\r\n').keepAlive, false)
  assert.equal(head('GET / HTTP/1.1\r\nConnection: x,\tClose\r\n\r\n').keepAlive, false)
  assert.equal(head('GET / HTTP/1.1\r\nConnection: close\t\r\n\r\n').keepAlive, true) // llhttp: "close\t" is no close
  assert.equal(head('GET / HTTP/1.1\r\nConnection: closex\r\n\r\n').keepAlive, true)
  assert.equal(head('GET / HTTP/1.1\r\nProxy-Connection: close\r\n\r\n').keepAlive, false)
  assert.equal(head('GET / HTTP/1.0\r\n\r\n').keepAlive, false)
  assert.equal(head('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').keepAlive, true)
  assert.equal(head('GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n').upgrade, true)
  assert.equal(head('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n').upgrade, false)
  assert.equal(head('GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade:  \r\n\r\n').upgrade, false)
  assert.equal(head('PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n').expectContinue, true)
  assert.equal(head('PUT / HTTP/1.1\r\nExpect: 100-continue, x\r\n\r\n').expectContinue, false)
})

test('what the request line may be: known methods, several spaces, *, absolute and authority forms, empty lines first', () => {
  for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'M-SEARCH', 'PURGE', 'QUERY', 'PROPFIND']) assert.equal(head(`${m} / HTTP/1.1\r\n\r\n`).method, m)
  assert.equal(head('GET  /a   HTTP/1.1\r\n\r\n').target, '/a')
  assert.equal(head('OPTIONS * HTTP/1.1\r\n\r\n').target, '*')
  assert.equal(head('GET http://u@api.test:8080/p?q#f HTTP/1.1\r\n\r\n').target, 'http://u@api.test:8080/p?q#f')
  assert.equal(head('GET /"<>{}|\\^`~ HTTP/1.1\r\n\r\n').target, '/"<>{}|\\^`~')
  const h = head('\r\n\n\rGET / HTTP/1.0\r\n\r\n')
  assert.deepEqual([h.versionMinor, h.size], [0, 22])
})

test('refusals of the request line → 400 malformed', () => {
  for (const s of [
    'get / HTTP/1.1\r\n\r\n', 'FOO / HTTP/1.1\r\n\r\n', 'G(T / HTTP/1.1\r\n\r\n', ' GET / HTTP/1.1\r\n\r\n', 'GET\t/ HTTP/1.1\r\n\r\n',
    'GARBAGE\r\n\r\n', 'GET / HTTP/1.2\r\n\r\n', 'GET / HTTP/2.0\r\n\r\n', 'GET / HTTP/0.9\r\n\r\n', 'GET /\r\n\r\n', 'GET / http/1.1\r\n\r\n',
    'GET / HTTP/1.1 \r\n\r\n', 'GET / HTTP/1.1\n\r\n', 'GET / HTTP/1.1\r\r\n', 'GET / RTSP/1.0\r\n\r\n', 'GET /a b HTTP/1.1\r\n\r\n',
    'GET /\x01 HTTP/1.1\r\n\r\n', 'GET /\x7f HTTP/1.1\r\n\r\n', 'GET /\xe9 HTTP/1.1\r\n\r\n', 'GET abc HTTP/1.1\r\n\r\n', 'GET http:/x HTTP/1.1\r\n\r\n',
    'GET 1http://x HTTP/1.1\r\n\r\n', 'GET http://a"b/ HTTP/1.1\r\n\r\n', 'GET http://a@@b/ HTTP/1.1\r\n\r\n', 'CONNECT a|b:1 HTTP/1.1\r\n\r\n',
    'GET  HTTP/1.1\r\n\r\n',
  ]) refusal(s)
})

test('refusals of the fields → 400 malformed: names, values, bare CR/LF, obs-fold', () => {
  for (const f of ['X A: a', 'X(A): a', 'X : a', ': a', 'X', 'X-A: a\x00b', 'X-A: a\x01', 'X-A: a\x7f', 'X-A: a\rb', 'X-A: a\nb', '\xe9: a']) {
    refusal(`GET / HTTP/1.1\r\nHost: a\r\n${f}\r\n\r\n`)
  }
  refusal('GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n') // obs-fold
  refusal('GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n')
  refusal('GET / HTTP/1.1\r\n X-A: a\r\n\r\n') // whitespace before the first field
  refusal('GET / HTTP/1.1\nHost: a\n\n') // bare LF line ends
  refusal('GET / HTTP/1.1\r\nHost: a\n\r\n')
  refusal('GET / HTTP/1.1\r\nHost: a\r\n\n')
  refusal('GET / HTTP/1.1\r\nHost: a\r\n\rX')
  // obs-text is a field-value byte (RFC 9110 §5.5) and stays as latin1 text
  assert.equal(head('GET / HTTP/1.1\r\nX-A: caf\xe9\xff\r\n\r\n').rawHeaders[1], 'caf\xe9\xff')
})

test('smuggling shapes → 400 malformed (and 501 / readHead reasons where today gives them)', () => {
  const refusedCl = ['Content-Length: 5\r\nContent-Length: 6', 'Content-Length: 5\r\ncontent-length: 5', 'Content-Length: 5, 6', 'Content-Length: -1',
    'Content-Length: 0x5', 'Content-Length: +5', 'Content-Length: 5 5', 'Content-Length: five', 'Content-Length: ', 'Content-Length: 5\t',
    'Content-Length: 9007199254740992', 'Content-Length: 18446744073709551616']
  for (const f of refusedCl) refusal(`POST / HTTP/1.1\r\nHost: a\r\n${f}\r\n\r\n`)
  for (const f of ['Content-Length: 5\r\nTransfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\nContent-Length: 5', 'Transfer-Encoding: chunked, gzip',
    'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked,', 'Transfer-Encoding: chunked\t', 'Transfer-Encoding: chunked;q=1', 'Transfer-Encoding: xchunked',
    'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip', 'Transfer-Encoding : chunked']) {
    refusal(`POST / HTTP/1.1\r\nHost: a\r\n${f}\r\n\r\n`)
  }
  refusal('POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n', 'unsupported_transfer_coding', 501)
  refusal('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'http10_transfer_encoding', 400)
})

test('limits: a head past maxHeadBytes → 431 headers_too_large, past maxHeaders fields → 431 too_many_headers', () => {
  const small = { maxHeadBytes: 64, maxHeaders: 3 }
  const exact = 'GET / HTTP/1.1\r\nX-A: ' + 'a'.repeat(64 - 25) + '\r\n\r\n'
  assert.equal(exact.length, 64)
  assert.equal((parse(exact, small) as RequestHead).size, 64)
  const over = 'GET / HTTP/1.1\r\nX-A: ' + 'a'.repeat(64 - 24) + '\r\n\r\n'
  assert.equal((parse(over, small) as HeadFailure).reason, 'headers_too_large')
  assert.equal((parse(over, small) as HeadFailure).status, 431)
  // Incomplete: null below the limit, 431 once the limit's worth of bytes is there without an end.
  assert.equal(parse(over.slice(0, 63), small), null)
  assert.equal((parse(over.slice(0, 64), small) as HeadFailure).reason, 'headers_too_large')
  const three = 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n'
  assert.ok(!(parse(three, small) instanceof HeadFailure))
  const four = 'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n'
  assert.deepEqual([(parse(four, small) as HeadFailure).reason, (parse(four, small) as HeadFailure).status], ['too_many_headers', 431])
  // The default 256 (readHead's MAX_HEADERS)
  const many = `GET / HTTP/1.1\r\n${Array.from({ length: 257 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`
  assert.equal((parse(many) as HeadFailure).reason, 'too_many_headers')
})

test('every split point: null (need more) before the end, the same head at the end; a refusal as soon as its byte is there', () => {
  const s = '\r\nPOST /x?y HTTP/1.1\r\nHost: api.test\r\nCookie: a\r\ncookie: b\r\nTransfer-Encoding: chunked\r\n\r\n'
  const whole = head(s)
  const buf = b(s + '5\r\nhello\r\n0\r\n\r\n')
  for (let cut = 0; cut < s.length; cut++) assert.equal(parseRequestHead(buf, 0, cut, LIMITS), null, `cut at ${cut}`)
  for (let end = s.length; end <= buf.length; end++) assert.deepEqual(parseRequestHead(buf, 0, end, LIMITS), whole)
  // At an offset inside a larger buffer
  const padded = Buffer.concat([b('JUNK'), buf])
  assert.deepEqual(parseRequestHead(padded, 4, padded.length, LIMITS), whole)
  const bad = 'GET / HTTP/1.1\r\nX-A: a\x00'
  for (let cut = 0; cut < bad.length; cut++) assert.equal(parse(bad.slice(0, cut)), null)
  assert.ok(parse(bad) instanceof HeadFailure)
})

test('pipelined heads back to back: size lets the caller go on to the next one', () => {
  const one = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n'
  const two = 'POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n'
  const three = 'GET /3 HTTP/1.1\r\n\r\n'
  const buf = b(one + two + 'abc' + three)
  const h1 = parseRequestHead(buf, 0, buf.length, LIMITS) as RequestHead
  assert.deepEqual([h1.target, h1.size], ['/1', one.length])
  const h2 = parseRequestHead(buf, h1.size, buf.length, LIMITS) as RequestHead
  assert.deepEqual([h2.target, h2.body, h2.contentLength], ['/2', 'length', 3])
  const h3 = parseRequestHead(buf, h1.size + h2.size + 3, buf.length, LIMITS) as RequestHead
  assert.deepEqual([h3.target, h1.size + h2.size + 3 + h3.size], ['/3', buf.length])
})

test('never throws, whatever the bytes (random, truncated, at any offset)', () => {
  let x = 12345
  const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 16 }
  const alphabet = b('GET /HTTP1.0\r\n:; ,\t"\\\x00\x7f\x80\xffaZ-9')
  for (let i = 0; i < 5000; i++) {
    const n = rnd() % 120
    const buf = Buffer.alloc(n)
    for (let k = 0; k < n; k++) buf[k] = rnd() % 4 === 0 ? rnd() & 0xff : alphabet[rnd() % alphabet.length]
    const start = n === 0 ? 0 : rnd() % n
    const r = parseRequestHead(buf, start, n, { maxHeadBytes: 1 + (rnd() % 200), maxHeaders: rnd() % 5 })
    assert.ok(r === null || r instanceof HeadFailure || typeof r.size === 'number')
  }
})
