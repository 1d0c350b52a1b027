// Byte classes of RFC 9110/9112 as lookup tables, and the small helpers both head parsers share: latin1
// slices, case-insensitive name compares on bytes, and node:http's folding of duplicate fields.

/** 1 where the byte is a tchar (RFC 9110 §5.6.2): the bytes of a method or a field name. */
export const TOKEN_BYTE = new Uint8Array(256)
/** 1 where the byte may appear in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text. No CTL, no DEL. */
export const VALUE_BYTE = new Uint8Array(256)
/** 1 where the byte may appear in a request-target: VCHAR (0x21-0x7E). llhttp refuses CTL, SP, DEL and obs-text. */
export const TARGET_BYTE = new Uint8Array(256)
/** 1 for ASCII digits. */
export const DIGIT_BYTE = new Uint8Array(256)
/** Value of a hex digit, or 255. */
export const HEX_VALUE = new Uint8Array(256).fill(255)

for (let c = 0; c < 256; c++) {
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)
  if (alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c))) TOKEN_BYTE[c] = 1
  if (c === 0x09 || (c >= 0x20 && c !== 0x7f)) VALUE_BYTE[c] = 1
  if (c >= 0x21 && c <= 0x7e) TARGET_BYTE[c] = 1
  if (c >= 0x30 && c <= 0x39) { DIGIT_BYTE[c] = 1; HEX_VALUE[c] = c - 0x30 }
  if (c >= 0x41 && c <= 0x46) HEX_VALUE[c] = c - 0x41 + 10
  if (c >= 0x61 && c <= 0x66) HEX_VALUE[c] = c - 0x61 + 10
}

export const CR = 13
export const LF = 10
export const SP = 32
export const HT = 9

/** Buffer's own latin1 slicer (what buf.toString('latin1', s, e) ends in), without toString's argument checks. */
interface Latin1Slicer { latin1Slice(start: number, end: number): string }
/**
 * What a connection reads next: the bytes it has not consumed yet (buf[start, end)) followed by `chunk`; the chunk
 * itself when nothing is left over (the usual case: no copy). Both sides' connections keep their input this way.
 */
export const carryOver = (buf: Buffer, start: number, end: number, chunk: Buffer): Buffer =>
  start === end ? chunk : Buffer.concat([buf.subarray(start, end), chunk])

export const latin1 = (buf: Buffer, start: number, end: number): string => (buf as unknown as Latin1Slicer).latin1Slice(start, end)

/**
 * Whether buf[start, start + lower.length) spells `lower` (lower-case letters, digits, '-') in any case.
 * `| 0x20` lower-cases ASCII letters; no tchar other than the letters themselves maps onto a letter or '-'.
 */
export function bytesEqualLower(buf: Buffer, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false
  return true
}

/**
 * Walks the comma-separated elements of a field value in buf[start, end) (OWS before each and SP after each
 * trimmed, as llhttp does: "close\t" is no close; empty elements skipped) and returns the bit set of the ones named in `names` (matched case-insensitively).
 * Used for Connection (close, keep-alive, upgrade). No allocation.
 */
export function tokenFlags(buf: Buffer, start: number, end: number, names: readonly string[]): number {
  let flags = 0
  let p = start
  while (p < end) {
    while (p < end && (buf[p] === SP || buf[p] === HT || buf[p] === 0x2c)) p++
    const s = p
    while (p < end && buf[p] !== 0x2c) p++
    let e = p
    while (e > s && buf[e - 1] === SP) e--
    const len = e - s
    for (let i = 0; i < names.length; i++) {
      if (names[i].length === len && bytesEqualLower(buf, s, names[i])) flags |= 1 << i
    }
  }
  return flags
}

/** How node:http's IncomingMessage.headers folds a repeated field (lib/_http_incoming.js, matchKnownFields). */
const FIRST_WINS = 0
const SET_COOKIE = 1
const COOKIE = 2
const JOIN = 3

/** `lower` is a lower-cased field name. node 20's list of fields whose duplicates are dropped (first wins). */
function foldKind(lower: string): number {
  switch (lower.length) {
    case 3: return lower === 'age' ? FIRST_WINS : JOIN
    case 4: return lower === 'host' || lower === 'etag' || lower === 'from' ? FIRST_WINS : JOIN
    case 6: return lower === 'server' ? FIRST_WINS : lower === 'cookie' ? COOKIE : JOIN
    case 7: return lower === 'referer' || lower === 'expires' ? FIRST_WINS : JOIN
    case 8: return lower === 'location' ? FIRST_WINS : JOIN
    case 10: return lower === 'user-agent' ? FIRST_WINS : lower === 'set-cookie' ? SET_COOKIE : JOIN
    case 11: return lower === 'retry-after' ? FIRST_WINS : JOIN
    case 12: return lower === 'content-type' || lower === 'max-forwards' ? FIRST_WINS : JOIN
    case 13: return lower === 'authorization' || lower === 'last-modified' ? FIRST_WINS : JOIN
    case 14: return lower === 'content-length' ? FIRST_WINS : JOIN
    case 17: return lower === 'if-modified-since' ? FIRST_WINS : JOIN
    case 19: return lower === 'if-unmodified-since' || lower === 'proxy-authorization' ? FIRST_WINS : JOIN
    default: return JOIN
  }
}

export type HeaderMap = Record<string, string | string[] | undefined>

/**
 * Adds one field to a headers object exactly as IncomingMessage._addHeaderLine does with joinDuplicateHeaders
 * off: set-cookie collects an array, the known singletons keep the first value, cookie joins with '; ',
 * everything else with ', '. The object is a plain {} as node's is (so `__proto__` is dropped as node drops it).
 */
export function addField(dest: HeaderMap, lower: string, value: string): void { // HOT PATH
  fold(dest, lower, value, -1)
}

/** addField with the fold kind known (-1: look it up). */
function fold(dest: HeaderMap, lower: string, value: string, known: number): void { // HOT PATH
  const kind = known < 0 ? foldKind(lower) : known
  if (kind === JOIN || kind === COOKIE) {
    const prev = dest[lower]
    if (typeof prev === 'string') dest[lower] = prev + (kind === JOIN ? ', ' : '; ') + value
    else dest[lower] = value
  } else if (kind === SET_COOKIE) {
    const prev = dest['set-cookie']
    if (prev !== undefined) (prev as string[]).push(value)
    else dest['set-cookie'] = [value]
  } else if (dest[lower] === undefined) {
    dest[lower] = value
  }
}

/** A refusal: `reason` is the string that goes to ctx.reason / gw_rejected_requests_total (today's names:
 *  'malformed', 'headers_too_large', 'too_many_headers', ...), `status` the answer (400, 431, 501, 505).
 *  Declared here so both head parsers share it; request-parser.ts re-exports it (DESIGN-13's name). */
export class HeadFailure {
  constructor(readonly reason: string, readonly status: number, readonly detail: string) {}
}

const malformed = (detail: string): HeadFailure => new HeadFailure('malformed', 400, detail)
// Refusals are preallocated: a hostile peer costs no allocation per refusal.
export const F_TOO_LARGE = new HeadFailure('headers_too_large', 431, 'head larger than the limit')
export const F_TOO_MANY = new HeadFailure('too_many_headers', 431, 'more header fields than the limit')
export const F_METHOD = malformed('invalid or unknown method')
export const F_TARGET = malformed('invalid request-target')
export const F_VERSION = malformed('invalid or unsupported HTTP version')
export const F_STATUS = malformed('invalid status line')
export const F_SWITCH = malformed('101 without Upgrade')
export const F_204_CL = malformed('204 with a non-zero Content-Length')
export const F_NAME = malformed('invalid header field name')
export const F_VALUE = malformed('invalid header field value')
export const F_CRLF = malformed('bare CR or LF')
export const F_FOLD = malformed('obs-fold or whitespace before a field name')
export const F_CL = malformed('invalid Content-Length')
export const F_CL_DUP = malformed('duplicate Content-Length')
export const F_CL_TE = malformed('Content-Length with Transfer-Encoding')
export const F_TE = malformed('Transfer-Encoding whose final coding is not chunked')
export const F_TE_EMPTY = new HeadFailure('unsupported_transfer_coding', 501, 'empty Transfer-Encoding')
export const F_TE_HTTP10 = new HeadFailure('http10_transfer_encoding', 400, 'Transfer-Encoding in an HTTP/1.0 request')

const CONNECTION_TOKENS = ['close', 'keep-alive', 'upgrade'] as const
export const C_CLOSE = 1
export const C_KEEP_ALIVE = 2
export const C_UPGRADE = 4

/** What the field section said about framing and the connection. One per parser module, reset per head. */
export class FieldScan {
  /** Per field, 4 offsets into the buffer: name start, name end, value start, value end (OWS trimmed). */
  offsets = new Int32Array(4 * 64)
  count = 0
  /** Per field, the KNOWN entry of its name, or -1 (set by scanFields: saves building and lower-casing it). */
  known = new Int16Array(64)
  /** -1 when absent. */
  contentLength = -1
  /** A Transfer-Encoding field was seen. */
  te = false
  /** The last Transfer-Encoding field's final coding is chunked. */
  chunked = false
  /** chunked appeared before another coding (in one field or across fields). */
  teBad = false
  /** An empty Transfer-Encoding field was seen (it sets te, leaves chunked and teBad alone). */
  teEmpty = false
  /** C_CLOSE | C_KEEP_ALIVE | C_UPGRADE from Connection. */
  conn = 0
  upgradeField = false
  expectContinue = false

  reset(): void {
    this.count = 0
    this.contentLength = -1
    this.te = false
    this.chunked = false
    this.teBad = false
    this.teEmpty = false
    this.conn = 0
    this.upgradeField = false
    this.expectContinue = false
  }

  private grow(): void {
    const o = new Int32Array(this.offsets.length * 2)
    o.set(this.offsets)
    this.offsets = o
    const k = new Int16Array(this.known.length * 2)
    k.set(this.known)
    this.known = k
  }

  add(n0: number, n1: number, v0: number, v1: number, known: number): void {
    if (this.count === this.known.length) this.grow()
    const i = this.count++
    const o = this.offsets
    o[4 * i] = n0
    o[4 * i + 1] = n1
    o[4 * i + 2] = v0
    o[4 * i + 3] = v1
    this.known[i] = known
  }
}

/**
 * Field names common enough to keep as constant strings: the lower-case form (the `headers` key: a literal, so
 * already internalized, which a property store wants) and the usual spelling (`rawHeaders`), so a browser's head
 * builds no name strings and lower-cases nothing. Recognised on the bytes, case-insensitively.
 */
const KNOWN: ReadonlyArray<readonly [string, string]> = [
  ['host', 'Host'], ['connection', 'Connection'], ['user-agent', 'User-Agent'], ['accept', 'Accept'],
  ['accept-encoding', 'Accept-Encoding'], ['accept-language', 'Accept-Language'], ['accept-ranges', 'Accept-Ranges'],
  ['cookie', 'Cookie'], ['set-cookie', 'Set-Cookie'], ['referer', 'Referer'], ['origin', 'Origin'],
  ['content-type', 'Content-Type'], ['content-length', 'Content-Length'], ['content-encoding', 'Content-Encoding'],
  ['transfer-encoding', 'Transfer-Encoding'], ['authorization', 'Authorization'], ['cache-control', 'Cache-Control'],
  ['pragma', 'Pragma'], ['upgrade', 'Upgrade'], ['expect', 'Expect'], ['x-forwarded-for', 'X-Forwarded-For'],
  ['x-forwarded-proto', 'X-Forwarded-Proto'], ['x-forwarded-host', 'X-Forwarded-Host'], ['x-real-ip', 'X-Real-IP'],
  ['x-request-id', 'X-Request-Id'], ['traceparent', 'traceparent'], ['tracestate', 'tracestate'], ['sec-ch-ua', 'sec-ch-ua'],
  ['sec-ch-ua-mobile', 'sec-ch-ua-mobile'], ['sec-ch-ua-platform', 'sec-ch-ua-platform'], ['sec-fetch-site', 'Sec-Fetch-Site'],
  ['sec-fetch-mode', 'Sec-Fetch-Mode'], ['sec-fetch-dest', 'Sec-Fetch-Dest'], ['sec-fetch-user', 'Sec-Fetch-User'],
  ['upgrade-insecure-requests', 'Upgrade-Insecure-Requests'], ['if-none-match', 'If-None-Match'],
  ['if-modified-since', 'If-Modified-Since'], ['range', 'Range'], ['via', 'Via'], ['forwarded', 'Forwarded'], ['date', 'Date'],
  ['server', 'Server'], ['etag', 'ETag'], ['last-modified', 'Last-Modified'], ['expires', 'Expires'], ['vary', 'Vary'],
  ['location', 'Location'], ['keep-alive', 'Keep-Alive'], ['age', 'Age'], ['access-control-allow-origin', 'Access-Control-Allow-Origin'],
  ['strict-transport-security', 'Strict-Transport-Security'], ['x-content-type-options', 'X-Content-Type-Options'],
  ['priority', 'Priority'], ['dnt', 'DNT'], ['te', 'TE'], ['trailer', 'Trailer'], ['proxy-connection', 'Proxy-Connection'],
  ['sec-websocket-key', 'Sec-WebSocket-Key'], ['sec-websocket-version', 'Sec-WebSocket-Version'],
  ['sec-websocket-extensions', 'Sec-WebSocket-Extensions'], ['sec-websocket-accept', 'Sec-WebSocket-Accept'],
  ['sec-websocket-protocol', 'Sec-WebSocket-Protocol'], ['content-security-policy', 'Content-Security-Policy'],
  ['x-frame-options', 'X-Frame-Options'], ['www-authenticate', 'WWW-Authenticate'], ['link', 'Link'], ['server-timing', 'Server-Timing'],
  ['if-match', 'If-Match'], ['if-unmodified-since', 'If-Unmodified-Since'], ['from', 'From'],
  ['max-forwards', 'Max-Forwards'], ['retry-after', 'Retry-After'], ['proxy-authorization', 'Proxy-Authorization'],
]
const KNOWN_LOWER: string[] = KNOWN.map(k => k[0])
const KNOWN_SPELLING: string[] = KNOWN.map(k => k[1])
const KNOWN_LOWER_BYTES: Uint8Array[] = KNOWN.map(k => Buffer.from(k[0], 'latin1'))
const KNOWN_SPELLING_BYTES: Uint8Array[] = KNOWN.map(k => Buffer.from(k[1], 'latin1'))
const K_CONTENT_LENGTH = KNOWN_LOWER.indexOf('content-length')
const K_TRANSFER_ENCODING = KNOWN_LOWER.indexOf('transfer-encoding')
const K_CONNECTION = KNOWN_LOWER.indexOf('connection')
const K_PROXY_CONNECTION = KNOWN_LOWER.indexOf('proxy-connection')
const K_UPGRADE = KNOWN_LOWER.indexOf('upgrade')
const K_EXPECT = KNOWN_LOWER.indexOf('expect')
/** (length, first, last letter) → KNOWN index; -1 none, -2 several (then the entries of that length are tried). */
const KNOWN_SLOT = new Int16Array(32 * 32 * 32).fill(-1)
const slotOf = (len: number, first: number, last: number): number => ((len & 31) << 10) | ((first & 31) << 5) | (last & 31)
const KNOWN_BY_LENGTH: number[][] = []
for (let i = 0; i < KNOWN.length; i++) {
  const b = KNOWN_LOWER_BYTES[i]
  const slot = slotOf(b.length, b[0], b[b.length - 1])
  KNOWN_SLOT[slot] = KNOWN_SLOT[slot] === -1 ? i : -2
  ;(KNOWN_BY_LENGTH[b.length] ??= []).push(i)
}
/** How node:http folds each KNOWN field (foldKind of its lower-case name). */
const KNOWN_FOLD = Uint8Array.from(KNOWN_LOWER, l => foldKind(l))

function matchesLower(buf: Buffer, n0: number, i: number): boolean {
  const b = KNOWN_LOWER_BYTES[i]
  for (let k = 0; k < b.length; k++) if ((buf[n0 + k] | 0x20) !== b[k]) return false
  return true
}

/** The KNOWN entry whose name buf[n0, n1) spells in any case, or -1. */
function knownName(buf: Buffer, n0: number, n1: number): number { // HOT PATH
  const len = n1 - n0
  if (len > 31) return -1
  const slot = KNOWN_SLOT[slotOf(len, buf[n0] | 0x20, buf[n1 - 1] | 0x20)]
  if (slot >= 0) return KNOWN_LOWER_BYTES[slot].length === len && matchesLower(buf, n0, slot) ? slot : -1
  if (slot === -1) return -1
  const cands = KNOWN_BY_LENGTH[len]
  for (let k = 0; k < cands.length; k++) if (matchesLower(buf, n0, cands[k])) return cands[k]
  return -1
}

/** Whether buf[n0, ...) is exactly `b`. */
function bytesEqual(buf: Buffer, n0: number, b: Uint8Array): boolean {
  for (let k = 0; k < b.length; k++) if (buf[n0 + k] !== b[k]) return false
  return true
}

/**
 * Builds rawHeaders and headers from a scan: `head` is the head's latin1 text (one native call for all of it)
 * and `base` the buffer offset of its first character; every string is a slice of it or a constant.
 */
export function fieldStrings(buf: Buffer, head: string, base: number, scan: FieldScan, rawHeaders: string[], headers: HeaderMap): void { // HOT PATH
  const o = scan.offsets
  const knownAt = scan.known
  for (let i = 0; i < scan.count; i++) {
    const n0 = o[4 * i]
    const k = knownAt[i]
    const value = head.slice(o[4 * i + 2] - base, o[4 * i + 3] - base)
    if (k >= 0) {
      const lower = KNOWN_LOWER[k]
      rawHeaders.push(bytesEqual(buf, n0, KNOWN_SPELLING_BYTES[k]) ? KNOWN_SPELLING[k] : bytesEqual(buf, n0, KNOWN_LOWER_BYTES[k]) ? lower : head.slice(n0 - base, o[4 * i + 1] - base), value)
      fold(headers, lower, value, KNOWN_FOLD[k])
    } else {
      const name = head.slice(n0 - base, o[4 * i + 1] - base)
      rawHeaders.push(name, value)
      fold(headers, name.toLowerCase(), value, -1)
    }
  }
}

/**
 * Scans the field section from buf[p] (the byte after the start line's CRLF) to its final CRLF, within
 * buf[..limit). Fills `scan` (reset by the caller) and returns where the section ended (after its final CRLF),
 * `more` when the bytes ran out (null: wait; F_TOO_LARGE: the limit is reached), or the refusal. Field names are tokens, values VALUE_BYTE with OWS trimmed, lines end in CRLF
 * (no bare CR or LF), no obs-fold, at most one Content-Length made of digits.
 */
export function scanFields(buf: Buffer, p: number, limit: number, maxHeaders: number, more: HeadFailure | null, scan: FieldScan): number | HeadFailure | null { // HOT PATH
  let count = 0
  for (;;) {
    if (p >= limit) return more
    const c = buf[p]
    if (c === CR) {
      if (p + 1 >= limit) return more
      if (buf[p + 1] !== LF) return F_CRLF
      return p + 2
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
    // VALUE_BYTE as two compares (measured ~10% faster over a browser's head than the table): HTAB, SP..~, obs-text.
    while (p < limit) {
      const b = buf[p]
      if (b < 0x20 ? b !== HT : b === 0x7f) break
      p++
    }
    if (p >= limit) return more
    if (buf[p] !== CR) return buf[p] === LF ? F_CRLF : F_VALUE
    if (p + 1 >= limit) return more
    if (buf[p + 1] !== LF) return F_CRLF
    // rawHeaders trims SP and HTAB at the end; the framing fields below see the untrimmed end `ve`, where
    // llhttp lets only SP follow a token ("chunked\t" is not chunked, "1\t" no length).
    const ve = p
    let v1 = p
    while (v1 > v0 && (buf[v1 - 1] === SP || buf[v1 - 1] === HT)) v1--
    p += 2
    if (++count > maxHeaders) return F_TOO_MANY

    const known = knownName(buf, n0, n1)
    scan.add(n0, n1, v0, v1, known)
    // The fields that frame the message or the connection, recognised on bytes (all of them are KNOWN names).
    if (known < 0) continue
    if (known === K_CONTENT_LENGTH) {
      if (scan.contentLength !== -1) return F_CL_DUP
      if (v1 === v0) return F_CL
      let n = 0
      let i = v0
      for (; i < ve && DIGIT_BYTE[buf[i]] === 1; i++) n = n * 10 + (buf[i] - 0x30)
      while (i < ve && buf[i] === SP) i++
      if (i !== ve) return F_CL
      // Past 2^53 a Number no longer counts bytes exactly (llhttp goes to 2^64 - 1).
      if (n > Number.MAX_SAFE_INTEGER) return F_CL
      scan.contentLength = n
    } else if (known === K_TRANSFER_ENCODING) {
      // llhttp ignores an empty one altogether; the request parser refuses it.
      // For responses it still counts as present (Content-Length conflict, read until close), as in llhttp.
      if (v1 === v0) { scan.teEmpty = true; scan.te = true; continue }
      if (scan.chunked) scan.teBad = true // a coding after chunked, in a later field
      scan.te = true
      // Elements split on ','; the last one decides; chunked anywhere but last is refused in requests (llhttp too).
      let s = v0
      let last = false
      while (s <= ve) {
        let e = s
        while (e < ve && buf[e] !== 0x2c) e++
        let a = s
        let b = e
        while (a < b && (buf[a] === SP || buf[a] === HT)) a++
        while (b > a && buf[b - 1] === SP) b--
        if (last) scan.teBad = true
        last = b - a === 7 && bytesEqualLower(buf, a, 'chunked')
        s = e + 1
      }
      scan.chunked = last
    } else if (known === K_CONNECTION || known === K_PROXY_CONNECTION) {
      // llhttp reads Proxy-Connection as Connection (a client's "close" there is honoured).
      scan.conn |= tokenFlags(buf, v0, ve, CONNECTION_TOKENS)
    } else if (known === K_UPGRADE) {
      if (v1 > v0) scan.upgradeField = true // llhttp ignores an empty Upgrade
    } else if (known === K_EXPECT && v1 - v0 === 12 && bytesEqualLower(buf, v0, '100-continue')) {
      scan.expectContinue = true
    }
  }
}
