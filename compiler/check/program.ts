// Checks a whole policy set (all loaded files share one namespace) and lowers it to the BundleIR. Every
// check runs even after errors, so one run reports everything; the IR is only produced when there are none.
import type * as A from '../../grammar/ast.js'
import type { Diagnostics } from '../../grammar/index.js'
import { IR_VERSION, type BundleIR, type JwtProviderIR, type RouteIR, type UpstreamIR } from '../../config/ir.js'
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

const KIND_WORD = { upstream: 'upstream', jwt: 'jwt provider', policy: 'policy', route: 'route' } as const

function collectSymbols(ctx: CheckContext, files: A.FileAst[]): { defaults: A.DefaultsDecl[] } {
  const defaults: A.DefaultsDecl[] = []
  const tables = { upstream: ctx.symbols.upstreams, jwt: ctx.symbols.jwts, policy: ctx.symbols.policies, route: ctx.symbols.routes } as Record<string, Map<string, A.Decl & { name: A.WordV }>>
  for (const f of files) {
    for (const d of f.decls) {
      if (d.kind === 'include') continue
      if (d.kind === 'defaults') { defaults.push(d); continue }
      const table = tables[d.kind]
      const first = table.get(d.name.value)
      if (first !== undefined) {
        ctx.d.error('E0101', d.name.span, `${KIND_WORD[d.kind]} \`${d.name.value}\` is declared twice`, {
          label: 'declared again here', notes: [{ message: 'first declared here', span: first.name.span }], hint: `rename one of them; ${KIND_WORD[d.kind]} names are shared by all files of a policy set`,
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
  const symbols: Symbols = { upstreams: new Map(), jwts: new Map(), policies: new Map(), routes: new Map() }
  const ctx: CheckContext = { d, policies, symbols, used: new Set(), identityHeaders: new Set(), reportedCycles: new Set() }
  const { defaults } = collectSymbols(ctx, files)
  const defs = collectDefaults(ctx, defaults)

  const upstreams = new Map<string, UpstreamIR>()
  for (const u of symbols.upstreams.values()) upstreams.set(u.name.value, checkUpstream(ctx, u, defs.upstream))
  const providers: JwtProviderIR[] = []
  for (const j of symbols.jwts.values()) {
    const check = policies.jwt
    if (check !== undefined) { providers.push(check(ctx, j)); continue }
    d.error('E0404', j.span, `\`jwt\` declarations need a policy that verifies JWTs, and this gwc has none`, { label: 'no policy reads this', hint: 'remove it, or use a gwc with the `auth` policy' })
  }
  for (const p of providers) for (const f of p.forward) ctx.identityHeaders.add(f.header)
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
  for (const j of symbols.jwts.values()) lintUnused(ctx, 'jwt', j.name)
  const unusedPolicies = [...symbols.policies.values()].filter(p => !ctx.used.has('policy:' + p.name.value))
  for (const p of symbols.policies.values()) lintUnused(ctx, 'policy', p.name)
  // Policies no route uses are still checked (with the route-independent rules), so a broken one cannot hide.
  for (const p of unusedPolicies) checkPolicyBody(ctx, p)

  if (d.errorCount > 0) return { ir: undefined, routes }
  const irRoutes: RouteIR[] = routes.map(c => ({ ...c.ir, envelope: envelopeOf(c.ir) }))
  return {
    ir: { irVersion: IR_VERSION, upstreams: [...upstreams.values()], jwtProviders: providers, routes: irRoutes, identityHeaders: [...identityHeaders].sort() },
    routes,
  }
}
