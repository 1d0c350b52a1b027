// The one build of a bundle's stage dependencies: the `stages.<kind>(options)` factories its generated module
// is instantiated with, made from the policy registry (runtime/policies.ts) and the core's terminal stages.
// The gateway, `gwc test` (runtime/offline.ts), the benchmarks and the tests all build them here; each says
// only what differs for it: the upstream call, and whether policies behave as offline.
import { BundleError, type BuildDeps, type ProxyOptions, type RespondOptions, type StageFactories, type StageFactory } from '../config/bundle.js'
import type { BundleIR, RouteIR } from '../config/ir.js'
import { CONTINUE, type Stage, type StageOptionsBase, type TerminalStage } from '../config/stage.js'
import type { StageEnv } from '../config/stage-env.js'
import { HEAD_PLANS } from './head-plan.js'
import type { OutboundOptions } from './headers.js'
import type { FastCounter } from './metrics.js'
import { CORE_STAGES, POLICIES } from './policies.js'
import { createRespondStage } from './respond.js'
import { createProxyStage } from './upstream/proxy.js'
import type { Upstream } from './upstream/upstream.js'

/** Every stage kind this runtime can build: the policies', then the core's. */
export const STAGE_KINDS: readonly string[] = [...POLICIES.keys(), ...CORE_STAGES]

/** What a route's proxy stage is bound with besides its options. */
export interface ProxyRoute {
  outbound: OutboundOptions
  /** Lower-case request headers a stage of the route consumed (RouteIR.consumes: Authorization, an API key's header): not forwarded. */
  stripHeaders: ReadonlySet<string> | null
  /** Query parameters a stage consumed (an API key's): removed from the upstream request's query. */
  stripQuery: readonly string[] | null
}

export interface StageBuild {
  /** The upstream call: how `proxy` forwards (the gateway: its upstreams' exchange; elsewhere a stand-in). */
  proxy(o: ProxyOptions, route: ProxyRoute): TerminalStage
  /** Build each policy's stage with its `offline` behaviour where it has one (`gwc test`). */
  offline?: boolean
  /** Sees each stage as it is made (for `route`, in its order), at load, and may wrap it (`gwc test` records which stages ran). */
  wrap?(kind: string, stage: Stage | TerminalStage, route: string): Stage | TerminalStage
}

/**
 * The factory object generated code calls, one entry per stage kind, each made by `make`. No prototype: a
 * kind that is not listed is undefined, never an Object method.
 */
export function stageFactories(make: (kind: string, options: StageOptionsBase) => Stage | TerminalStage): StageFactories {
  const stages: Record<string, StageFactory> = Object.create(null)
  for (const kind of STAGE_KINDS) stages[kind] = ((o: StageOptionsBase) => make(kind, o)) as StageFactory
  return stages
}

/** Refuses a bundle whose routes use a stage kind this runtime does not have (built by a gwc with other policies). */
export function checkStageKinds(ir: BundleIR): void {
  for (const r of ir.routes) {
    const kinds: string[] = [...r.stages.map(s => s.kind), r.terminal.kind]
    for (const [i, kind] of kinds.entries()) {
      const known = i < r.stages.length ? POLICIES.has(kind) : CORE_STAGES.includes(kind)
      if (!known) {
        throw new BundleError(`route ${JSON.stringify(r.name)} uses a stage of kind ${JSON.stringify(kind)}, which this gateway does not have (it has ${STAGE_KINDS.join(', ')}); rebuild the bundle with the gwc that matches this gw`)
      }
    }
  }
}

/** Builds the dependencies `ir`'s generated module is instantiated with. Load time only; throws to refuse the bundle. */
export function createBuildDeps(ir: BundleIR, env: StageEnv, build: StageBuild): BuildDeps {
  checkStageKinds(ir)
  // the http1 engine takes an upstream answer's head as rendered lines (runtime/headers.ts writeUpstreamHead)
  const outbound: OutboundOptions = { identity: new Set(ir.identityHeaders), via: env.settings.via, rendered: env.settings.engine === 'http1' }
  // What each route's stages consume is the compiler's to say (CompilePolicy.consumes): no kind is named here.
  const consumed = new Map(ir.routes.map(r => [r.name, r.consumes]))
  const make = (kind: string, o: StageOptionsBase): Stage | TerminalStage => {
    let s: Stage | TerminalStage
    if (kind === 'proxy') s = build.proxy(o as ProxyOptions, { outbound, ...stripsOf(consumed.get(o.route)) })
    else if (kind === 'respond') s = createRespondStage(o as RespondOptions)
    else {
      const p = POLICIES.get(kind)!
      s = build.offline === true && p.offline !== undefined ? p.offline(o, env) : p.create(o, env)
    }
    return build.wrap === undefined ? s : build.wrap(kind, s, o.route)
  }
  return { CONTINUE, stages: stageFactories(make), heads: HEAD_PLANS }
}

/** A route's consumed credentials as the proxy strips them (null: nothing to strip, the common case costs nothing). */
function stripsOf(c: RouteIR['consumes']): Pick<ProxyRoute, 'stripHeaders' | 'stripQuery'> {
  return {
    stripHeaders: c === undefined || c.headers.length === 0 ? null : new Set(c.headers.map(h => h.toLowerCase())),
    stripQuery: c === undefined || c.query.length === 0 ? null : [...c.query],
  }
}

/** The gateway's upstream call: `proxy` forwards through the bundle's upstreams. */
export function upstreamProxy(upstreams: ReadonlyMap<string, Upstream>, failovers: FastCounter): StageBuild['proxy'] {
  return (o, route) => createProxyStage(o, { upstreams, ...route, failovers }) as TerminalStage
}
