// testkit/topology/sidecar.ts: the topology's machine-readable sidecar (examples/bench.topology.json) — upstream
// ports, each route's match and a request that reaches it, and which routes carry auth, rate limits, large
// bodies or SSE — for the load generator and the stub-upstream launcher, which must not parse .gwp.
import { readFileSync } from 'node:fs'
import type { RuleSpec, StubConfig } from '../upstream/stub.js'
import { BODY_BYTES, HOSTS, IDP, POLICIES, type BodyKind, type RouteSpec, type Topology } from './model.js'

export const SIDECAR_FORMAT = 'gwp-bench-topology'
export const SIDECAR_VERSION = 1

/**
 * A route as the load side needs it: its match as the model wrote it (`methods` empty = any method; add
 * `authorization: Bearer <token>` (audience `idp.audience`) to `request` when `auth`), and what it runs.
 */
export interface SidecarRoute extends Pick<RouteSpec, 'name' | 'hosts' | 'path' | 'methods' | 'header' | 'request'> {
  upstreams: { name: string; weight: number }[]
  auth: boolean
  /** The route's limiters in pipeline order (policy ones included). */
  ratelimits: { key: 'ip' | 'user'; limit: number; windowMs: number; burst: number }[]
  /** Set on the large-body and SSE routes; `bodyBytes` is what is uploaded or downloaded. */
  body: BodyKind | null
  bodyBytes: number | null
  maxBodyBytes: number | null
  timeoutMs: number
  retries: number
  canary: boolean
  respond: number | null
  scenario: RouteSpec['scenario']
}

export interface Sidecar {
  format: typeof SIDECAR_FORMAT
  version: number
  generator: { seed: number | string; routes: number; upstreams: number; replicas: number; basePort: number }
  policy: string
  idp: typeof IDP
  hosts: typeof HOSTS
  /** Upstream name → where its replicas listen. */
  upstreams: Record<string, { host: string; ports: number[] }>
  /** The tax-table scenarios: scenario → route name. */
  scenarios: Record<string, string>
  /** Route names by what they carry, for picking a mix. */
  groups: { public: string[]; auth: string[]; ratelimit: string[]; largeBody: string[]; sse: string[]; canary: string[]; respond: string[] }
  /** A stub-upstream config (testkit/upstream `parseStubConfig`): the services, with rules for body and SSE routes. */
  stub: StubConfig
  routes: SidecarRoute[]
}

function sidecarRoute(r: RouteSpec, defaultTimeoutMs: number): SidecarRoute {
  const ratelimits: SidecarRoute['ratelimits'] = []
  let auth = false
  for (const s of r.pipeline) {
    if (s.kind === 'auth') auth = true
    else if (s.kind === 'ratelimit') ratelimits.push({ key: s.key, limit: s.limit, windowMs: s.windowMs, burst: 0 })
    else if (s.kind === 'use') {
      const p = POLICIES[s.policy]
      if (p.auth) auth = true
      ratelimits.push({ ...p.ratelimit })
    }
  }
  return {
    name: r.name, hosts: r.hosts, path: r.path, methods: r.methods, header: r.header, request: r.request,
    upstreams: r.targets.map(t => ({ name: t.upstream, weight: t.weight })),
    auth, ratelimits, body: r.body, bodyBytes: r.body === 'upload' || r.body === 'download' ? BODY_BYTES[r.body] : null,
    maxBodyBytes: r.maxBodyBytes, timeoutMs: r.timeoutMs ?? defaultTimeoutMs, retries: r.retry?.count ?? 0,
    canary: r.targets.length > 1 || r.header !== null, respond: r.respond?.status ?? null, scenario: r.scenario,
  }
}

/** Stub rules that make the body and SSE routes' upstreams answer the way those routes are meant to be used. */
function stubRules(t: Topology, upstream: string): RuleSpec[] {
  const rules: RuleSpec[] = []
  for (const r of t.routes) {
    if (r.body === null || !r.targets.some(x => x.upstream === upstream)) continue
    if (r.body === 'upload') rules.push({ path: r.path.value, mode: 'upload' })
    else if (r.body === 'download') rules.push({ path: r.path.value, mode: 'bytes', size: BODY_BYTES.download })
    else rules.push({ path: r.path.value, mode: 'sse' })
  }
  return rules
}

export function buildSidecar(t: Topology, policyFile: string): Sidecar {
  const routes = t.routes.map(r => sidecarRoute(r, t.defaultTimeoutMs))
  const names = (f: (r: SidecarRoute) => boolean) => routes.filter(f).map(r => r.name)
  const o = t.options
  return {
    format: SIDECAR_FORMAT,
    version: SIDECAR_VERSION,
    generator: { seed: o.seed, routes: o.routes, upstreams: o.upstreams, replicas: o.replicas, basePort: o.basePort },
    policy: policyFile,
    idp: IDP,
    hosts: HOSTS,
    upstreams: Object.fromEntries(t.upstreams.map(u => [u.name, { host: u.host, ports: u.ports }])),
    scenarios: Object.fromEntries(t.routes.filter(r => r.scenario !== null).map(r => [r.scenario as string, r.name])),
    groups: {
      public: names(r => !r.auth && r.respond === null),
      auth: names(r => r.auth),
      ratelimit: names(r => r.ratelimits.length > 0),
      largeBody: names(r => r.body === 'upload' || r.body === 'download'),
      sse: names(r => r.body === 'sse'),
      canary: names(r => r.canary),
      respond: names(r => r.respond !== null),
    },
    stub: {
      seed: typeof o.seed === 'number' ? o.seed : String(o.seed),
      services: t.upstreams.map(u => {
        const rules = stubRules(t, u.name)
        return { name: u.name, host: u.host, ports: u.ports, ...(rules.length > 0 ? { rules } : {}) }
      }),
    },
    routes,
  }
}

/** Reads a sidecar file; throws when it is not one (or is of another version). */
export function readSidecar(file: string): Sidecar {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Sidecar
  if (s?.format !== SIDECAR_FORMAT) throw new Error(`${file}: not a ${SIDECAR_FORMAT} file`)
  if (s.version !== SIDECAR_VERSION) throw new Error(`${file}: sidecar version ${s.version} is not supported (expected ${SIDECAR_VERSION})`)
  return s
}
