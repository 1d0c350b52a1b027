// Emit side of `rewrite`: every statement is bound once as `stages.rewrite({…})` (constants inlined). `rewrite
// host` is a stage too, not inline context calls: `gwc test` then lists it among the stages that ran.
import type { Emission } from '../../compiler/policy-api.js'
import { NOT_NORMAL, rewritePrefix, rewriteRegex } from './apply.js'
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

/** What the rewrite makes of `pathAndQuery` (for `gwc explain`): the stage's own logic (apply.ts); null when the stage answers 400. */
export function rewritePath(s: RewriteStageIR, pathAndQuery: string): string | null {
  if (s.op === 'host') return pathAndQuery
  if (s.op !== 'regex') return rewritePrefix(pathAndQuery, s.from!, s.to!) ?? pathAndQuery
  const t = readTemplate(s.replacement!, 9)
  if (isTemplateProblem(t)) return pathAndQuery
  const out = rewriteRegex(pathAndQuery, new RegExp(s.pattern!), t.lits, t.refs)
  return out === NOT_NORMAL ? null : out ?? pathAndQuery
}
