// How a route's query-parameter and cookie conditions read a request: one implementation, used by the
// reference matcher (config/match.ts, hence the compiler's conflict analysis, `gwc explain` and `gwc test`)
// and by the runtime router. Both readers allocate nothing unless a value is percent-encoded.

/** Which value a query parameter or cookie has: the string, or NOT_PRESENT / INVALID. */
export const NOT_PRESENT = 0
/** The first occurrence's value has an invalid percent escape (or is not UTF-8): no value condition holds. */
export const INVALID = 1

function decode(raw: string): string | typeof INVALID {
  try { return decodeURIComponent(raw.indexOf('+') < 0 ? raw : raw.replace(/\+/g, ' ')) } catch { return INVALID }
}

/** Whether `query.slice(from, to)`, decoded, is `name` (no allocation unless the piece is encoded). */
function nameIs(query: string, from: number, to: number, name: string): boolean {
  for (let i = from; i < to; i++) {
    const c = query.charCodeAt(i)
    if (c === 37 /* % */ || c === 43 /* + */) return decode(query.slice(from, to)) === name
  }
  return to - from === name.length && query.startsWith(name, from)
}

// Where the last find put the value it found: [from, to) of the string searched. One request is read at a time.
let from = 0
let to = 0

/** Finds the first parameter named `name`: its raw value is then query[from, to). */
function findParam(query: string, name: string): boolean {
  const n = query.length
  let i = n > 0 && query.charCodeAt(0) === 63 /* ? */ ? 1 : 0
  while (i <= n) {
    let end = query.indexOf('&', i)
    if (end < 0) end = n
    let eq = query.indexOf('=', i)
    if (eq < 0 || eq > end) eq = end
    if (end > i && nameIs(query, i, eq, name)) { from = eq === end ? end : eq + 1; to = end; return true }
    i = end + 1
  }
  return false
}

const encoded = (s: string, a: number, b: number): boolean => {
  for (let j = a; j < b; j++) { const c = s.charCodeAt(j); if (c === 37 || c === 43) return true }
  return false
}

/**
 * The first value of query parameter `name` in a raw query string (`?a=1&b=2`, the leading `?` optional), or
 * NOT_PRESENT, or INVALID. Parameters are separated by `&`; a parameter without `=` has the value ''; names
 * and values are percent-decoded, `+` read as a space (application/x-www-form-urlencoded, what browsers
 * send); a piece whose name does not decode is nobody's; the first occurrence of a repeated name decides.
 */
export function queryParam(query: string, name: string): string | typeof NOT_PRESENT | typeof INVALID {
  if (!findParam(query, name)) return NOT_PRESENT
  return encoded(query, from, to) ? decode(query.slice(from, to)) : query.slice(from, to)
}

/** Whether `queryParam(query, name)` is present (`value` null) or equals `value`, without allocating for a plain value. */
export function queryMatches(query: string, name: string, value: string | null): boolean {
  if (!findParam(query, name)) return false
  if (value === null) return true
  if (encoded(query, from, to)) return decode(query.slice(from, to)) === value
  return to - from === value.length && query.startsWith(value, from)
}

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
