// Checks a whole policy set (all loaded files share one namespace) and lowers it to the BundleIR. Every
// check runs even after errors, so one run reports everything; the IR is only produced when there are none.
import type * as A from '../../grammar/ast.js'
import type { Diagnostics } from '../../grammar/index.js'
import { IR_VERSION, type BundleIR, type DeclarationIR, type RouteIR, type UpstreamIR } from '../../config/ir.js'
import { kindOf } from '../../grammar/ast.js'
import { REGISTRY, type PolicyRegistry } from '../policies.js'
import type { CheckContext, Symbols } from './context.js'
import { checkEnvelope, envelopeOf } from './envelope.js'
import { lintRoute, lintUnused } from './lints.js'
import { checkPolicyBody, checkPolicyDecl, checkRoute, checkRouteDefaults, type CheckedRoute, type RouteDefaults } from './route.js'
import { checkRouting } from './routing.js'
import { checkUpstream, checkUpstreamDefaults, checkUpstreamDefaultValues, type UpstreamDefaults } from './upstream.js'

export interface CheckResult {
  /** Present only when there were no errors. */
  ir: BundleIR | undefined
  /** Checked routes with their AST, for tools (`gwc routes`, `explain`) even when other parts failed. */
  routes: CheckedRoute[]
}

const KIND_WORD: Record<string, string> = { upstream: 'upstream', policy: 'policy', route: 'route' }

/** What a declaration is called in messages: the core's own words, a policy declaration's `what` (`jwt provider`). */
const kindWord = (ctx: CheckContext, kind: string): string => (Object.hasOwn(KIND_WORD, kind) ? KIND_WORD[kind] : ctx.policies.declaration(kind).syntax.what)

function collectSymbols(ctx: CheckContext, files: A.FileAst[]): { defaults: A.DefaultsDecl[] } {
  const defaults: A.DefaultsDecl[] = []
  const tables = { upstream: ctx.symbols.upstreams, policy: ctx.symbols.policies, route: ctx.symbols.routes } as Record<string, Map<string, A.Decl & { name: A.WordV }>>
  for (const f of files) {
    for (const d of f.decls) {
      if (d.kind === 'include') continue
      if (d.kind === 'defaults') { defaults.push(d); continue }
      // the policies' declarations share one namespace (a stage names one without saying which kind)
      const table = Object.hasOwn(tables, kindOf(d)) ? tables[kindOf(d)] : ctx.symbols.declarations
      const first = table.get(d.name.value)
      if (first !== undefined) {
        const what = kindWord(ctx, kindOf(d))
        ctx.d.error('E0101', d.name.span, `${what} \`${d.name.value}\` is declared twice`, {
          label: 'declared again here', notes: [{ message: 'first declared here', span: first.name.span }], hint: `rename one of them; ${what} names are shared by all files of a policy set`,
        })
        continue
      }
      table.set(d.name.value, d)
    }
  }
  return { defaults }
}

function collectDefaults(ctx: CheckContext, decls: A.DefaultsDecl[]): { route: RouteDefaults; upstream: UpstreamDefaults } {
  const route: RouteDefaults = {}
  const upstream: UpstreamDefaults = new Map()
  const upstreamStmts: A.UpstreamStmt[] = []
  for (const d of decls) {
    for (const s of d.body) {
      switch (s.kind) {
        case 'timeout': case 'max_body': case 'retry': {
          const key = s.kind === 'max_body' ? 'maxBody' : s.kind
          const first = route[key]
          if (first !== undefined) {
            ctx.d.error('E0102', s.span, `\`${s.kind}\` is given twice in \`defaults\``, { notes: [{ message: 'first given here', span: first.span }], hint: 'keep one of them' })
            break
          }
          ;(route as Record<string, A.RouteStmt>)[key] = s
          break
        }
        case 'replicas': case 'balance': case 'health': case 'pool': case 'bulkhead': case 'breaker':
          upstreamStmts.push(s)
          break
        default:
          ctx.d.error('E0404', s.span, `\`${s.kind}\` cannot be a default`, {
            label: 'not allowed in `defaults`',
            hint: s.kind === 'match' || s.kind === 'proxy' || s.kind === 'respond' ? 'put it in each route' : 'put it in a `policy` and `use` it in the routes that need it',
          })
      }
    }
  }
  checkUpstreamDefaults(ctx, upstreamStmts, upstream)
  // Defaults are checked once here, even if nothing uses them (a use reports the same spans, deduplicated).
  checkRouteDefaults(ctx, route)
  checkUpstreamDefaultValues(ctx, upstream)
  return { route, upstream }
}

/** `policies`: the kinds this compilation knows (tests pass their own registry). */
export function checkProgram(files: A.FileAst[], d: Diagnostics, policies: PolicyRegistry = REGISTRY): CheckResult {
  const symbols: Symbols = { upstreams: new Map(), declarations: new Map(), policies: new Map(), routes: new Map() }
  const ctx: CheckContext = { d, policies, symbols, used: new Set(), identityHeaders: new Set(), reportedCycles: new Set() }
  const { defaults } = collectSymbols(ctx, files)
  const defs = collectDefaults(ctx, defaults)

  const upstreams = new Map<string, UpstreamIR>()
  for (const u of symbols.upstreams.values()) upstreams.set(u.name.value, checkUpstream(ctx, u, defs.upstream))
  const declarations: DeclarationIR[] = []
  for (const x of symbols.declarations.values()) {
    const decl = policies.declaration(kindOf(x))
    const ir = decl.check(ctx, x)
    declarations.push(ir)
    for (const h of decl.identityHeaders?.(ir) ?? []) ctx.identityHeaders.add(h)
  }
  for (const p of symbols.policies.values()) checkPolicyDecl(ctx, p)

  const routes: CheckedRoute[] = []
  for (const r of symbols.routes.values()) {
    const c = checkRoute(ctx, r, defs.route)
    if (c !== undefined) routes.push(c)
  }
  checkRouting(ctx, routes.map(c => ({ name: c.ir.name, match: c.ir.match, span: c.decl.name.span, decl: c.matchSpan })))

  const identityHeaders = ctx.identityHeaders
  for (const c of routes) {
    checkEnvelope(ctx, c)
    lintRoute(ctx, c, upstreams)
  }
  for (const u of symbols.upstreams.values()) lintUnused(ctx, 'upstream', u.name)
  for (const x of symbols.declarations.values()) lintUnused(ctx, kindOf(x), x.name)
  const unusedPolicies = [...symbols.policies.values()].filter(p => !ctx.used.has('policy:' + p.name.value))
  for (const p of symbols.policies.values()) lintUnused(ctx, 'policy', p.name)
  // Policies no route uses are still checked (with the route-independent rules), so a broken one cannot hide.
  for (const p of unusedPolicies) checkPolicyBody(ctx, p)

  if (d.errorCount > 0) return { ir: undefined, routes }
  const irRoutes: RouteIR[] = routes.map(c => ({ ...c.ir, envelope: envelopeOf(c.ir) }))
  return {
    ir: { irVersion: IR_VERSION, upstreams: [...upstreams.values()], declarations, routes: irRoutes, identityHeaders: [...identityHeaders].sort() },
    routes,
  }
}
