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

/**
 * The first value of query parameter `name` in a raw query string (`?a=1&b=2`, the leading `?` optional), or
 * NOT_PRESENT, or INVALID. Parameters are separated by `&`; a parameter without `=` has the value ''; names
 * and values are percent-decoded, `+` read as a space (application/x-www-form-urlencoded, what browsers
 * send); a piece whose name does not decode is nobody's; the first occurrence of a repeated name decides.
 */
export function queryParam(query: string, name: string): string | typeof NOT_PRESENT | typeof INVALID {
  const n = query.length
  let i = n > 0 && query.charCodeAt(0) === 63 /* ? */ ? 1 : 0
  while (i <= n) {
    let end = query.indexOf('&', i)
    if (end < 0) end = n
    let eq = query.indexOf('=', i)
    if (eq < 0 || eq > end) eq = end
    if (end > i && nameIs(query, i, eq, name)) {
      if (eq === end) return ''
      for (let j = eq + 1; j < end; j++) {
        const c = query.charCodeAt(j)
        if (c === 37 || c === 43) return decode(query.slice(eq + 1, end))
      }
      return query.slice(eq + 1, end)
    }
    i = end + 1
  }
  return NOT_PRESENT
}

const isOws = (c: number) => c === 32 || c === 9

/**
 * The value of cookie `name` in a Cookie header (RFC 6265 §4.2.1 `name=value; name2=value2`), or NOT_PRESENT.
 * Pairs are split at `;`, spaces and tabs around names and values are dropped, a piece without `=` is
 * ignored; names are case-sensitive; values are compared as sent (not percent-decoded, quotes kept); the
 * first occurrence of a repeated name decides. Node joins repeated Cookie header lines with `; `.
 */
export function cookieValue(header: string | undefined, name: string): string | typeof NOT_PRESENT {
  if (header === undefined) return NOT_PRESENT
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
        return header.slice(v, w)
      }
    }
    i = end + 1
  }
  return NOT_PRESENT
}

/** A cookie name this reader can find: non-empty, no `=`, `;`, control characters, nor spaces at either end. */
export const COOKIE_NAME = /^(?![ \t])[^=;\x00-\x08\x0a-\x1f\x7f]+(?<![ \t])$/
/** A cookie value this reader can return: no `;`, control characters, nor spaces at either end. */
export const COOKIE_VALUE = /^(?:(?![ \t])[^;\x00-\x08\x0a-\x1f\x7f]*(?<![ \t]))?$/
