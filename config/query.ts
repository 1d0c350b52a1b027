// Query-string helpers both sides use: reading one parameter (an API key presented as `?api_key=…`) and removing
// parameters a stage consumed before the request goes upstream. Names are compared after percent-decoding, so
// `api%5Fkey` is `api_key` both when it is read and when it is removed: a credential cannot slip upstream
// under an encoded name the stage accepted.

/** A parameter's name or value, percent-decoded; null when the escapes are malformed. `+` is kept as is. */
function decoded(s: string): string | null {
  if (!s.includes('%')) return s
  try { return decodeURIComponent(s) } catch { return null }
}

/**
 * The value of the query parameter `name` in `query` (`?a=1&b=2` or ''), percent-decoded. Undefined when
 * absent; null when it is given more than once or cannot be decoded (a caller refuses both). `?name` without
 * `=` has the value ''. HOT PATH for routes that read one; no allocation when the query is empty.
 */
export function queryParam(query: string, name: string): string | null | undefined {
  if (query.length < 2) return undefined
  let found: string | null | undefined
  let start = 1
  while (start <= query.length) {
    let end = query.indexOf('&', start)
    if (end < 0) end = query.length
    if (end > start) {
      const eq = query.indexOf('=', start)
      const nameEnd = eq < 0 || eq > end ? end : eq
      const raw = query.slice(start, nameEnd)
      if (raw === name || (raw.includes('%') && decoded(raw) === name)) {
        if (found !== undefined) return null
        found = nameEnd === end ? '' : decoded(query.slice(nameEnd + 1, end))
        if (found === null) return null
      }
    }
    start = end + 1
  }
  return found
}

/** `query` without the parameters named in `names` (compared as queryParam compares them): `?…` or ''. */
export function withoutQueryParams(query: string, names: readonly string[]): string {
  if (query.length < 2) return query
  const kept: string[] = []
  let removed = false
  for (const part of query.slice(1).split('&')) {
    const eq = part.indexOf('=')
    const raw = eq < 0 ? part : part.slice(0, eq)
    const n = decoded(raw)
    if (part !== '' && (names.includes(raw) || (n !== null && names.includes(n)))) { removed = true; continue }
    kept.push(part)
  }
  if (!removed) return query
  const rest = kept.filter(p => p !== '').join('&')
  return rest === '' ? '' : '?' + rest
}
