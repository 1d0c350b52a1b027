// The `rewrite` stage: changes the path (and query) the proxy sends upstream, or the upstream Host. Runs on the
// normalised path (config/path.ts), which routing used; the request's own `ctx.path` is never changed.
import { CONTINUE, type Stage } from '../../config/stage.js'
import { errorReply } from '../../runtime/policy-api.js'
import { NOT_NORMAL, rewritePrefix, rewriteRegex } from './apply.js'
import type { RewriteOptions } from './options.js'

function prefixStage(from: string, to: string): Stage {
  return function rewrite(ctx) { // HOT PATH
    const out = rewritePrefix(ctx.upstreamPath, from, to)
    if (out !== null) ctx.setUpstreamPath(out)
    return CONTINUE
  }
}

/** The regex rewrite: a result not in normal form is refused with 400 (apply.ts). */
function regexStage(pattern: string, lits: string[], refs: number[]): Stage {
  const re = new RegExp(pattern) // checked against the subset at compile time (policies/rewrite/regex.ts)
  const refused = errorReply('GW_ERR_BAD_REQUEST')
  return function rewrite(ctx) { // HOT PATH
    const out = rewriteRegex(ctx.upstreamPath, re, lits, refs)
    if (out === NOT_NORMAL) return refused
    if (out !== null) ctx.setUpstreamPath(out)
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
