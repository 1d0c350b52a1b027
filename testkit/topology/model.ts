// testkit/topology/model.ts: the benchmark topology as data — upstreams on fixed loopback ports, policies, and
// routes each with a request that reaches it — built deterministically from a seed. emit-gwp.ts writes it as
// .gwp and sidecar.ts as the JSON a load generator and the stub-upstream launcher read.
import { createRng, type Rng } from '../upstream/prng.js'

export interface TopologyOptions {
  routes: number
  upstreams: number
  /** Replicas per upstream. */
  replicas: number
  seed: number | string
  /** Replica r of upstream u listens on basePort + u × replicas + r. */
  basePort: number
  /** Where the stub replicas listen. */
  host: string
}

export const TOPOLOGY_DEFAULTS: Readonly<TopologyOptions> = { routes: 64, upstreams: 12, replicas: 3, seed: 1, basePort: 9201, host: '127.0.0.1' }

/** Two exact hosts plus a wildcard; `tenant` is a concrete host the wildcard matches, for requests. */
export const HOSTS = { api: 'api.bench.test', partner: 'partner.bench.test', wildcard: '*.tenants.bench.test', tenant: 'acme.tenants.bench.test' } as const

/** The mock IdP (testkit/idp) as the benchmark runs it: `node dist/testkit/idp/main.js --listen 127.0.0.1:9100`. */
export const IDP = {
  name: 'bench_idp', listen: '127.0.0.1:9100', issuer: 'http://127.0.0.1:9100/',
  jwksUrl: 'http://127.0.0.1:9100/.well-known/jwks.json', audience: 'bench-api',
} as const

/** Bodies the large-body and streaming routes move (the stub answers downloads with this many bytes). */
export const BODY_BYTES = { upload: 4 * 1024 * 1024, download: 4 * 1024 * 1024 } as const

export type Balance = 'round_robin' | 'least_conn' | 'p2c_ewma' | 'random'

export interface UpstreamSpec {
  name: string
  host: string
  ports: number[]
  balance: Balance
  /** Upstream 0 has no breaker: the passthrough scenario measures the proxy alone. */
  breaker: boolean
  bulkhead: number | null
}

export type Stage =
  | { kind: 'use'; policy: keyof typeof POLICIES }
  | { kind: 'auth' }
  | { kind: 'ratelimit'; key: 'ip' | 'user'; limit: number; windowMs: number }
  | { kind: 'headers'; target: 'request' | 'response'; name: string; value: string }

/** Reusable pipelines; what each contributes is spelled out so the sidecar can flag the routes using them. */
export const POLICIES = {
  public_edge: { ratelimit: { key: 'ip', limit: 100_000, windowMs: 1000, burst: 10_000 }, auth: false },
  authed: { ratelimit: { key: 'user', limit: 20_000, windowMs: 1000, burst: 0 }, auth: true },
} as const

export type BodyKind = 'upload' | 'download' | 'sse'

export interface RouteSpec {
  name: string
  /** Match hosts as written; empty = any host. */
  hosts: string[]
  path: { kind: 'exact' | 'prefix'; value: string }
  methods: string[]
  header: { name: string; value: string } | null
  /** A request this route wins: the load generator sends it (plus a bearer token when the route authenticates). */
  request: { method: string; host: string; path: string; headers: Record<string, string> }
  pipeline: Stage[]
  /** null = the `defaults` timeout. */
  timeoutMs: number | null
  retry: { count: number; perTryMs: number } | null
  maxBodyBytes: number | null
  body: BodyKind | null
  /** Empty for a `respond` route. */
  targets: { upstream: string; weight: number }[]
  respond: { status: number; json: string } | null
  /** The tax-table scenario this route stands for, if any. */
  scenario: 'passthrough' | 'auth' | 'ratelimit' | 'breaker' | 'full' | null
}

export interface Topology {
  options: TopologyOptions
  upstreams: UpstreamSpec[]
  routes: RouteSpec[]
  defaultTimeoutMs: number
}

const SERVICES = ['users', 'orders', 'payments', 'catalog', 'search', 'inventory', 'shipping', 'reviews', 'media', 'events', 'pricing', 'accounts', 'carts', 'ledger', 'notify', 'profiles']
const RESOURCES = ['items', 'lookup', 'stats', 'export', 'history', 'settings', 'tags', 'notes', 'links', 'reports', 'batch', 'summary', 'feed', 'status', 'config', 'audit']
const BALANCES: Balance[] = ['round_robin', 'least_conn', 'p2c_ewma', 'random']
const TIMEOUTS = [500, 1000, 2000, 3000, 5000]

/** Fixed feature routes come first; the rest are drawn. The minimum keeps every upstream in use. */
const FIXED_ROUTES = 16
export const minRoutes = (upstreams: number): number => FIXED_ROUTES + upstreams

function upstreamName(i: number): string {
  const base = SERVICES[i % SERVICES.length]
  return i < SERVICES.length ? base : `${base}${Math.floor(i / SERVICES.length) + 1}`
}

/** Throws an Error naming the bad option. */
export function validateOptions(o: TopologyOptions): void {
  const int = (v: number, name: string, min: number) => { if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${v}`) }
  int(o.upstreams, 'upstreams', 2)
  int(o.replicas, 'replicas', 1)
  int(o.routes, 'routes', minRoutes(o.upstreams))
  int(o.basePort, 'basePort', 1)
  const last = o.basePort + o.upstreams * o.replicas - 1
  if (last > 65535) throw new Error(`ports ${o.basePort}..${last} run past 65535: fewer upstreams or replicas, or a lower base port`)
}

export function buildTopology(opts: Partial<TopologyOptions> = {}): Topology {
  const o: TopologyOptions = { ...TOPOLOGY_DEFAULTS, ...opts }
  validateOptions(o)
  const rng = createRng(o.seed, 'bench-topology')
  const upstreams: UpstreamSpec[] = []
  for (let i = 0; i < o.upstreams; i++) {
    upstreams.push({
      name: upstreamName(i), host: o.host,
      ports: Array.from({ length: o.replicas }, (_, r) => o.basePort + i * o.replicas + r),
      balance: i === 0 ? 'round_robin' : pick(rng, BALANCES),
      breaker: i > 0,
      bulkhead: i > 0 && rng.next() < 0.3 ? 512 : null,
    })
  }
  const u = (k: number): string => upstreams[k % upstreams.length].name
  const routes = fixedRoutes(u, u(8))
  const paths = new Set(routes.map(r => r.path.value))
  const names = new Set(routes.map(r => r.name))
  // Each upstream gets at least one drawn route, in a seeded order, so none is unused (W0709).
  const order = shuffle(rng, upstreams.map((_, i) => i))
  for (let j = 0; routes.length < o.routes; j++) {
    const up = upstreams[order[j % order.length]]
    for (const r of drawnRoutes(rng, up, paths, names, o.routes - routes.length)) routes.push(r)
  }
  return { options: o, upstreams, routes, defaultTimeoutMs: 10_000 }
}

function pick<T>(rng: Rng, xs: readonly T[]): T { return xs[Math.floor(rng.next() * xs.length)] }

function shuffle<T>(rng: Rng, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) { const j = Math.floor(rng.next() * (i + 1)); [xs[i], xs[j]] = [xs[j], xs[i]] }
  return xs
}

type Partial2 = Partial<RouteSpec> & Pick<RouteSpec, 'name' | 'hosts' | 'path' | 'request'>
const route = (r: Partial2): RouteSpec => ({
  methods: [], header: null, pipeline: [], timeoutMs: 1000, retry: null, maxBodyBytes: null, body: null,
  targets: [], respond: null, scenario: null, ...r,
})
const req = (host: string, path: string, method = 'GET', headers: Record<string, string> = {}) => ({ method, host, path, headers })
const one = (upstream: string) => [{ upstream, weight: 100 }]

/** The routes every topology has: one per tax-table scenario, the large-body and SSE routes, canaries, a respond. */
function fixedRoutes(u: (k: number) => string, media: string): RouteSpec[] {
  const { api, partner, wildcard, tenant } = HOSTS
  const rs = [
    route({ name: 'bench_health', hosts: [], path: { kind: 'exact', value: '/bench/health' }, methods: ['GET'], request: req(api, '/bench/health'), respond: { status: 200, json: '{"ok":true}' } }),
    route({ name: 'pass_through', hosts: [api], path: { kind: 'prefix', value: '/pass' }, request: req(api, '/pass/42'), targets: one(u(0)), scenario: 'passthrough' }),
    route({ name: 'pass_auth', hosts: [api], path: { kind: 'prefix', value: '/auth' }, request: req(api, '/auth/42'), pipeline: [{ kind: 'auth' }], targets: one(u(0)), scenario: 'auth' }),
    route({ name: 'pass_ratelimit', hosts: [api], path: { kind: 'prefix', value: '/limited' }, request: req(api, '/limited/42'), pipeline: [{ kind: 'ratelimit', key: 'ip', limit: 1_000_000, windowMs: 1000 }], targets: one(u(0)), scenario: 'ratelimit' }),
    route({ name: 'pass_breaker', hosts: [api], path: { kind: 'prefix', value: '/breaker' }, request: req(api, '/breaker/42'), targets: one(u(1)), scenario: 'breaker' }),
    route({
      name: 'full_chain', hosts: [api], path: { kind: 'prefix', value: '/full' }, methods: ['GET', 'HEAD'], request: req(api, '/full/42'),
      pipeline: [{ kind: 'use', policy: 'public_edge' }, { kind: 'use', policy: 'authed' }, { kind: 'headers', target: 'request', name: 'X-Bench-Chain', value: 'full' }],
      timeoutMs: 2000, retry: { count: 1, perTryMs: 900 }, targets: one(u(1)), scenario: 'full',
    }),
    route({ name: 'media_upload', hosts: [api], path: { kind: 'exact', value: '/v1/media/upload' }, methods: ['POST', 'PUT'], request: req(api, '/v1/media/upload', 'POST'), timeoutMs: 30_000, maxBodyBytes: 16 * 1024 * 1024, body: 'upload', targets: one(media) }),
    route({ name: 'media_download', hosts: [api], path: { kind: 'prefix', value: '/v1/media/files' }, methods: ['GET', 'HEAD'], request: req(api, '/v1/media/files/blob-1'), timeoutMs: 30_000, body: 'download', targets: one(media) }),
    route({ name: 'events_stream', hosts: [api], path: { kind: 'prefix', value: '/v1/events/stream' }, methods: ['GET'], request: req(api, '/v1/events/stream/orders'), pipeline: [{ kind: 'auth' }], timeoutMs: 5000, body: 'sse', targets: one(u(9)) }),
    route({ name: 'browse', hosts: [api], path: { kind: 'prefix', value: '/v1/browse' }, request: req(api, '/v1/browse/shoes'), pipeline: [{ kind: 'use', policy: 'public_edge' }], targets: one(u(2)) }),
    route({ name: 'browse_canary', hosts: [api], path: { kind: 'prefix', value: '/v1/browse' }, header: { name: 'x-canary', value: '1' }, request: req(api, '/v1/browse/shoes', 'GET', { 'x-canary': '1' }), pipeline: [{ kind: 'use', policy: 'public_edge' }], targets: one(u(3)) }),
    route({ name: 'canary_checkout', hosts: [api], path: { kind: 'prefix', value: '/v1/checkout' }, methods: ['POST'], request: req(api, '/v1/checkout/cart-7', 'POST'), pipeline: [{ kind: 'use', policy: 'authed' }], targets: [{ upstream: u(2), weight: 90 }, { upstream: u(3), weight: 10 }] }),
    route({ name: 'canary_search', hosts: [partner], path: { kind: 'prefix', value: '/v1/search' }, methods: ['GET'], request: req(partner, '/v1/search/q'), targets: [{ upstream: u(4), weight: 95 }, { upstream: u(5), weight: 5 }] }),
    route({ name: 'canary_pricing', hosts: [wildcard], path: { kind: 'prefix', value: '/v1/pricing' }, request: req(tenant, '/v1/pricing/plan'), targets: [{ upstream: u(5), weight: 50 }, { upstream: u(6), weight: 50 }] }),
    route({ name: 'tenant_home', hosts: [wildcard], path: { kind: 'exact', value: '/' }, methods: ['GET'], request: req(tenant, '/'), pipeline: [{ kind: 'auth' }], targets: one(u(6)) }),
    route({ name: 'partner_webhook', hosts: [partner], path: { kind: 'exact', value: '/hooks/payments' }, methods: ['POST'], request: req(partner, '/hooks/payments', 'POST'), pipeline: [{ kind: 'ratelimit', key: 'ip', limit: 5000, windowMs: 1000 }], maxBodyBytes: 1024 * 1024, targets: one(u(7)) }),
  ]
  if (rs.length !== FIXED_ROUTES) throw new Error('testkit/topology: FIXED_ROUTES is out of date')
  return rs
}

/** One drawn route to `up` (two when a GET gets a POST twin on the same path), with a unique path and name. */
function drawnRoutes(rng: Rng, up: UpstreamSpec, paths: Set<string>, names: Set<string>, room: number): RouteSpec[] {
  const h = rng.next()
  const host = h < 0.6 ? HOSTS.api : h < 0.85 ? HOSTS.partner : HOSTS.wildcard
  const reqHost = host === HOSTS.wildcard ? HOSTS.tenant : host
  const version = rng.next() < 0.7 ? 1 : 2
  const res = pick(rng, RESOURCES)
  let path = `/v${version}/${up.name}/${res}`, name = `${up.name}_${res}${version === 2 ? '_v2' : ''}`
  for (let k = 2; paths.has(path) || names.has(name) || names.has(name + '_create'); k++) {
    path = `/v${version}/${up.name}/${res}-${k}`
    name = `${up.name}_${res}${version === 2 ? '_v2' : ''}_${k}`
  }
  paths.add(path)
  names.add(name)
  const exact = rng.next() < 0.35
  const m = rng.next()
  const methods = exact ? ['GET'] : m < 0.5 ? [] : m < 0.8 ? ['GET', 'HEAD'] : ['GET', 'POST', 'PUT', 'DELETE']

  const pipeline: Stage[] = []
  const s = rng.next()
  if (s < 0.4) {
    if (rng.next() < 0.2) pipeline.push({ kind: 'ratelimit', key: 'ip', limit: pick(rng, [5000, 20_000, 50_000]), windowMs: 1000 })
    if (rng.next() < 0.5) pipeline.push({ kind: 'use', policy: 'authed' })
    else {
      pipeline.push({ kind: 'auth' })
      if (rng.next() < 0.4) pipeline.push({ kind: 'ratelimit', key: 'user', limit: pick(rng, [1000, 5000, 10_000]), windowMs: 1000 })
    }
  } else if (s < 0.6) {
    pipeline.push({ kind: 'use', policy: 'public_edge' })
  } else if (s < 0.75) {
    pipeline.push({ kind: 'ratelimit', key: 'ip', limit: pick(rng, [2000, 10_000, 50_000]), windowMs: pick(rng, [1000, 10_000]) })
  }
  if (rng.next() < 0.15) {
    pipeline.push(rng.next() < 0.5
      ? { kind: 'headers', target: 'request', name: 'X-Bench-Route', value: name }
      : { kind: 'headers', target: 'response', name: 'Cache-Control', value: 'no-store' })
  }
  const timeoutMs = rng.next() < 0.85 ? pick(rng, TIMEOUTS) : null
  const idempotent = methods.length > 0 && methods.every(x => x === 'GET' || x === 'HEAD')
  const retry = timeoutMs !== null && up.breaker && idempotent && rng.next() < 0.3 ? { count: 2, perTryMs: Math.floor(timeoutMs / 3) } : null
  const maxBodyBytes = rng.next() < 0.1 ? 1024 * 1024 : null
  const first = route({
    name, hosts: [host], path: { kind: exact ? 'exact' : 'prefix', value: path }, methods,
    request: req(reqHost, exact ? path : `${path}/${1000 + paths.size}`, methods[0] ?? 'GET'),
    pipeline, timeoutMs, retry, maxBodyBytes, targets: one(up.name),
  })
  if (!exact || room < 2 || rng.next() >= 0.3) return [first]
  names.add(name + '_create')
  const twin = route({
    name: name + '_create', hosts: [host], path: first.path, methods: ['POST'], request: req(reqHost, path, 'POST'),
    pipeline: [{ kind: 'use', policy: 'authed' }], timeoutMs: timeoutMs ?? 2000, maxBodyBytes: 1024 * 1024, targets: one(up.name),
  })
  return [first, twin]
}
