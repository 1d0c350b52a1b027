// Emit side of `rewrite`: every statement is bound once as `stages.rewrite({…})` (constants inlined). `rewrite
// host` is a stage too, not inline context calls: `gwc test` then lists it among the stages that ran.
import type { Emission } from '../../compiler/policy-api.js'
import { normalizePath } from '../../config/path.js'
import type { RewriteStageIR } from './check.js'
import { isTemplateProblem, readTemplate } from './template.js'

export function emitRewrite(s: RewriteStageIR, route: string): Emission {
  if (s.op === 'host') {
    return { options: { route, op: 'host', host: s.hostMode === 'fixed' ? s.host : null, keep: s.hostMode === 'client' } }
  }
  if (s.op === 'regex') {
    const t = readTemplate(s.replacement!, 9)
    if (isTemplateProblem(t)) throw new Error(`codegen: rewrite replacement ${JSON.stringify(s.replacement)} was not checked`)
    return { options: { route, op: 'regex', pattern: s.pattern!, lits: t.lits, refs: t.refs } }
  }
  return { options: { route, op: 'prefix', from: s.from!, to: s.to! } }
}

/** What the rewrite makes of `pathAndQuery` (for `gwc explain`): the stage's logic; null when the stage answers 400. */
export function rewritePath(s: RewriteStageIR, pathAndQuery: string): string | null {
  if (s.op === 'host') return pathAndQuery
  const q = pathAndQuery.indexOf('?')
  const path = q < 0 ? pathAndQuery : pathAndQuery.slice(0, q), query = q < 0 ? '' : pathAndQuery.slice(q)
  if (s.op === 'regex') {
    const m = new RegExp(s.pattern!).exec(path)
    if (m === null) return pathAndQuery
    const t = readTemplate(s.replacement!, 9)
    if (isTemplateProblem(t)) return pathAndQuery
    let out = t.lits[0]
    for (let i = 0; i < t.refs.length; i++) out += (m[t.refs[i]] ?? '') + t.lits[i + 1]
    return normalizePath(out) === out ? out + query : null // the stage refuses it with 400
  }
  const from = s.from!, to = s.to!
  if (!path.startsWith(from)) return pathAndQuery
  if (path.length === from.length) return (to === '' ? '/' : to) + query
  return path.charCodeAt(from.length) === 47 ? to + path.slice(from.length) + query : pathAndQuery
}
