// Generates the bundle's handler module: the body of `build(deps)`. Every stage is bound once at load with
// its constants inlined; each route is one flat function running its stages in policy order. A stage that
// answers synchronously costs one call and one comparison; only a stage that returns a promise moves the
// rest of the pipeline into an async continuation, so the common path allocates no promise of its own.
import type { BundleIR, RouteIR, StageIR } from '../../config/ir.js'
import { REGISTRY, type PolicyRegistry } from '../policies.js'
import { HeadPlanBuilder } from './head-plan.js'
import { emitProxy, emitRespond } from './terminal.js'
import { Code, Name, Scope, comment, join, js, lit, type Json } from './js.js'

type Step = { kind: 'call'; fn: Name } | { kind: 'inline'; code: Code[] }

const CTX = new Name('ctx')
const R = new Name('r')

/** The request-context methods a policy's inline emission may call (config/bundle.ts RouteContextApi). */
const CONTEXT_METHODS = new Set(['setRequestHeader', 'removeRequestHeader', 'setResponseHeader', 'removeResponseHeader'])

function bindStage(scope: Scope, binds: Code[], kind: string, opts: Json, where: string): Name {
  const n = scope.name(kind)
  binds.push(join([comment(where), new Code('\n'), js`const ${n} = stages.${new Name(kind)}(${opts});`]))
  return n
}

/** One route's head plan builders, per direction (compiler/codegen/head-plan.ts). */
type Heads = Record<'request' | 'response', HeadPlanBuilder>

/**
 * A stage as its policy emits it: bound once as `stages.<kind>(options)`, inline context calls, or constant
 * header edits: the route's head plan so far, bound once as `heads.<direction>(plan)` and handed to the context.
 */
function stepOf(policies: PolicyRegistry, scope: Scope, binds: Code[], s: StageIR, route: RouteIR, heads: Heads): Step {
  const where = `${s.kind} at ${s.source.file}:${s.source.line}:${s.source.col}`
  const e = policies.of(s.kind).emit(s, route.name)
  if ('options' in e) return { kind: 'call', fn: bindStage(scope, binds, s.kind, e.options, where) }
  if ('edits' in e) {
    const target = e.edits.target
    const plan = heads[target].add(e.edits.ops)
    const n = scope.name(target === 'request' ? 'reqHead' : 'resHead')
    binds.push(join([comment(where), new Code('\n'), js`const ${n} = heads.${new Name(target)}(${plan as unknown as Json});`]))
    return { kind: 'inline', code: [js`ctx.${new Name(target === 'request' ? 'requestPlan' : 'responsePlan')}(${n})`] }
  }
  return {
    kind: 'inline',
    code: e.inline.map(c => {
      if (!CONTEXT_METHODS.has(c.method)) throw new Error(`codegen: ${s.kind} emits a call to ctx.${c.method}, which generated code may not call`)
      return js`ctx.${new Name(c.method)}(${join(c.args.map(lit), ', ')})`
    }),
  }
}

/** The statements that run `steps` from index `from` on, awaiting only what is a promise. */
function tail(steps: Step[], from: number, terminal: Name, asyncMode: boolean, cont: (i: number) => Name): Code[] {
  const out: Code[] = []
  for (let i = from; i < steps.length; i++) {
    const s = steps[i]
    if (s.kind === 'inline') { out.push(...s.code.map(c => js`${c};`)); continue }
    if (asyncMode) out.push(js`if ((${R} = ${s.fn}(${CTX})) !== CONTINUE && (!(${R} instanceof Promise) || (${R} = await ${R}) !== CONTINUE)) return ${R};`)
    else out.push(js`if ((${R} = ${s.fn}(${CTX})) !== CONTINUE) return ${R} instanceof Promise ? ${cont(i)}(${CTX}, ${R}) : ${R};`)
  }
  out.push(js`return ${terminal}(${CTX});`)
  return out
}

const indent = (lines: Code[], n = 2): string => lines.map(l => ' '.repeat(n) + String(l)).join('\n')

function emitRoute(policies: PolicyRegistry, scope: Scope, binds: Code[], fns: Code[], route: RouteIR): Name {
  const fn = scope.name('route')
  const heads: Heads = { request: new HeadPlanBuilder(), response: new HeadPlanBuilder() }
  const steps = route.stages.map(s => stepOf(policies, scope, binds, s, route, heads))
  const t = route.terminal
  const where = `${t.kind} at ${t.source.file}:${t.source.line}:${t.source.col}`
  const terminal = t.kind === 'proxy' ? bindStage(scope, binds, 'proxy', emitProxy(t, route), where) : bindStage(scope, binds, 'respond', emitRespond(t, route.name), where)
  const conts = new Map<number, Name>()
  const cont = (i: number): Name => { let n = conts.get(i); if (n === undefined) { n = new Name(`${fn}_${i}`); conts.set(i, n) } return n }
  const head = comment(`route ${route.name} (${route.source.file}:${route.source.line}:${route.source.col})`)
  const body = tail(steps, 0, terminal, false, cont)
  fns.push(new Code(`${head}\nfunction ${fn}(${CTX}) {\n  let ${R}\n${indent(body)}\n}`))
  for (const [i, n] of [...conts.entries()].sort((a, b) => a[0] - b[0])) {
    const rest = tail(steps, i + 1, terminal, true, cont)
    fns.push(new Code(`async function ${n}(${CTX}, ${R}) {\n  if ((${R} = await ${R}) !== CONTINUE) return ${R};\n${indent(rest)}\n}`))
  }
  return fn
}

/**
 * The module text for a checked program. `banner` names the compiler and sources (comments only). Throws on a
 * stage kind `policies` does not know (the checker reports those, so this is a compiler bug).
 */
export function emitModule(ir: BundleIR, banner: string[], policies: PolicyRegistry = REGISTRY): string {
  const scope = new Scope()
  const binds: Code[] = []
  const fns: Code[] = []
  const names = ir.routes.map(r => emitRoute(policies, scope, binds, fns, r))
  // `heads` only where a route has header edits: the modules of bundles without them read as they always did
  const usesHeads = scope.used('reqHead') || scope.used('resHead')
  return [
    ...banner.map(b => String(comment(b))),
    '"use strict";',
    usesHeads ? 'const { CONTINUE, stages, heads } = deps;' : 'const { CONTINUE, stages } = deps;',
    '',
    binds.map(String).join('\n'),
    '',
    fns.map(String).join('\n\n'),
    '',
    `return [${names.join(', ')}];`,
    '',
  ].join('\n')
}
