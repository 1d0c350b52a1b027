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
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/
const QUERY_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/?]/

function encodeOutside(s: string, ok: RegExp): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) { out += c; continue }
    if (ok.test(c)) { out += c; continue }
    const code = s.charCodeAt(i)
    // Node reads the request target as latin1: one char per byte, so a byte is re-encoded as itself
    if (code <= 0xff) out += '%' + (code < 16 ? '0' : '') + code.toString(16).toUpperCase()
    else out += encodeURIComponent(c)
  }
  return out
}

/**
 * The request path as it may appear in a Location: as is when it only holds characters a path may (the common
 * case: one regex test), others percent-encoded. A leading `//` (impossible after normalisation, which merges
 * slashes) is collapsed to `/` anyway, so a path can never read as a scheme-relative `//host`. HOT PATH.
 */
export function locationPath(path: string): string {
  const p = PATH_SAFE.test(path) ? path : encodeOutside(path, PATH_CHAR)
  return p.charCodeAt(1) === 47 /* / */ ? '/' + p.replace(/^\/+/, '') : p
}

/** The query (without its `?`) as it may appear in a Location: as received when valid, else the rest encoded. HOT PATH. */
export function locationQuery(query: string): string {
  return QUERY_SAFE.test(query) ? query : encodeOutside(query, QUERY_CHAR)
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
