// lab/tax/targets.ts: the columns of the tax table — what each target is, which process serves it, and the
// exact request it is sent — and the request mixes built from the topology sidecar and the IdP's load tokens.
import type { MixEntry } from '../../testkit/load/index.js'
import type { Sidecar, SidecarRoute } from '../../testkit/topology/sidecar.js'

/** gw's client/upstream engine (config/settings.ts `engine`, env GW_ENGINE): `node` = node:http + undici ("before"),
 *  `http1` = gw's own HTTP/1.1 engine on node:net ("after"; its upstream side too once branch upnet lands). */
export type Engine = 'node' | 'http1'
export const ENGINES: readonly Engine[] = ['node', 'http1']

/** The gw targets before the engine is named: one gw process per engine serves all five. */
export type GwBaseId = 'gw-pass' | 'gw-auth' | 'gw-ratelimit' | 'gw-breaker' | 'gw-full'
export type PeerId = 'direct' | 'floor' | 'bytes' | 'fastify' | 'nginx'
/** A column of the table: a peer, or a gw target on one engine (`gw-pass@http1`). */
export type TargetId = PeerId | `${GwBaseId}@${Engine}`

export type ServedBy = 'stub' | 'floor' | 'bytes' | 'gw' | 'fastify-proxy' | 'nginx'

export interface TargetDef {
  id: TargetId
  /** The target without its engine (`gw-pass`); a peer's own id. */
  base: PeerId | GwBaseId
  /** gw targets: the engine the serving gw process runs. */
  engine?: Engine
  /** Row label in tables. */
  label: string
  servedBy: ServedBy
  /** Tax-table scenario of the topology sidecar whose route this target exercises (gw) or mimics (the others). */
  scenario: 'passthrough' | 'auth' | 'ratelimit' | 'breaker' | 'full'
  /** Sends `Authorization: Bearer <load token>`. */
  auth: boolean
}

const GW_BASES: readonly { base: GwBaseId; label: string; scenario: TargetDef['scenario']; auth: boolean }[] = [
  { base: 'gw-pass', label: 'gw passthrough', scenario: 'passthrough', auth: false },
  { base: 'gw-auth', label: 'gw + auth (JWT)', scenario: 'auth', auth: true },
  { base: 'gw-ratelimit', label: 'gw + ratelimit', scenario: 'ratelimit', auth: false },
  { base: 'gw-breaker', label: 'gw + breaker', scenario: 'breaker', auth: false },
  { base: 'gw-full', label: 'gw full chain', scenario: 'full', auth: true },
]

/** `gw-pass@http1` for a base and an engine. */
export const gwTarget = (base: GwBaseId, engine: Engine): TargetId => `${base}@${engine}`

const peer = (id: PeerId, label: string, servedBy: ServedBy): TargetDef => ({ id, base: id, label, servedBy, scenario: 'passthrough', auth: false })

/**
 * Every target in table order: the references first, gw feature by feature (each on both engines, node then
 * http1, so before/after sit side by side), then the peers.
 */
export const TARGETS: readonly TargetDef[] = [
  peer('direct', 'direct to upstream', 'stub'),
  peer('floor', 'floor (node:http + undici)', 'floor'),
  // issue 13 item 6: what Node can do with nothing checked (lab/peers/bytes.ts: node:net both sides, heads passed as is)
  peer('bytes', 'byte-level limit (node:net both sides, no rules)', 'bytes'),
  ...GW_BASES.flatMap((g) => ENGINES.map((engine): TargetDef => ({
    id: gwTarget(g.base, engine), base: g.base, engine, label: `${g.label} @${engine}`, servedBy: 'gw', scenario: g.scenario, auth: g.auth,
  }))),
  peer('fastify', '@fastify/http-proxy', 'fastify-proxy'),
  peer('nginx', 'nginx', 'nginx'),
]

export const targetDef = (id: TargetId): TargetDef => {
  const d = TARGETS.find((t) => t.id === id)
  if (d === undefined) throw new Error(`unknown target ${id}`)
  return d
}

/** The engine of a target id (`gw-pass@http1` → http1), undefined for a peer. */
export function engineOf(id: string): Engine | undefined {
  const e = id.slice(id.indexOf('@') + 1)
  return id.includes('@') && (ENGINES as readonly string[]).includes(e) ? e as Engine : undefined
}

/**
 * The targets a command line names: peers and engine-qualified gw ids as they are, a bare gw id (`gw-pass`) on
 * every engine of `engines`; engine-qualified ids outside `engines` are dropped. Throws on an unknown name.
 * Table order, no duplicates.
 */
export function expandTargets(names: readonly string[] | undefined, engines: readonly Engine[]): TargetId[] {
  const wanted = new Set<string>()
  const all = names ?? TARGETS.map((t) => t.base)
  for (const n of all) {
    const exact = TARGETS.find((t) => t.id === n)
    const byBase = TARGETS.filter((t) => t.base === n && t.engine !== undefined)
    if (exact === undefined && byBase.length === 0) throw new Error(`unknown target ${JSON.stringify(n)}`)
    for (const t of exact !== undefined ? [exact] : byBase) if (t.engine === undefined || engines.includes(t.engine)) wanted.add(t.id)
  }
  return TARGETS.map((t) => t.id).filter((id) => wanted.has(id))
}

/** Parses `--engines node,http1`; throws on an unknown or empty list. */
export function parseEngines(s: string): Engine[] {
  const list = s.split(',').map((x) => x.trim()).filter(Boolean)
  if (list.length === 0) throw new Error('--engines needs at least one of node, http1')
  for (const e of list) if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`unknown engine ${JSON.stringify(e)} (node, http1)`)
  return ENGINES.filter((e) => list.includes(e))
}

/**
 * A valid W3C traceparent on every request, to every target alike: gw parses and propagates it (new span id),
 * which is part of what "passthrough" costs; the others forward it as an opaque header.
 */
export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** The sidecar route a target's scenario names. */
export function scenarioRoute(sidecar: Sidecar, def: TargetDef): SidecarRoute {
  const name = sidecar.scenarios[def.scenario]
  const route = sidecar.routes.find((r) => r.name === name)
  if (route === undefined) throw new Error(`sidecar: scenario ${def.scenario} names unknown route ${name}`)
  return route
}

/**
 * The mix a target is sent: its scenario route's request (same path and Host for every target, so the stub answers
 * every one of them with the same small JSON), one entry per load token when it authenticates, so the gateway
 * sees many users (each token verified once, then served from its verified-token cache, as in production).
 */
export function targetMix(sidecar: Sidecar, def: TargetDef, tokens: readonly string[]): MixEntry[] {
  const r = scenarioRoute(sidecar, def).request
  const base: MixEntry = { method: r.method, path: r.path, host: r.host, headers: { ...r.headers, traceparent: TRACEPARENT } }
  if (!def.auth) return [base]
  if (tokens.length === 0) throw new Error(`${def.id}: needs load tokens`)
  return tokens.map((t) => ({ ...base, headers: { ...base.headers, authorization: `Bearer ${t}` } }))
}

export interface TopologyMixOptions {
  /** Share of requests that carry or fetch a large body (1 MB and 10 MB uploads, the 4 MiB download). Default 2%. */
  largeShare?: number
  /** Share of requests that are SSE streams (5 events, 100 ms apart). Default 1%. */
  sseShare?: number
}

const SMALL_BODY = '{"bench":true,"items":[1,2,3]}'
const MB = 1_000_000

/**
 * The topology mix: every route of the sidecar (≥ 50), mostly small JSON requests spread evenly over the routes,
 * a slice of 1–10 MB bodies and a slice of SSE. Routes that authenticate get tokens round-robin; POSTs to
 * JSON routes carry a small JSON body. Integer weights, so the load generator's order is exact and repeatable.
 */
export function topologyMix(sidecar: Sidecar, tokens: readonly string[], o: TopologyMixOptions = {}): { mix: MixEntry[]; classes: Record<string, number> } {
  const largeShare = o.largeShare ?? 0.02
  const sseShare = o.sseShare ?? 0.01
  const small = sidecar.routes.filter((r) => r.body === null)
  const smallWeight = 100
  const total = (small.length * smallWeight) / (1 - largeShare - sseShare)
  let tokenIndex = 0
  const entry = (r: SidecarRoute, extra: Partial<MixEntry> = {}): MixEntry => {
    const headers: Record<string, string> = { ...r.request.headers, traceparent: TRACEPARENT }
    if (r.auth) headers.authorization = `Bearer ${tokens[tokenIndex++ % Math.max(1, tokens.length)]}`
    const hasBody = r.request.method === 'POST' || r.request.method === 'PUT' || r.request.method === 'PATCH'
    if (hasBody && r.body === null) headers['content-type'] = 'application/json'
    return { method: r.request.method, path: r.request.path, host: r.request.host, headers, ...(hasBody && r.body === null ? { body: SMALL_BODY } : {}), ...extra }
  }
  const mix: MixEntry[] = small.map((r) => entry(r, { weight: smallWeight }))
  const large = sidecar.routes.filter((r) => r.body === 'upload' || r.body === 'download')
  const sse = sidecar.routes.filter((r) => r.body === 'sse')
  const largeEntries: MixEntry[] = []
  for (const r of large) {
    if (r.body === 'upload') {
      const e = entry(r)
      const headers = { ...e.headers, 'content-type': 'application/octet-stream' }
      largeEntries.push({ ...e, headers, body: { size: 1 * MB } }, { ...e, headers, body: { size: 10 * MB } })
    } else {
      largeEntries.push(entry(r))
    }
  }
  const largeWeight = Math.max(1, Math.round((total * largeShare) / Math.max(1, largeEntries.length)))
  for (const e of largeEntries) mix.push({ ...e, weight: largeWeight })
  const sseWeight = Math.max(1, Math.round((total * sseShare) / Math.max(1, sse.length)))
  for (const r of sse) mix.push(entry(r, { weight: sseWeight }))
  const sum = mix.reduce((n, e) => n + (e.weight ?? 1), 0)
  const classes = {
    routes: sidecar.routes.length,
    smallShare: (small.length * smallWeight) / sum,
    largeShare: (largeEntries.length * largeWeight) / sum,
    sseShare: (sse.length * sseWeight) / sum,
  }
  return { mix, classes }
}

/** The small-JSON routes alone (public ones, no body): the latency probe stream that runs beside the topology mix. */
export function smallRoutesMix(sidecar: Sidecar): MixEntry[] {
  return sidecar.routes
    .filter((r) => r.body === null && !r.auth && r.respond === null && r.request.method === 'GET')
    .map((r) => ({ method: 'GET', path: r.request.path, host: r.request.host, headers: { ...r.request.headers, traceparent: TRACEPARENT } }))
}
