// The one query-string scanner. Two readers use it with different rules, each documented where users read it:
// `match query` (config/conditions.ts; docs/language.md: `+` is a space, the first occurrence decides) and an
// API key presented as a query parameter (policies/auth/keys-stage.ts, its removal in runtime/upstream/
// exchange.ts; docs/operations.md "API keys": `+` is kept, a parameter given twice is refused). What both
// share: `&` separates parameters (not `;`), a leading `?` is skipped, empty pieces are nothing, a parameter
// without `=` has the value '', names are compared after percent-decoding (so `api%5Fkey` is `api_key` both
// when a key is read and when it is removed: a credential cannot slip upstream under an encoded name the stage
// accepted), and a piece whose name does not decode is nobody's.

/** How a reader reads a query string. */
export interface QueryRules {
  /** `+` is a space in names and values (application/x-www-form-urlencoded, what browsers send); else a plus. */
  readonly plusIsSpace: boolean
  /** A name given more than once: `first` = the first occurrence decides; `refuse` = the scan says REPEATED. */
  readonly repeated: 'first' | 'refuse'
}

/** `match query` (docs/language.md). */
export const FORM_RULES: QueryRules = { plusIsSpace: true, repeated: 'first' }
/** An API key in the query (docs/operations.md, "API keys"): a duplicate is refused, `+` is a plus. */
export const KEY_RULES: QueryRules = { plusIsSpace: false, repeated: 'refuse' }

/** findQueryParam: the name is not there. */
export const ABSENT = -1
/** findQueryParam: the name is there more than once and the rules refuse that. */
export const REPEATED = -2

/**
 * A piece of `query` ([a, b)) percent-decoded as UTF-8 under `rules`; null when an escape is malformed or not
 * UTF-8. Allocates only the slice (and the decoded copy when something is encoded).
 */
export function decodeQueryPiece(query: string, a: number, b: number, rules: QueryRules): string | null {
  const s = query.slice(a, b)
  if (!isEncoded(query, a, b, rules)) return s
  try { return decodeURIComponent(rules.plusIsSpace && s.indexOf('+') >= 0 ? s.replace(/\+/g, ' ') : s) } catch { return null }
}

/** Whether [a, b) holds anything decoding changes: `%`, or `+` when it is a space. */
function isEncoded(query: string, a: number, b: number, rules: QueryRules): boolean {
  if (b - a >= 24) return hasChar(query, '%', 37, a, b) || (rules.plusIsSpace && hasChar(query, '+', 43, a, b))
  const plus = rules.plusIsSpace
  for (let i = a; i < b; i++) {
    const c = query.charCodeAt(i)
    if (c === 37 /* % */ || (c === 43 /* + */ && plus)) return true
  }
  return false
}

/** Whether query[a, b) holds `ch` (code `code`): a loop over a short piece, native indexOf over a long one
 *  (measured: the loop wins on names and short values, indexOf on a 44-character key, though it may look past b). */
function hasChar(query: string, ch: string, code: number, a: number, b: number): boolean {
  if (b - a < 24) {
    for (let i = a; i < b; i++) if (query.charCodeAt(i) === code) return true
    return false
  }
  const i = query.indexOf(ch, a)
  return i >= 0 && i < b
}

/** Whether `query.slice(a, b)` (a name or a value), decoded, is `s` (no allocation unless the piece is encoded). */
export function queryPieceIs(query: string, a: number, b: number, s: string, rules: QueryRules): boolean {
  // Decoding never lengthens a piece and only `+` → space keeps its length (an escape is 3 characters for at
  // most 2 UTF-16 units): a shorter piece is not `s`, one as long is `s` as sent or through a `+`, and a longer
  // one only through a `%`. The usual unencoded piece is compared in place.
  const len = b - a
  if (len < s.length) return false
  if (len === s.length) {
    if (query.startsWith(s, a)) return !isEncoded(query, a, b, rules) || decodeQueryPiece(query, a, b, rules) === s
    return rules.plusIsSpace && hasChar(query, '+', 43, a, b) && decodeQueryPiece(query, a, b, rules) === s
  }
  return hasChar(query, '%', 37, a, b) && decodeQueryPiece(query, a, b, rules) === s
}

/**
 * Finds parameter `name` in a raw query string (`?a=1&b=2`, the leading `?` optional, or ''): the index where
 * its raw value starts (it ends at queryValueEnd), or ABSENT, or REPEATED (only under `repeated: 'refuse'`,
 * which reads on past the first occurrence). HOT PATH: no allocation unless a name is encoded.
 */
export function findQueryParam(query: string, name: string, rules: QueryRules): number {
  let found = ABSENT
  for (let ok = firstPiece(query, at); ok; ok = nextPiece(query, at)) {
    if (at.end > at.start && queryPieceIs(query, at.start, at.eq, name, rules)) {
      const v = at.eq === at.end ? at.end : at.eq + 1
      if (rules.repeated === 'first') return v
      if (found !== ABSENT) return REPEATED
      found = v
    }
  }
  return found
}

/** Where one `&`-separated piece of a query sits: [start, end), its `=` at eq (eq = end without one). */
interface Piece { start: number; eq: number; end: number }
/** The one cursor both scans move (they never nest, and nothing else runs while one scans). */
const at: Piece = { start: 0, eq: 0, end: 0 }

/** Moves `p` to the first piece of `query` (after a leading `?`); false when there is none. */
function firstPiece(query: string, p: Piece): boolean {
  return pieceAt(query, query.length > 0 && query.charCodeAt(0) === 63 /* ? */ ? 1 : 0, p)
}
/** Moves `p` to the piece after it; false past the end. */
const nextPiece = (query: string, p: Piece): boolean => pieceAt(query, p.end + 1, p)

function pieceAt(query: string, i: number, p: Piece): boolean {
  const n = query.length
  if (i > n) return false
  let end = query.indexOf('&', i)
  if (end < 0) end = n
  let eq = query.indexOf('=', i)
  if (eq < 0 || eq > end) eq = end
  p.start = i; p.eq = eq; p.end = end
  return true
}

/** Where the raw value that starts at `from` (a findQueryParam result) ends. */
export function queryValueEnd(query: string, from: number): number {
  const end = query.indexOf('&', from)
  return end < 0 ? query.length : end
}

/**
 * The value of the query parameter `name` read under KEY_RULES, percent-decoded: undefined when absent; null when
 * it is given more than once (also under an encoded name) or cannot be decoded (a caller refuses both). `?name`
 * without `=` has the value ''. HOT PATH for routes that read one; no allocation when the query is empty.
 */
export function queryParam(query: string, name: string): string | null | undefined {
  const at = findQueryParam(query, name, KEY_RULES)
  if (at === ABSENT) return undefined
  if (at === REPEATED) return null
  return decodeQueryPiece(query, at, queryValueEnd(query, at), KEY_RULES)
}

/**
 * `query` (`?…` or '') without the parameters named in `names`, every occurrence, names compared as the reader
 * under `rules` compares them (KEY_RULES for a consumed API key: what the stage accepted is what is removed).
 * Returns `query` itself when nothing is removed (no allocation then); otherwise the kept pieces in order,
 * empty ones dropped, `?…` or ''.
 */
export function withoutQueryParams(query: string, names: readonly string[], rules: QueryRules = KEY_RULES): string {
  let out: string | null = null // the kept pieces once something was removed
  let keptFrom = query.length > 0 && query.charCodeAt(0) === 63 ? 1 : 0 // the start of the kept run not yet copied
  for (let ok = firstPiece(query, at); ok; ok = nextPiece(query, at)) {
    if (at.end === at.start) continue
    let drop = false
    for (let k = 0; k < names.length; k++) if (queryPieceIs(query, at.start, at.eq, names[k], rules)) { drop = true; break }
    if (drop) {
      out = appendPieces(out ?? '', query, keptFrom, at.start)
      keptFrom = at.end + 1
    }
  }
  if (out === null) return query
  out = appendPieces(out, query, keptFrom, query.length)
  return out === '' ? '' : '?' + out
}

/** `out` joined with `&` to the non-empty pieces of query[a, b) (a run of kept pieces). */
function appendPieces(out: string, query: string, a: number, b: number): string {
  let i = a
  while (i < b) {
    let end = query.indexOf('&', i)
    if (end < 0 || end > b) end = b
    if (end > i) out = out === '' ? query.slice(i, end) : out + '&' + query.slice(i, end)
    i = end + 1
  }
  return out
}
