// `gwc test`: runs declarative request expectations against a compiled bundle with no network. The bundle's
// own generated handlers run, routed by the real router, with the gateway's own stages (runtime/stages.ts)
// except for what must differ offline: `auth` admits the claims a case declares (`as:`) instead of verifying a
// token against the IdP's keys, rate limits count in memory on a frozen clock, and `proxy` records the upstream
// it would call and the headers it would send (built by the real header code) while the upstream answers with
// the case's `upstream_status` (200 by default).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { pino } from 'pino'
import type { BundleManifest } from '../config/bundle.js'
import type { RouteIR } from '../config/ir.js'
import { DEFAULT_SETTINGS } from '../config/settings.js'
import type { Stage, TerminalStage } from '../config/stage.js'
import { instantiateBundle } from './bundle-loader.js'
import { RequestContext } from './context.js'
import { editResponseHeaders, upstreamRequestHeaders } from './headers.js'
import { GatewayMetrics } from './metrics.js'
import { readHead } from './request-head.js'
import { REPLIES, Reply, headRefusal } from './reply.js'
import { Router } from './router.js'
import { createStageEnv } from './stage-env.js'
import { createBuildDeps } from './stages.js'
import { upgradeOffer } from './tunnel/tunnels.js'

export interface TestCase {
  name?: string
  /** `METHOD URL` or `METHOD /path` (Host then from headers). */
  request: string
  headers?: Record<string, string>
  /** Claims of a verified token; without it, `auth` answers 401. */
  as?: Record<string, unknown>
  /** The consumer of a verified API key; without it, `auth` with a `keys` provider answers 401. */
  consumer?: string
  /** Client address (default 127.0.0.1). */
  ip?: string
  /** Send the request this many times (virtual clock frozen); expectations apply to the last. */
  repeat?: number
  /** What the upstream answers, when proxied (default 200; 101 for an upgrade request the route tunnels). */
  upstream_status?: number
  expect: {
    route?: string | null
    /** Exact status (`401`) or class (`2xx`). */
    status?: number | string
    /** Ordered stage kinds that ran, e.g. [ratelimit, auth, proxy]. */
    stages?: string[]
    /** The upstream the request would be proxied to (for weighted routes, one of the targets). */
    upstream?: string
    /** The path and query the upstream would receive (after `rewrite`). */
    upstream_path?: string
    /** Headers the upstream would receive (value null = must be absent). */
    forwarded?: Record<string, string | null>
    /** Headers on the response. */
    headers?: Record<string, string | null>
  }
}

export interface CaseResult { name: string; ok: boolean; failures: string[]; route: string | null; status: number; stages: string[] }
export interface SuiteResult { cases: CaseResult[]; passed: number; failed: number; routesTotal: number; routesCovered: string[]; coverage: number }

interface Outcome { status: number; stages: string[]; upstream?: string; upstreamPath?: string; forwarded?: string[]; headers: string[] }

/** A request-shaped object, enough for the gateway's head reader and header builder. */
function fakeRequest(method: string, target: string, headers: Record<string, string>, ip: string): IncomingMessage {
  const raw: string[] = []
  const lower: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) { raw.push(k, v); lower[k.toLowerCase()] = v }
  return { method, url: target, headers: lower, rawHeaders: raw, httpVersionMajor: 1, httpVersionMinor: 1, complete: true, socket: { remoteAddress: ip } } as unknown as IncomingMessage
}

/** Whether a request asks to switch protocols (node:http emits 'upgrade' for it, not 'request'). */
function asksUpgrade(req: IncomingMessage): boolean {
  const c = req.headers.connection
  return req.headers.upgrade !== undefined && typeof c === 'string' && c.split(',').some(t => t.trim().toLowerCase() === 'upgrade')
}

class Recorder {
  stages: string[] = []
  upstream: string | undefined
  upstreamPath: string | undefined
  forwarded: string[] | undefined
}

function statusMatches(want: number | string, got: number): boolean {
  if (typeof want === 'number') return want === got
  if (/^\dxx$/i.test(want)) return Math.floor(got / 100) === Number(want[0])
  return Number(want) === got
}

const headerValue = (flat: string[] | undefined, name: string): string | undefined => {
  if (flat === undefined) return undefined
  for (let i = 0; i < flat.length; i += 2) if (flat[i].toLowerCase() === name.toLowerCase()) return flat[i + 1]
  return undefined
}

/** Runs every case against the bundle. Never touches the network or the clock. */
export function runSuite(manifest: BundleManifest, moduleText: string, cases: TestCase[]): SuiteResult {
  const ir = manifest.ir
  let current = new Recorder()
  let currentCase: TestCase = cases[0]
  /** The Upgrade offer the current request's route tunnels (Gateway.handleUpgrade's check), or null. */
  let offer: string | null = null
  const clock = 1_000_000 // frozen: `repeat` sends a burst, so rate limits trip deterministically
  const shared = new Map<string, unknown>()
  const env = createStageEnv(ir, {
    settings: { ...DEFAULT_SETTINGS, via: true },
    metrics: new GatewayMetrics({ defaultMetrics: false }),
    log: pino({ enabled: false }),
    redis: null,
    now: () => clock,
    shared: <T>(key: string, create: () => T): T => { if (!shared.has(key)) shared.set(key, create()); return shared.get(key) as T },
    offline: { claims: () => currentCase.as, consumer: () => currentCase.consumer },
  })
  /** The stage kinds the module bound for each route, in order: a route's stage missing here was emitted inline. */
  const bound = new Map<string, string[]>()
  const deps = createBuildDeps(ir, env, {
    offline: true,
    // The upstream call: record where it would go and what it would send; the upstream answers the case's status.
    proxy: (o, route) => ctx => {
      const r = current
      r.upstream = o.targets.map(t => t.upstream).join('|')
      r.upstreamPath = ctx.upstreamPath
      r.forwarded = upstreamRequestHeaders(ctx as RequestContext, route.outbound, route.stripHeaders)
      // an upgrade goes out with the hop-by-hop pair the tunnel keeps (runtime/tunnel/tunnels.ts), and a 101 comes back
      if (offer !== null) r.forwarded.push('connection', 'upgrade', 'upgrade', offer)
      return new Reply(currentCase.upstream_status ?? (offer !== null ? 101 : 200), null, '', [], null)
    },
    wrap: (kind, stage, route) => {
      bound.set(route, [...(bound.get(route) ?? []), kind])
      return (ctx => { current.stages.push(kind); return stage(ctx) }) as Stage | TerminalStage
    },
  })
  const { handlers } = instantiateBundle(manifest, moduleText, deps)
  const router = new Router(ir.routes.map(r => r.match), ir.routes.map((r, i) => ({ r, h: handlers[i] })))
  const covered = new Set<string>()
  const results: CaseResult[] = []
  for (const tc of cases) {
    currentCase = tc
    const [method, target] = tc.request.trim().split(/\s+/, 2)
    const url = /^https?:\/\//i.test(target ?? '') ? new URL(target) : null
    const headers: Record<string, string> = { ...(url !== null && !Object.keys(tc.headers ?? {}).some(k => k.toLowerCase() === 'host') ? { Host: url.host } : {}), ...(tc.headers ?? {}) }
    const path = url !== null ? url.pathname + url.search : target ?? '/'
    let out: Outcome = { status: 0, stages: [], headers: [] }
    let routeName: string | null = null
    for (let n = 0; n < (tc.repeat ?? 1); n++) {
      current = new Recorder()
      const req = fakeRequest(method.toUpperCase(), path, headers, tc.ip ?? '127.0.0.1')
      const ctx = new RequestContext(req, {} as ServerResponse, 0)
      if (!readHead(ctx, { trusted: null })) { out = { status: headRefusal(ctx.reason).status, stages: [], headers: [] }; routeName = null; continue }
      const hit = router.find(ctx.host, ctx.path, req.method!, req.headers as Record<string, string>, ctx.query)
      if (hit === undefined) { out = { status: REPLIES.noRoute.status, stages: [], headers: [] }; routeName = null; continue }
      routeName = hit.r.name
      // an upgrade request (Connection: upgrade + Upgrade): 501 unless the route tunnels a protocol it offers
      offer = null
      if (asksUpgrade(req)) {
        offer = upgradeOffer(hit.r.upgrade, req.headers.upgrade)
        if (offer === null || hit.r.terminal.kind !== 'proxy') { out = { status: 501, stages: [], headers: [] }; continue }
        if (ctx.hasBody) { out = { status: 400, stages: [], headers: [] }; continue }
      }
      ctx.route = { index: 0, name: hit.r.name, ir: hit.r, handler: hit.h, timeoutMs: hit.r.timeoutMs, maxBodyBytes: hit.r.maxBodyBytes, metrics: null as never }
      const res = hit.h(ctx)
      if (!(res instanceof Reply)) throw new Error(res instanceof Promise ? 'an offline stage returned a promise' : 'an offline route answered nothing')
      // the reply's own headers, as the client would see them before the gateway's (a static body names its type;
      // a 204/304 or a reply without a body names none, as writeReply does)
      const typed = res.body !== null && res.contentType !== '' && res.status !== 204 && res.status !== 304
      const own = typed ? ['content-type', res.contentType, ...res.headers] : [...res.headers]
      const resHeaders = editResponseHeaders(ctx, own)
      // inline `headers` stages ran before whichever stage came next: listed in policy order
      out = { status: res.status, stages: orderedStages(hit.r, current.stages, bound.get(hit.r.name) ?? []), upstream: current.upstream, upstreamPath: current.upstreamPath, forwarded: current.forwarded, headers: resHeaders }
    }
    if (routeName !== null) covered.add(routeName)
    const f: string[] = []
    const e = tc.expect
    if (e.route !== undefined && e.route !== routeName) f.push(`route: expected ${e.route ?? 'no route (404)'}, got ${routeName ?? 'no route'}`)
    if (e.status !== undefined && !statusMatches(e.status, out.status)) f.push(`status: expected ${e.status}, got ${out.status}`)
    if (e.stages !== undefined && e.stages.join(',') !== out.stages.join(',')) f.push(`stages: expected [${e.stages.join(', ')}], got [${out.stages.join(', ')}]`)
    if (e.upstream !== undefined && !(out.upstream ?? '').split('|').includes(e.upstream)) f.push(`upstream: expected ${e.upstream}, got ${out.upstream ?? 'none (not proxied)'}`)
    if (e.upstream_path !== undefined && e.upstream_path !== out.upstreamPath) f.push(`upstream_path: expected ${e.upstream_path}, got ${out.upstreamPath ?? 'none (not proxied)'}`)
    for (const [k, v] of Object.entries(e.forwarded ?? {})) {
      const got = headerValue(out.forwarded, k)
      if (v === null ? got !== undefined : got !== v) f.push(`forwarded ${k}: expected ${v === null ? 'absent' : JSON.stringify(v)}, got ${got === undefined ? 'absent' : JSON.stringify(got)}`)
    }
    for (const [k, v] of Object.entries(e.headers ?? {})) {
      const got = headerValue(out.headers, k)
      if (v === null ? got !== undefined : got !== v) f.push(`response ${k}: expected ${v === null ? 'absent' : JSON.stringify(v)}, got ${got === undefined ? 'absent' : JSON.stringify(got)}`)
    }
    results.push({ name: tc.name ?? tc.request, ok: f.length === 0, failures: f, route: routeName, status: out.status, stages: out.stages })
  }
  for (const v of shared.values()) (v as { stop?: () => void }).stop?.() // limiter sweep timers
  const passed = results.filter(r => r.ok).length
  return { cases: results, passed, failed: results.length - passed, routesTotal: ir.routes.length, routesCovered: [...covered], coverage: ir.routes.length === 0 ? 1 : covered.size / ir.routes.length }
}

/**
 * The stages a request went through, in policy order, including inline stages (header edits: no stage call
 * records them) before the stop. `bound`: the kinds the module bound for the route, in order.
 */
function orderedStages(r: RouteIR, ran: string[], bound: string[]): string[] {
  const out: string[] = []
  let i = 0, b = 0
  for (const s of r.stages) {
    if (bound[b] !== s.kind) { out.push(s.kind); continue } // emitted inline: it runs whenever the route gets this far
    b++
    if (ran[i] !== s.kind) return out
    out.push(s.kind)
    i++
    if (i === ran.length) return out // this stage answered: nothing after it ran
  }
  if (ran[i] !== undefined) out.push(ran[i])
  return out
}
