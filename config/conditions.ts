// How a route's query-parameter and cookie conditions read a request: one implementation, used by the
// reference matcher (config/match.ts, hence the compiler's conflict analysis, `gwc explain` and `gwc test`)
// and by the runtime router. Both readers allocate nothing unless a value is percent-encoded. Query strings
// are read by the one scanner in config/query.ts, under the rules `match query` documents.
import { ABSENT, decodeQueryPiece, findQueryParam, FORM_RULES, queryPieceIs, queryValueEnd } from './query.js'

/** Which value a query parameter or cookie has: the string, or NOT_PRESENT / INVALID. */
export const NOT_PRESENT = 0
/** The first occurrence's value has an invalid percent escape (or is not UTF-8): no value condition holds. */
export const INVALID = 1

/**
 * The first value of query parameter `name` in a raw query string (`?a=1&b=2`, the leading `?` optional), or
 * NOT_PRESENT, or INVALID. Read by the one query scanner (config/query.ts) under FORM_RULES: parameters are
 * separated by `&`; a parameter without `=` has the value ''; names and values are percent-decoded, `+` read as
 * a space (application/x-www-form-urlencoded, what browsers send); a piece whose name does not decode is
 * nobody's; the first occurrence of a repeated name decides.
 */
export function queryParam(query: string, name: string): string | typeof NOT_PRESENT | typeof INVALID {
  const at = findQueryParam(query, name, FORM_RULES)
  if (at === ABSENT) return NOT_PRESENT
  return decodeQueryPiece(query, at, queryValueEnd(query, at), FORM_RULES) ?? INVALID
}

/** Whether `queryParam(query, name)` is present (`value` null) or equals `value`, without allocating for a plain value. */
export function queryMatches(query: string, name: string, value: string | null): boolean { // HOT PATH (the router)
  const at = findQueryParam(query, name, FORM_RULES)
  if (at === ABSENT) return false
  return value === null || queryPieceIs(query, at, queryValueEnd(query, at), value, FORM_RULES)
}

// Where the last findCookie put the value it found: [from, to) of the header searched. One request is read at a time.
let from = 0
let to = 0

const isOws = (c: number) => c === 32 || c === 9

/** Finds the first cookie named `name`: its value, spaces dropped, is then header[from, to). */
function findCookie(header: string, name: string): boolean {
  const n = header.length
  let i = 0
  while (i < n) {
    let end = header.indexOf(';', i)
    if (end < 0) end = n
    const eq = header.indexOf('=', i)
    if (eq >= 0 && eq < end) {
      let a = i, b = eq
      while (a < b && isOws(header.charCodeAt(a))) a++
      while (b > a && isOws(header.charCodeAt(b - 1))) b--
      if (b - a === name.length && header.startsWith(name, a)) {
        let v = eq + 1, w = end
        while (v < w && isOws(header.charCodeAt(v))) v++
        while (w > v && isOws(header.charCodeAt(w - 1))) w--
        from = v; to = w
        return true
      }
    }
    i = end + 1
  }
  return false
}

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §4.2.1 `name=value; name2=value2`), or NOT_PRESENT.
 * Pairs are split at `;`, spaces and tabs around names and values are dropped, a piece without `=` is
 * ignored; names are case-sensitive; values are compared as sent (not percent-decoded, quotes kept); the
 * first occurrence of a repeated name decides. Node joins repeated Cookie header lines with `; `.
 */
export function cookieValue(header: string | undefined, name: string): string | typeof NOT_PRESENT {
  return header !== undefined && findCookie(header, name) ? header.slice(from, to) : NOT_PRESENT
}

/** Whether `cookieValue(header, name)` is present (`value` null) or equals `value`, without allocating. */
export function cookieMatches(header: string | undefined, name: string, value: string | null): boolean {
  if (header === undefined || !findCookie(header, name)) return false
  return value === null || (to - from === value.length && header.startsWith(value, from))
}

/** A cookie name this reader can find: non-empty, no `=`, `;`, control characters, nor spaces at either end. */
export const COOKIE_NAME = /^(?![ \t])[^=;\x00-\x08\x0a-\x1f\x7f]+(?<![ \t])$/
/** A cookie value this reader can return: no `;`, control characters, nor spaces at either end. */
export const COOKIE_VALUE = /^(?:(?![ \t])[^;\x00-\x08\x0a-\x1f\x7f]*(?<![ \t]))?$/
