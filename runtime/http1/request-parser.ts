// Parses an HTTP/1.1 request head from bytes (RFC 9112), at least as strictly as Node 20's llhttp without its
// lenient flags: one pass over the bytes with lookup tables, latin1 slices for the strings, no I/O.
// Where it refuses what llhttp accepts, docs/operations.md ("HTTP/1.1 parser: deliberate stricter refusals") says so.
import {
  C_CLOSE, C_KEEP_ALIVE, C_UPGRADE, CR, F_CL_TE, F_METHOD, F_TARGET, F_TE, F_TE_EMPTY, F_TE_HTTP10, F_TOO_LARGE, F_VERSION,
  FieldScan, HeadFailure, LF, SP, TARGET_BYTE, TOKEN_BYTE, latin1, scanFields,
} from './fields.js'

export { HeadFailure }

export interface HeadLimits {
  /** Largest head accepted, in bytes from the first byte to the final CRLF CRLF included. */
  maxHeadBytes: number
  /** Most header fields accepted; one more is refused with 431 `too_many_headers`. */
  maxHeaders: number
}

export interface RequestHead {
  method: string; target: string; versionMajor: 1; versionMinor: 0 | 1
  /** [name, value, name, value, …] as sent (values with OWS trimmed), like IncomingMessage.rawHeaders. */
  rawHeaders: string[]
  /** Lower-case names, folded exactly as node:http folds duplicates (IncomingMessage.headers semantics:
   *  set-cookie an array, the drop-duplicate list first-wins, cookie joined '; ', others ', '). */
  headers: Record<string, string | string[] | undefined>
  /** 'length' whenever Content-Length is present (also `Content-Length: 0`); always 'none' for CONNECT. */
  body: 'none' | 'length' | 'chunked'; contentLength: number // -1 when not 'length'
  keepAlive: boolean; upgrade: boolean; expectContinue: boolean
  /** Bytes the head took, final CRLF CRLF included (and the empty lines llhttp skips before a request line). */
  size: number
}

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

/** Bytes of an authority (host, port, userinfo) as llhttp takes them: unreserved, sub-delims, '%', ':', '[', ']'. */
const AUTHORITY_BYTE = new Uint8Array(256)
for (const c of "-_.!~*'()%;:&=+$,[]") AUTHORITY_BYTE[c.charCodeAt(0)] = 1
for (let c = 0; c < 256; c++) if (TOKEN_BYTE[c] === 1 && ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a || (c >= 0x30 && c <= 0x39))) AUTHORITY_BYTE[c] = 1

/** An authority from buf[p] up to the first '/' or '?' (the path or query after it are VCHARs, checked already). */
function authorityOk(buf: Buffer, p: number, e: number): boolean {
  for (; p < e; p++) {
    const b = buf[p]
    if (b === 0x2f /* / */ || b === 0x3f /* ? */) return true
    if (b === 0x40 /* @ */) { if (buf[p + 1] === 0x40) return false; continue } // llhttp: "Double @"
    if (AUTHORITY_BYTE[b] !== 1) return false
  }
  return true
}

/**
 * Checks the shape of a request-target as llhttp's URL states do: origin-form (`/…`) or `*…`; for CONNECT an
 * authority (or a path); else an absolute URI `scheme://authority[/path][?query]`, the scheme letters only.
 */
function targetShapeOk(buf: Buffer, s: number, e: number, connect: boolean): boolean {
  const c = buf[s]
  if (c === 0x2f /* / */ || c === 0x2a /* * */) return true
  if (connect) return authorityOk(buf, s, e)
  let p = s
  while (p < e && (buf[p] | 0x20) >= 0x61 && (buf[p] | 0x20) <= 0x7a) p++
  return p > s && e - p >= 3 && buf[p] === 0x3a && buf[p + 1] === 0x2f && buf[p + 2] === 0x2f && authorityOk(buf, p + 3, e)
}

const scan = new FieldScan()

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
  for (let i = 0; i < 10; i++) {
    if (p + i >= limit) return more
    const b = buf[p + i]
    if (i === 7 ? b !== 0x30 && b !== 0x31 : b !== VERSION_LINE[i]) return F_VERSION
  }
  const versionMinor: 0 | 1 = buf[p + 7] === 0x31 ? 1 : 0
  p += 10

  scan.reset()
  const done = scanFields(buf, p, limit, limits.maxHeaders, more, scan)
  if (typeof done !== 'number') return done

  const { contentLength, chunked } = scan
  if (scan.teEmpty) return F_TE_EMPTY // llhttp ignores it: neither body nor conflict; readHead answered 501
  if (scan.te) {
    // RFC 9112 §6.1: faulty framing (readHead refuses it with the same reason; llhttp takes it).
    if (versionMinor === 0) return F_TE_HTTP10
    if (contentLength !== -1) return F_CL_TE // RFC 9112 §6.3: a smuggling shape; llhttp refuses it too
    if (scan.teBad || !chunked) return F_TE
  }
  const conn = scan.conn
  return {
    method, target, versionMajor: 1, versionMinor, rawHeaders: scan.rawHeaders, headers: scan.headers,
    // RFC 9110 §9.3.6: CONNECT has no content; what follows the head belongs to the tunnel (llhttp too).
    body: connect ? 'none' : chunked ? 'chunked' : contentLength >= 0 ? 'length' : 'none',
    contentLength: connect ? -1 : contentLength,
    keepAlive: versionMinor === 1 ? (conn & C_CLOSE) === 0 : (conn & C_KEEP_ALIVE) !== 0,
    upgrade: connect || (scan.upgradeField && (conn & C_UPGRADE) !== 0),
    expectContinue: scan.expectContinue,
    size: done - start,
  }
}

/** "HTTP/1.x\r\n" (x checked apart). */
const VERSION_LINE = Buffer.from('HTTP/1.x\r\n', 'latin1')
