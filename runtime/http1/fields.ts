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
 * Walks the comma-separated elements of a field value in buf[start, end) (OWS around each trimmed, empty
 * elements skipped) and returns the bit set of the ones named in `names` (matched case-insensitively).
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
    while (e > s && (buf[e - 1] === SP || buf[e - 1] === HT)) e--
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
