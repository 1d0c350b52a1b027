// The `rewrite` stage: changes the path (and query) the proxy sends upstream, or the upstream Host. Runs on the
// normalised path (config/path.ts), which routing used; the request's own `ctx.path` is never changed.
import { normalizePath } from '../../config/path.js'
import { CONTINUE, type Stage } from '../../config/stage.js'
import { errorReply } from '../../runtime/policy-api.js'
import type { RewriteOptions } from './options.js'

/**
 * `from` → `to` on a segment boundary. Why the result needs no re-check: the input is in normal form (no `.`
 * or `..` segment, no empty segment, no encoded `/` `\` or NUL — normalizePath refuses those with 400), and
 * the rest after `from` starts at a `/` of it, so it is a suffix of a normal path starting with `/` (or empty),
 * itself in normal form; `to` is in normal form without a trailing `/` (checked at compile time). Their
 * concatenation has no empty segment, no dot segment and no encoded slash, and starts with `to`.
 */
function prefixStage(from: string, to: string): Stage {
  const n = from.length
  return function rewrite(ctx) { // HOT PATH
    const up = ctx.upstreamPath
    if (!up.startsWith(from)) return CONTINUE
    const c = up.charCodeAt(n)
    // the path ends here (end, or the query) or goes on below `from`; `/apis` is not under `/api`
    if (c === 47 /* / */) ctx.setUpstreamPath(to + up.slice(n))
    else if (Number.isNaN(c) || c === 63 /* ? */) ctx.setUpstreamPath((to === '' ? '/' : to) + up.slice(n))
    return CONTINUE
  }
}

/**
 * The regex rewrite cannot be right by construction (a group may capture `..` between two literal `/`, or a
 * lone `%`), so its result is re-checked: it must be its own normal form, or the request is refused with 400
 * rather than sent somewhere the route did not mean.
 */
function regexStage(pattern: string, lits: string[], refs: number[]): Stage {
  const re = new RegExp(pattern) // checked against the subset at compile time (policies/rewrite/regex.ts)
  const refused = errorReply('GW_ERR_BAD_REQUEST')
  const k = refs.length
  return function rewrite(ctx) { // HOT PATH
    const up = ctx.upstreamPath
    const q = up.indexOf('?')
    const m = re.exec(q < 0 ? up : up.slice(0, q))
    if (m === null) return CONTINUE
    let out = lits[0]
    for (let i = 0; i < k; i++) out += (m[refs[i]] ?? '') + lits[i + 1]
    if (normalizePath(out) !== out) return refused
    ctx.setUpstreamPath(q < 0 ? out : out + up.slice(q))
    return CONTINUE
  }
}

export function createRewriteStage(o: RewriteOptions): Stage {
  if (o.op === 'prefix') return prefixStage(o.from, o.to)
  if (o.op === 'regex') return regexStage(o.pattern, o.lits, o.refs)
  const host = o.host
  if (o.keep) return function rewriteHost() { return CONTINUE } // the client's Host passes through anyway
  return function rewriteHost(ctx) { ctx.setUpstreamHost(host); return CONTINUE }
}
