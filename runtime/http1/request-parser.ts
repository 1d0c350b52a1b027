// Parses an HTTP/1.1 request head from bytes (RFC 9112), at least as strictly as Node 20's llhttp without its
// lenient flags: one pass over the bytes with lookup tables, latin1 slices for the strings, no I/O.
// Where it refuses what llhttp accepts, docs/operations.md ("HTTP/1.1 parser: deliberate stricter refusals") says so.
import {
  CR, DIGIT_BYTE, HT, LF, SP, TARGET_BYTE, TOKEN_BYTE, VALUE_BYTE, addField, bytesEqualLower, latin1, tokenFlags,
  type HeaderMap,
} from './fields.js'

export interface HeadLimits {
  /** Largest head accepted, in bytes from the first byte to the final CRLF CRLF included. */
  maxHeadBytes: number
  /** Most header fields accepted; one more is refused with 431 `too_many_headers`. */
  maxHeaders: number
}

/** A refusal: `reason` is the string that goes to ctx.reason / gw_rejected_requests_total (today's names:
 *  'malformed', 'headers_too_large', 'too_many_headers', ...), `status` the answer (400, 431, 501, 505). */
export class HeadFailure {
  constructor(readonly reason: string, readonly status: number, readonly detail: string) {}
}

export interface RequestHead {
  method: string; target: string; versionMajor: 1; versionMinor: 0 | 1
  /** [name, value, name, value, …] as sent (values with OWS trimmed), like IncomingMessage.rawHeaders. */
  rawHeaders: string[]
  /** Lower-case names, folded exactly as node:http folds duplicates (IncomingMessage.headers semantics:
   *  set-cookie an array, the drop-duplicate list first-wins, cookie joined '; ', others ', '). */
  headers: Record<string, string | string[] | undefined>
  /** 'length' whenever Content-Length is present (also `Content-Length: 0`). */
  body: 'none' | 'length' | 'chunked'; contentLength: number // -1 when not 'length'
  keepAlive: boolean; upgrade: boolean; expectContinue: boolean
  /** Bytes the head took, final CRLF CRLF included (and the empty lines llhttp skips before a request line). */
  size: number
}

const malformed = (detail: string): HeadFailure => new HeadFailure('malformed', 400, detail)
// Refusals are preallocated: a hostile client costs no allocation per refusal.
export const F_TOO_LARGE = new HeadFailure('headers_too_large', 431, 'request head larger than the limit')
export const F_TOO_MANY = new HeadFailure('too_many_headers', 431, 'more header fields than the limit')
export const F_METHOD = malformed('invalid or unknown method')
export const F_TARGET = malformed('invalid request-target')
export const F_VERSION = malformed('invalid or unsupported HTTP version')
export const F_LINE = malformed('bad request line')
export const F_NAME = malformed('invalid header field name')
export const F_VALUE = malformed('invalid header field value')
export const F_CRLF = malformed('bare CR or LF')
export const F_FOLD = malformed('obs-fold or whitespace before a field name')
export const F_CL = malformed('invalid Content-Length')
export const F_CL_DUP = malformed('duplicate Content-Length')
export const F_CL_TE = malformed('Content-Length with Transfer-Encoding')
export const F_TE = malformed('Transfer-Encoding whose final coding is not chunked')
export const F_TE_EMPTY = new HeadFailure('unsupported_transfer_coding', 501, 'empty Transfer-Encoding')

/** The methods llhttp knows for HTTP (node:http's METHODS): any other token is refused, as llhttp does. */
const METHODS = new Set([
  'ACL', 'BIND', 'CHECKOUT', 'CONNECT', 'COPY', 'DELETE', 'GET', 'HEAD', 'LINK', 'LOCK', 'M-SEARCH', 'MERGE',
  'MKACTIVITY', 'MKCALENDAR', 'MKCOL', 'MOVE', 'NOTIFY', 'OPTIONS', 'PATCH', 'POST', 'PROPFIND', 'PROPPATCH', 'PURGE',
  'PUT', 'QUERY', 'REBIND', 'REPORT', 'SEARCH', 'SOURCE', 'SUBSCRIBE', 'TRACE', 'UNBIND', 'UNLINK', 'UNLOCK', 'UNSUBSCRIBE',
])

/** The common methods as constant strings (no slice), the rest through the set. */
function methodOf(buf: Buffer, s: number, e: number): string | undefined { // HOT PATH
  const n = e - s
  const c = buf[s]
  if (n === 3 && c === 0x47 && buf[s + 1] === 0x45 && buf[s + 2] === 0x54) return 'GET'
  if (n === 4 && c === 0x50 && buf[s + 1] === 0x4f && buf[s + 2] === 0x53 && buf[s + 3] === 0x54) return 'POST'
  const m = latin1(buf, s, e)
  return METHODS.has(m) ? m : undefined
}

const CONNECTION_TOKENS = ['close', 'keep-alive', 'upgrade'] as const
const C_CLOSE = 1
const C_KEEP_ALIVE = 2
const C_UPGRADE = 4

/**
 * Checks a request-target that does not start with '/' the way llhttp's URL states do: `*` (OPTIONS *),
 * the authority of CONNECT, or an absolute URI `scheme://authority[path]` (scheme letters only, as llhttp).
 */
function targetShapeOk(buf: Buffer, s: number, e: number, connect: boolean): boolean {
  const c = buf[s]
  if (c === 0x2f /* / */ || c === 0x2a /* * */ || connect) return true
  let p = s
  while (p < e && ((buf[p] | 0x20) >= 0x61 && (buf[p] | 0x20) <= 0x7a)) p++
  if (p === s || e - p < 3 || buf[p] !== 0x3a || buf[p + 1] !== 0x2f || buf[p + 2] !== 0x2f) return false
  return true
}

/**
 * Parses the request head starting at buf[start] and ending before buf[end].
 * Returns the head, a HeadFailure (the answer to give before closing), or null when the head is not complete
 * yet and fewer than `limits.maxHeadBytes` bytes have been seen. Never throws on any input.
 * A caller re-parses from `start` when more bytes arrive; `size` says where the body (or the next pipelined
 * request) starts.
 */
export function parseRequestHead(buf: Buffer, start: number, end: number, limits: HeadLimits): RequestHead | HeadFailure | null { // HOT PATH
  const limit = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end
  // What running out of bytes means: wait for more, or the head does not fit the limit.
  const more = end - start >= limits.maxHeadBytes ? F_TOO_LARGE : null
  let p = start
  // RFC 9112 §2.2: empty lines before a request line are ignored (llhttp skips any CR and LF there).
  while (p < limit && (buf[p] === CR || buf[p] === LF)) p++

  // method SP
  const m0 = p
  while (p < limit && TOKEN_BYTE[buf[p]] === 1) p++
  if (p >= limit) return more
  if (buf[p] !== SP || p === m0) return F_METHOD
  const method = methodOf(buf, m0, p)
  if (method === undefined) return F_METHOD
  while (p < limit && buf[p] === SP) p++ // llhttp takes several spaces between the parts

  // request-target SP
  const t0 = p
  while (p < limit && TARGET_BYTE[buf[p]] === 1) p++
  if (p >= limit) return more
  if (buf[p] !== SP || p === t0) return F_TARGET
  const connect = method === 'CONNECT'
  if (!targetShapeOk(buf, t0, p, connect)) return F_TARGET
  const target = latin1(buf, t0, p)
  while (p < limit && buf[p] === SP) p++

  // HTTP-version CRLF: only 1.0 and 1.1 (llhttp also takes 0.9 and 2.0; gw does not).
  if (limit - p < 10) {
    // Not all there: refuse early if what is there cannot become a version.
    const want = 'HTTP/1.'
    for (let i = 0; p + i < limit && i < 7; i++) if (buf[p + i] !== want.charCodeAt(i)) return F_VERSION
    if (p + 7 < limit && buf[p + 7] !== 0x30 && buf[p + 7] !== 0x31) return F_VERSION
    if (p + 8 < limit && buf[p + 8] !== CR) return F_VERSION
    return more
  }
  if (buf[p] !== 0x48 || buf[p + 1] !== 0x54 || buf[p + 2] !== 0x54 || buf[p + 3] !== 0x50 || buf[p + 4] !== 0x2f ||
      buf[p + 5] !== 0x31 || buf[p + 6] !== 0x2e) return F_VERSION
  const minorByte = buf[p + 7]
  if (minorByte !== 0x30 && minorByte !== 0x31) return F_VERSION
  if (buf[p + 8] !== CR || buf[p + 9] !== LF) return F_VERSION
  const versionMinor: 0 | 1 = minorByte === 0x31 ? 1 : 0
  p += 10

  const rawHeaders: string[] = []
  const headers: HeaderMap = {}
  let count = 0
  let contentLength = -1
  let te = false // a Transfer-Encoding field was seen
  let chunked = false // ... and the last one's final coding is chunked
  let teBad = false // chunked was not the final coding somewhere
  let teEmpty = false
  let conn = 0
  let upgradeField = false
  let expectContinue = false

  for (;;) {
    if (p >= limit) return more
    const c = buf[p]
    if (c === CR) {
      if (p + 1 >= limit) return more
      if (buf[p + 1] !== LF) return F_CRLF
      p += 2
      break
    }
    if (c === SP || c === HT) return F_FOLD
    // field-name ":"
    const n0 = p
    while (p < limit && TOKEN_BYTE[buf[p]] === 1) p++
    if (p >= limit) return more
    if (buf[p] !== 0x3a || p === n0) return buf[p] === LF ? F_CRLF : F_NAME
    const n1 = p++
    // OWS field-value OWS CRLF
    while (p < limit && (buf[p] === SP || buf[p] === HT)) p++
    const v0 = p
    while (p < limit && VALUE_BYTE[buf[p]] === 1) p++
    if (p >= limit) return more
    if (buf[p] !== CR) return buf[p] === LF ? F_CRLF : F_VALUE
    if (p + 1 >= limit) return more
    if (buf[p + 1] !== LF) return F_CRLF
    let v1 = p
    while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HT)) v1--
    p += 2
    if (++count > limits.maxHeaders) return F_TOO_MANY

    const name = latin1(buf, n0, n1)
    const value = latin1(buf, v0, v1)
    rawHeaders.push(name, value)
    const nlen = n1 - n0
    // The fields that frame the message or the connection, recognised on bytes.
    if (nlen === 14 && bytesEqualLower(buf, n0, 'content-length')) {
      if (contentLength !== -1) return F_CL_DUP
      if (v1 === v0) return F_CL
      let n = 0
      for (let i = v0; i < v1; i++) {
        const d = buf[i]
        if (DIGIT_BYTE[d] !== 1) return F_CL
        n = n * 10 + (d - 0x30)
      }
      // Past 2^53 a Number no longer counts bytes exactly (llhttp goes to 2^64 - 1).
      if (n > Number.MAX_SAFE_INTEGER) return F_CL
      contentLength = n
    } else if (nlen === 17 && bytesEqualLower(buf, n0, 'transfer-encoding')) {
      if (chunked) teBad = true // a coding after chunked (in this field or a later one)
      te = true
      chunked = false
      // Elements split on ','; the last one decides; `chunked` anywhere but last is refused (llhttp too).
      let s = v0
      let last = false
      teEmpty = v1 === v0
      while (s <= v1) {
        let e = s
        while (e < v1 && buf[e] !== 0x2c) e++
        let a = s
        let b = e
        while (a < b && (buf[a] === SP || buf[a] === HT)) a++
        while (b > a && (buf[b - 1] === SP || buf[b - 1] === HT)) b--
        const isChunked = b - a === 7 && bytesEqualLower(buf, a, 'chunked')
        if (last) teBad = true
        last = isChunked
        s = e + 1
      }
      chunked = last
    } else if (nlen === 10 && bytesEqualLower(buf, n0, 'connection')) {
      conn |= tokenFlags(buf, v0, v1, CONNECTION_TOKENS)
    } else if (nlen === 7 && bytesEqualLower(buf, n0, 'upgrade')) {
      upgradeField = true
    } else if (nlen === 6 && v1 - v0 === 12 && bytesEqualLower(buf, n0, 'expect') && bytesEqualLower(buf, v0, '100-continue')) {
      expectContinue = true
    }
    addField(headers, nlen === 4 && bytesEqualLower(buf, n0, 'host') ? 'host' : name.toLowerCase(), value)
  }

  if (te) {
    if (contentLength !== -1) return F_CL_TE // RFC 9112 §6.3: a smuggling shape; llhttp refuses it too
    if (teBad || !chunked) return teEmpty && !teBad ? F_TE_EMPTY : F_TE
  }
  const keepAlive = versionMinor === 1 ? (conn & C_CLOSE) === 0 : (conn & C_KEEP_ALIVE) !== 0
  return {
    method, target, versionMajor: 1, versionMinor, rawHeaders, headers,
    body: chunked ? 'chunked' : contentLength >= 0 ? 'length' : 'none',
    contentLength,
    keepAlive,
    upgrade: connect || (upgradeField && (conn & C_UPGRADE) !== 0),
    expectContinue,
    size: p - start,
  }
}
