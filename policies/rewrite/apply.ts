// What a path rewrite makes of a path and query: one definition for the stage (stage.ts, on every request) and
// for `gwc explain` (emit.ts's rewritePath), so the two cannot disagree.
import { normalizePath } from '../../config/path.js'

/**
 * `from` → `to` on a segment boundary of `up` (a normalised path with its query): the new path and query, or
 * null when `up` is not at or below `from` (`/apis` is not under `/api`). Why the result needs no re-check: the
 * input is in normal form (no `.` or `..` segment, no empty segment, no encoded `/` `\` or NUL — normalizePath
 * refuses those with 400), and the rest after `from` starts at a `/` of it, so it is a suffix of a normal path
 * starting with `/` (or empty), itself in normal form; `to` is in normal form without a trailing `/` (checked
 * at compile time). Their concatenation has no empty segment, no dot segment and no encoded slash.
 */
export function rewritePrefix(up: string, from: string, to: string): string | null { // HOT PATH
  if (!up.startsWith(from)) return null
  const n = from.length
  const c = up.charCodeAt(n)
  // the path goes on below `from`, or ends here (end, or the query)
  if (c === 47 /* / */) return to + up.slice(n)
  if (Number.isNaN(c) || c === 63 /* ? */) return (to === '' ? '/' : to) + up.slice(n)
  return null
}

/** rewriteRegex's answer when the rewritten path is not in normal form: the stage refuses the request (400). */
export const NOT_NORMAL = 0

/**
 * `re` on the path of `up` (its query kept as it is), the replacement's literals and group references joined:
 * the new path and query; null when the pattern does not match; NOT_NORMAL when the result is not its own normal
 * form. A regex rewrite cannot be right by construction (a group may capture `..` between two literal `/`, or a
 * lone `%`), so its result is re-checked rather than sent somewhere the route did not mean.
 */
export function rewriteRegex(up: string, re: RegExp, lits: readonly string[], refs: readonly number[]): string | null | typeof NOT_NORMAL { // HOT PATH
  const q = up.indexOf('?')
  const m = re.exec(q < 0 ? up : up.slice(0, q))
  if (m === null) return null
  let out = lits[0]
  for (let i = 0; i < refs.length; i++) out += (m[refs[i]] ?? '') + lits[i + 1]
  if (normalizePath(out) !== out) return NOT_NORMAL
  return q < 0 ? out : out + up.slice(q)
}
