// Request-path normalisation, shared by the runtime (before routing) and the compiler (a route path that is
// not in normal form can never match). Requests are matched and forwarded in normal form, so
// `/public/../admin` can only ever reach a route that matches `/admin`.

const UNRESERVED = /[A-Za-z0-9\-._~]/
/** Characters whose presence means the path may need work; most paths have none and are returned as-is. */
const NEEDS_WORK = /%|\/\.|\/\/|\\/

/**
 * The normal form of a request path (the part before `?`), or null when it must be refused with 400:
 * not starting with `/`, an encoded `/`, `\` or NUL (ambiguous between servers), a raw `\`, or a bad
 * percent escape. Steps: decode percent-escapes of unreserved characters (RFC 3986 §6.2.2.2) and upper-case
 * the hex of the others, merge repeated slashes, remove `.` and `..` segments (RFC 3986 §5.2.4; `..` never
 * climbs above the root).
 */
export function normalizePath(path: string): string | null { // HOT PATH: the common case is one regex test
  if (path.charCodeAt(0) !== 47 /* / */) return null
  if (!NEEDS_WORK.test(path)) return path
  let decoded = ''
  for (let i = 0; i < path.length; i++) {
    const c = path[i]
    if (c === '\\') return null
    if (c !== '%') { decoded += c; continue }
    const hex = path.slice(i + 1, i + 3)
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return null
    const ch = String.fromCharCode(parseInt(hex, 16))
    if (ch === '/' || ch === '\\' || ch === '\0') return null
    decoded += UNRESERVED.test(ch) ? ch : '%' + hex.toUpperCase()
    i += 2
  }
  const out: string[] = []
  const segs = decoded.split('/')
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i]
    const last = i === segs.length - 1
    if (s === '.' || s === '') { if (last) out.push(''); continue }
    if (s === '..') { out.pop(); if (last) out.push(''); continue }
    out.push(s)
  }
  return '/' + out.join('/')
}
