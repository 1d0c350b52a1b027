// bench/runtime/http1-parse.bench.ts: gw's byte-level HTTP/1.1 codec (runtime/http1/) against Node's own
// parser (llhttp through node's HTTPParser binding, as node:http drives it) on the same bytes: request heads
// (curl, a browser's 14 fields, a JSON POST), an upstream's response head, and a chunked request body.
// gw's figure includes the rawHeaders array, the folded `headers` object and the framing decision; node's the
// C++ → JS call with its raw header array (node:http builds `headers` later, on first access).
// Run: npm run build && node --expose-gc dist/bench/runtime/http1-parse.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { ChunkedDecoder } from '../../runtime/http1/body.js'
import { parseRequestHead, HeadFailure, type RequestHead } from '../../runtime/http1/request-parser.js'
import { parseResponseHead, type ResponseHead } from '../../runtime/http1/response-parser.js'
import { browserHeaders } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

interface NodeParser {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void
  execute(buf: Buffer): number | Error
  [k: number]: unknown
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): NodeParser; REQUEST: number; RESPONSE: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number }
}

const LIMITS = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const HOST = 'api.bench.test'
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')
const CURL = latin1(`GET /v1/orders/lookup?id=7 HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n`)
const BROWSER = latin1(`GET /v1/orders/lookup?id=7 HTTP/1.1\r\n${browserHeaders(HOST).map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`)
const POST = latin1(`POST /v1/orders HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: orders-client/2.1\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: 0\r\nAuthorization: Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl\r\n\r\n`)
const RESPONSE = latin1('HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 08:00:00 GMT\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: keep-alive\r\nETag: "6570a1b2-58f"\r\nCache-Control: max-age=60\r\n\r\n')
const CHUNK = 'x'.repeat(1024)
const CHUNKED_BODY = `400\r\n${CHUNK}\r\n400;ext=1\r\n${CHUNK}\r\n400\r\n${CHUNK}\r\n400\r\n${CHUNK}\r\n0\r\n\r\n`
const CHUNKED = latin1(`POST /v1/upload HTTP/1.1\r\nHost: ${HOST}\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n${CHUNKED_BODY}`)

function gwRequest(buf: Buffer): () => RequestHead {
  const h = parseRequestHead(buf, 0, buf.length, LIMITS)
  assert.ok(h !== null && !(h instanceof HeadFailure) && h.size === buf.length)
  return () => parseRequestHead(buf, 0, buf.length, LIMITS) as RequestHead
}

/** One node parser reused message after message (keep-alive), as a node:http connection does. */
function nodeParser(type: 'request' | 'response', buf: Buffer, fields: number): () => number {
  const p = new HTTPParser()
  p.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, LIMITS.maxHeadBytes, 0)
  let seen = 0
  let bodyBytes = 0
  p[HTTPParser.kOnHeadersComplete] = (_maj: number, _min: number, headers: string[]): number => { seen = headers.length; return 0 }
  p[HTTPParser.kOnBody] = (b: Buffer): void => { bodyBytes += b.length }
  p[HTTPParser.kOnMessageComplete] = (): void => {}
  const r = p.execute(buf)
  assert.equal(r, buf.length)
  assert.equal(seen, fields * 2)
  return () => { p.execute(buf); return bodyBytes }
}

const suite = createSuite(import.meta.url, 'HTTP/1.1 parsing: gw codec (runtime/http1/) vs node HTTPParser (llhttp) on the same bytes')

suite.add('gw parseRequestHead: curl GET, 3 fields (89 B)', 'head object, rawHeaders (6 strings), headers object, target and value strings', gwRequest(CURL))
suite.add('node HTTPParser: curl GET, 3 fields', 'llhttp in C++, the raw header array and url string built for the JS callback', nodeParser('request', CURL, 3))
suite.add(`gw parseRequestHead: browser GET, 14 fields (${BROWSER.length} B)`, 'as curl, 28 strings, 14 lower-cased names', gwRequest(BROWSER))
suite.add('node HTTPParser: browser GET, 14 fields', 'as curl, 28 strings', nodeParser('request', BROWSER, 14))
suite.add(`gw parseRequestHead: JSON POST with a bearer token, 6 fields (${POST.length} B)`, 'as curl, 12 strings', gwRequest(POST))
suite.add('node HTTPParser: JSON POST with a bearer token, 6 fields', 'as curl, 12 strings', nodeParser('request', POST, 6))

const res = parseResponseHead(RESPONSE, 0, RESPONSE.length, LIMITS, 'GET') as ResponseHead
assert.equal(res.size, RESPONSE.length)
suite.add(`gw parseResponseHead: nginx JSON answer, 7 fields (${RESPONSE.length} B)`, 'head object, 14 strings, headers object, reason string',
  () => parseResponseHead(RESPONSE, 0, RESPONSE.length, LIMITS, 'GET'))
suite.add('node HTTPParser: nginx JSON answer, 7 fields', 'as the request cases', nodeParser('response', RESPONSE, 7))

let sunk = 0
const sink = (c: Buffer): void => { sunk += c.length }
function gwChunked(): number {
  const h = parseRequestHead(CHUNKED, 0, CHUNKED.length, LIMITS) as RequestHead
  const d = new ChunkedDecoder()
  return d.decode(CHUNKED, h.size, CHUNKED.length, sink) as number
}
assert.equal(gwChunked(), CHUNKED_BODY.length)
suite.add('gw: chunked POST, head + 4 KiB in 4 chunks', 'the head as above, a decoder and 4 subarrays (no copy)', gwChunked)
suite.add('node HTTPParser: chunked POST, head + 4 KiB in 4 chunks', 'the head, 4 body callbacks with Buffer slices', nodeParser('request', CHUNKED, 3))

await suite.run()
if (sunk < 0) process.stdout.write('')
