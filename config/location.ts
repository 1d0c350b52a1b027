// Redirect targets (`respond redirect 308 "https://{host}{path}?{query}"`), shared by the compiler (which
// reads and checks a target into parts) and the runtime (which fills them in per request). The parts a
// request supplies are escaped so the Location is always one valid URI reference: no CR/LF or space ever, the
// path percent-encoded where it must be, the query passed through when it is valid query text. The host part of
// an absolute target is fixed text or the request's own Host (validated by readHead), so no request data can
// choose where a client is sent (no open redirect).

/** The request parts a target may name. */
export const PLACEHOLDERS = ['host', 'path', 'query'] as const
export type Placeholder = typeof PLACEHOLDERS[number]

/**
 * One piece of a checked target: fixed text, or a request part. `lead` (query only) is the `?` or `&` written
 * before `{query}`, left out with the query when the request has none.
 */
export type LocationPart = { text: string } | { part: 'host' } | { part: 'path' } | { part: 'query'; lead: string }

/** What a path may hold literally (RFC 3986 pchar and `/`, `%` of a valid escape). */
const PATH_SAFE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/
/** What a query may hold literally (pchar, `/`, `?`, `%` of a valid escape). */
const QUERY_SAFE = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/
/** ASCII codes a path (1) or a query (1 and 2) may hold literally. */
const LITERAL = new Uint8Array(128)
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/") LITERAL[c.charCodeAt(0)] = 1
LITERAL[63 /* ? */] = 2
const HEX = /^[0-9A-Fa-f]{2}$/

/** A character as UTF-8 escapes (a lone surrogate as U+FFFD: encodeURIComponent would throw). */
function utf8(ch: string): string {
  try { return encodeURIComponent(ch) } catch { return '%EF%BF%BD' }
}

/** `s` with every character a path (`query` false) or query may not hold literally percent-encoded. */
function encodeOutside(s: string, query: boolean): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    const lit = code < 128 ? LITERAL[code] : 0
    if (lit === 1 || (lit === 2 && query) || (code === 37 /* % */ && HEX.test(s.slice(i + 1, i + 3)))) { out += s[i]; continue }
    // Node reads the request target as latin1: one char per byte, so a byte is re-encoded as itself
    if (code <= 0xff) out += '%' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase()
    else {
      const pair = code >= 0xd800 && code <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      out += utf8(pair ? s.slice(i, i + 2) : s[i])
      if (pair) i++
    }
  }
  return out
}

/**
 * The request path as it may appear in a Location: as is when it only holds characters a path may (the common
 * case: one regex test), others percent-encoded. A leading `//` (impossible after normalisation, which merges
 * slashes) is collapsed to `/` anyway, so a path can never read as a scheme-relative `//host`. HOT PATH.
 */
export function locationPath(path: string): string {
  const p = PATH_SAFE.test(path) ? path : encodeOutside(path, false)
  return p.charCodeAt(1) === 47 /* / */ ? '/' + p.replace(/^\/+/, '') : p
}

/** The query (without its `?`) as it may appear in a Location: as received when valid, else the rest encoded. HOT PATH. */
export function locationQuery(query: string): string {
  return QUERY_SAFE.test(query) ? query : encodeOutside(query, true)
}

/** Fills a checked target in for one request; null when it names `{host}` and the request has none (HTTP/1.0). */
export function buildLocation(parts: readonly LocationPart[], host: string, path: string, query: string): string | null { // HOT PATH
  let out = ''
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]
    if ('text' in p) out += p.text
    else if (p.part === 'path') out += locationPath(path)
    else if (p.part === 'host') { if (host === '') return null; out += host }
    else if (query.length > 1) out += p.lead + locationQuery(query.slice(1)) // ctx.query is '' or '?…'
  }
  return out
}
