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
  const kind = foldKind(lower)
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
  rawHeaders: string[] = []
  headers: HeaderMap = {}
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
    this.rawHeaders = []
    this.headers = {}
    this.contentLength = -1
    this.te = false
    this.chunked = false
    this.teBad = false
    this.teEmpty = false
    this.conn = 0
    this.upgradeField = false
    this.expectContinue = false
  }
}

/**
 * Scans the field section from buf[p] (the byte after the start line's CRLF) to its final CRLF, within
 * buf[..limit). Fills `scan` (reset by the caller) and returns where the section ended (after its final CRLF),
 * `more` when the bytes ran out (null: wait; F_TOO_LARGE: the limit is reached), or the refusal. Field names are tokens, values VALUE_BYTE with OWS trimmed, lines end in CRLF
 * (no bare CR or LF), no obs-fold, at most one Content-Length made of digits.
 */
export function scanFields(buf: Buffer, p: number, limit: number, maxHeaders: number, more: HeadFailure | null, scan: FieldScan): number | HeadFailure | null { // HOT PATH
  const rawHeaders = scan.rawHeaders
  const headers = scan.headers
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
    while (p < limit && VALUE_BYTE[buf[p]] === 1) p++
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

    const name = latin1(buf, n0, n1)
    const value = latin1(buf, v0, v1)
    rawHeaders.push(name, value)
    const nlen = n1 - n0
    // The fields that frame the message or the connection, recognised on bytes.
    if (nlen === 14 && bytesEqualLower(buf, n0, 'content-length')) {
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
    } else if (nlen === 17 && bytesEqualLower(buf, n0, 'transfer-encoding')) {
      // llhttp ignores an empty one altogether; the request parser refuses it.
      // For responses it still counts as present (Content-Length conflict, read until close), as in llhttp.
      if (v1 === v0) { scan.teEmpty = true; scan.te = true; addField(headers, 'transfer-encoding', value); continue }
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
    } else if ((nlen === 10 && bytesEqualLower(buf, n0, 'connection')) || (nlen === 16 && bytesEqualLower(buf, n0, 'proxy-connection'))) {
      // llhttp reads Proxy-Connection as Connection (a client's "close" there is honoured).
      scan.conn |= tokenFlags(buf, v0, ve, CONNECTION_TOKENS)
    } else if (nlen === 7 && bytesEqualLower(buf, n0, 'upgrade')) {
      if (v1 > v0) scan.upgradeField = true // llhttp ignores an empty Upgrade
    } else if (nlen === 6 && v1 - v0 === 12 && bytesEqualLower(buf, n0, 'expect') && bytesEqualLower(buf, v0, '100-continue')) {
      scan.expectContinue = true
    }
    addField(headers, name.toLowerCase(), value)
  }
}
