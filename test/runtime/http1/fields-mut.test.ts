// test/runtime/http1/fields-mut.test.ts: the field names runtime/http1/fields.ts knows by heart (its KNOWN table),
// each sent in four spellings: the name keeps the client's spelling in rawHeaders and duplicates fold exactly as
// node:http's IncomingMessage folds them (every name of node's drop-duplicate list among them); addField, the
// same fold for one field at a time. Written for the Stryker run of fields.ts (issue 14, area engine).
import assert from 'node:assert/strict'
import { IncomingMessage } from 'node:http'
import { test } from 'node:test'
import { addField, type HeaderMap } from '../../../runtime/http1/fields.js'
import { HeadFailure, parseRequestHead, type RequestHead } from '../../../runtime/http1/request-parser.js'

/** The names of fields.ts's KNOWN table, in its usual spelling. */
const KNOWN = [
  'Host', 'Connection', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Accept-Ranges', 'Cookie', 'Set-Cookie',
  'Referer', 'Origin', 'Content-Type', 'Content-Length', 'Content-Encoding', 'Transfer-Encoding', 'Authorization',
  'Cache-Control', 'Pragma', 'Upgrade', 'Expect', 'X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host', 'X-Real-IP',
  'X-Request-Id', 'traceparent', 'tracestate', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'Sec-Fetch-Site',
  'Sec-Fetch-Mode', 'Sec-Fetch-Dest', 'Sec-Fetch-User', 'Upgrade-Insecure-Requests', 'If-None-Match', 'If-Modified-Since',
  'Range', 'Via', 'Forwarded', 'Date', 'Server', 'ETag', 'Last-Modified', 'Expires', 'Vary', 'Location', 'Keep-Alive', 'Age',
  'Access-Control-Allow-Origin', 'Strict-Transport-Security', 'X-Content-Type-Options', 'Priority', 'DNT', 'TE', 'Trailer',
  'Proxy-Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Extensions', 'Sec-WebSocket-Accept',
  'Sec-WebSocket-Protocol', 'Content-Security-Policy', 'X-Frame-Options', 'WWW-Authenticate', 'Link', 'Server-Timing',
  'If-Match', 'If-Unmodified-Since', 'From', 'Max-Forwards', 'Retry-After', 'Proxy-Authorization',
]
/** Names that frame the message or the connection: sent once, with a value the parser takes. */
const FRAMING: Record<string, string> = {
  'content-length': '0', 'transfer-encoding': 'chunked', connection: 'keep-alive', 'proxy-connection': 'keep-alive', upgrade: 'h2c', expect: '100-continue',
}

const spellings = (name: string): string[] => [
  name, name.toLowerCase(), name.toUpperCase(),
  [...name].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c.toLowerCase())).join(''),
]

function parse(raw: string[][]): RequestHead {
  const text = `POST / HTTP/1.1\r\n${raw.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`
  const buf = Buffer.from(text, 'latin1')
  const h = parseRequestHead(buf, 0, buf.length, { maxHeadBytes: 64 * 1024, maxHeaders: 1000 })
  assert.ok(h !== null && !(h instanceof HeadFailure), `refused: ${h === null ? 'incomplete' : (h as HeadFailure).detail}`)
  return h
}

function nodeHeaders(raw: string[][]): object {
  const m = new IncomingMessage(null as never) as unknown as { _addHeaderLines(h: string[], n: number): void; headers: object }
  m._addHeaderLines(raw.flat(), raw.length * 2)
  return m.headers
}

test('every known name keeps its spelling in rawHeaders and folds its duplicates as node:http does', () => {
  for (const name of KNOWN) {
    const framing = FRAMING[name.toLowerCase()]
    for (const spelled of spellings(name)) {
      const raw = framing !== undefined ? [[spelled, framing]] : [[spelled, 'one'], [spelled, 'two'], [spelled.toLowerCase(), 'three']]
      const h = parse(raw)
      assert.deepEqual(h.rawHeaders, raw.flat(), spelled)
      assert.deepEqual(h.headers, nodeHeaders(raw), spelled)
    }
  }
})

test('names that look like known ones (same length, first and last letter) are folded by their own name', () => {
  const raw = [['Hxst', 'a'], ['hxst', 'b'], ['Axe', 'c'], ['axe', 'd'], ['Fxom', 'e'], ['fxom', 'f'], ['Content-Lengxh', 'g'], ['content-lengxh', 'h'],
    ['Set-Cookiz', 'i'], ['set-cookiz', 'j'], ['Cookiz', 'k'], ['cookiz', 'l'], ['Sxrver', 'm'], ['sxrver', 'n']]
  const h = parse(raw)
  assert.deepEqual(h.rawHeaders, raw.flat())
  assert.deepEqual(h.headers, nodeHeaders(raw))
})

test('addField folds one field at a time exactly as IncomingMessage does', () => {
  const names = [...KNOWN.map(n => n.toLowerCase()), 'x-other']
  const raw: string[][] = []
  for (const n of names) raw.push([n, `${n}-1`], [n, `${n}-2`])
  const dest: HeaderMap = {}
  for (const [n, v] of raw) addField(dest, n, v)
  assert.deepEqual(dest, nodeHeaders(raw))
  assert.deepEqual(dest['set-cookie'], ['set-cookie-1', 'set-cookie-2'])
  assert.equal(dest.cookie, 'cookie-1; cookie-2')
  assert.equal(dest['x-other'], 'x-other-1, x-other-2')
  assert.equal(dest.age, 'age-1')
})

test('each refusal of a field section names its reason, status and detail', () => {
  const at = (fields: string, limits = { maxHeadBytes: 64 * 1024, maxHeaders: 1000 }): HeadFailure => {
    const buf = Buffer.from(`POST / HTTP/1.1\r\n${fields}`, 'latin1')
    const r = parseRequestHead(buf, 0, buf.length, limits)
    assert.ok(r instanceof HeadFailure, `accepted ${JSON.stringify(fields)}`)
    return r
  }
  const cases: Array<[string, string, number, string]> = [
    ['X Y: a\r\n\r\n', 'malformed', 400, 'invalid header field name'],
    [': a\r\n\r\n', 'malformed', 400, 'invalid header field name'],
    ['X: a\x00\r\n\r\n', 'malformed', 400, 'invalid header field value'],
    ['X: a\nY: b\r\n\r\n', 'malformed', 400, 'bare CR or LF'],
    ['X\n\r\n', 'malformed', 400, 'bare CR or LF'],
    ['X: a\rY\r\n\r\n', 'malformed', 400, 'bare CR or LF'],
    ['\rX', 'malformed', 400, 'bare CR or LF'],
    [' X: a\r\n\r\n', 'malformed', 400, 'obs-fold or whitespace before a field name'],
    ['X: a\r\n\tb\r\n\r\n', 'malformed', 400, 'obs-fold or whitespace before a field name'],
    ['Content-Length: x\r\n\r\n', 'malformed', 400, 'invalid Content-Length'],
    ['Content-Length:\r\n\r\n', 'malformed', 400, 'invalid Content-Length'],
    ['Content-Length: 1\r\nContent-Length: 1\r\n\r\n', 'malformed', 400, 'duplicate Content-Length'],
  ]
  for (const [fields, reason, status, detail] of cases) {
    const r = at(fields)
    assert.deepEqual([r.reason, r.status, r.detail], [reason, status, detail], JSON.stringify(fields))
  }
  const big = at(`X: ${'a'.repeat(100)}\r\n\r\n`, { maxHeadBytes: 64, maxHeaders: 10 })
  assert.deepEqual([big.reason, big.status, big.detail], ['headers_too_large', 431, 'head larger than the limit'])
  const many = at('A: 1\r\nB: 2\r\nC: 3\r\n\r\n', { maxHeadBytes: 1024, maxHeaders: 2 })
  assert.deepEqual([many.reason, many.status, many.detail], ['too_many_headers', 431, 'more header fields than the limit'])
})
