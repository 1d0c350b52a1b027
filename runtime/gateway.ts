// The gateway: turns a verified bundle into a live snapshot (upstreams, stages, handlers, router), serves
// requests with the snapshot that was active when they arrived, and swaps snapshots atomically on reload.
// A snapshot that fails to build never goes live; the old one keeps serving.
import type { BlockList } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { BundleManifest } from '../config/bundle.js'
import { BundleError } from '../config/bundle.js'
import type { UpstreamIR } from '../config/ir.js'
import { trustedProxyList, type Settings } from '../config/settings.js'
import type { AccessLog, RawRefusal } from './access-log.js'
import { instantiateBundle } from './bundle-loader.js'
import { RequestContext } from './context.js'
import type { EdgeRequest, EdgeResponse } from './edge.js'
import { halfClosed, upgradedSockets } from './drain.js'
import { GatewayMetrics, type CounterChild } from './metrics.js'
import type { RedisLike } from './redis.js'
import { REPLIES, Reply, closingSockets, errorReply, headRefusal, writeReply } from './reply.js'
import { readHead } from './request-head.js'
import { newRequestId } from './ids.js'
import type { RouteRuntime } from './route-runtime.js'
import { Router } from './router.js'
import { createStageEnv } from './stage-env.js'
import { createBuildDeps, upstreamProxy } from './stages.js'
import { Upstream } from './upstream/upstream.js'
import { RawResponse } from './tunnel/raw-response.js'
import type { Tunnel } from './tunnel/tunnel.js'
import { TunnelRequest, Tunnels, upgradeOffer } from './tunnel/tunnels.js'

const ignore = (): void => undefined
/** 501 for an upgrade the route does not tunnel (the protocol asked, or no `upgrade` at all). */
const UPGRADE_REFUSED = errorReply('GW_ERR_UPGRADE_NOT_SUPPORTED')

export interface BundleText { manifest: BundleManifest; moduleText: string }

const kCtx = Symbol('gwp.ctx')
type ServerResponseWithCtx = EdgeResponse & { [kCtx]?: RequestContext }

/** Everything one bundle version needs to serve a request. Immutable once live. */
export class Snapshot {
  inFlight = 0
  retired = false
  constructor(
    readonly manifest: BundleManifest,
    readonly router: Router<RouteRuntime>,
    readonly routes: RouteRuntime[],
    readonly upstreams: Map<string, Upstream>,
    /** Keys of the shared stage state this snapshot uses. */
    readonly sharedKeys: Set<string>,
    readonly loadedAt: number,
  ) {}
  get version(): string { return this.manifest.version }
}

const upstreamKey = (u: UpstreamIR): string => { const { source: _s, ...rest } = u; return JSON.stringify(rest) }

interface Stoppable { stop?(): void }

export interface GatewayOptions {
  settings: Settings
  log: Logger
  metrics?: GatewayMetrics
  redis?: RedisLike | null
  /** Where access lines go; null = no access log. */
  accessLog?: AccessLog | null
}

export class Gateway {
  readonly settings: Settings
  readonly metrics: GatewayMetrics
  readonly log: Logger
  active: Snapshot | null = null
  /** Set while draining for shutdown: /healthz reports it and new keep-alive requests get `Connection: close`. */
  draining = false
  /** performance.now() when the drain began: requests are counted by whether they were in flight then. */
  private drainStart = Infinity
  /** Shutdown accounting: requests in flight at the start of the drain that completed, and requests that
   * arrived during it (on kept-alive connections) and completed. Those still running at the deadline are the
   * aborted ones. Unanswered: requests read on a connection the drain had already half-closed (dropped). */
  readonly drainCounts = { drained: 0, late: 0, unanswered: 0 }

  /** Begin draining: remember when, so the shutdown report can tell in-flight from late requests. */
  startDrain(): void { this.draining = true; this.drainStart = performance.now() }
  private readonly trusted: BlockList | null
  private readonly redis: RedisLike | null
  private readonly access: AccessLog | null
  private readonly shared = new Map<string, unknown>()
  private readonly upstreamsByKey = new Map<string, Upstream>()
  private readonly retiring = new Set<Snapshot>()
  private readonly inFlightAll
  private readonly rejected: Record<string, CounterChild> = {}
  /** Open tunnels and their per-route limits and metrics (runtime/tunnel/). */
  readonly tunnels: Tunnels

  constructor(o: GatewayOptions) {
    this.settings = o.settings
    this.log = o.log
    this.metrics = o.metrics ?? new GatewayMetrics()
    this.redis = o.redis ?? null
    this.access = o.accessLog ?? null
    this.trusted = o.settings.trustedProxies.length > 0 ? trustedProxyList(o.settings.trustedProxies) : null
    this.inFlightAll = this.metrics.inFlight.child()
    const gw = this
    this.tunnels = new Tunnels(this.metrics, o.settings.via, {
      answered: (ctx, tunnel) => this.upgradeAnswered(ctx, tunnel),
      released: (ctx, tunnel) => this.upgradeReleased(ctx, tunnel),
    })
    this.onClose = function (this: EdgeResponse) {
      const ctx = (this as ServerResponseWithCtx)[kCtx]!
      gw.done(ctx, ctx.snapshot as Snapshot)
    }
  }

  private reject(reason: string): void {
    (this.rejected[reason] ??= this.metrics.rejected.child(reason)).inc()
  }

  /**
   * Builds a snapshot from a verified bundle without making it live. Throws BundleError (or the stage's
   * error) when the bundle cannot be served; nothing is left running in that case.
   */
  async build(b: BundleText): Promise<Snapshot> {
    const ir = b.manifest.ir
    const created: Upstream[] = []
    const upstreams = new Map<string, Upstream>()
    for (const u of ir.upstreams) {
      const key = upstreamKey(u)
      let up = this.upstreamsByKey.get(key)
      if (up === undefined) { up = new Upstream(u, this.metrics, { bodyIdleMs: this.settings.upstreamBodyIdleMs, engine: this.settings.engine }); created.push(up) }
      upstreams.set(u.name, up)
    }
    const sharedKeys = new Set<string>()
    const newShared = new Map<string, unknown>()
    const env = createStageEnv(ir, {
      settings: this.settings,
      metrics: this.metrics,
      log: this.log,
      redis: this.redis,
      shared: <T>(key: string, create: () => T): T => {
        sharedKeys.add(key)
        if (this.shared.has(key)) return this.shared.get(key) as T
        if (!newShared.has(key)) newShared.set(key, create())
        return newShared.get(key) as T
      },
    })
    try {
      const loaded = instantiateBundle(b.manifest, b.moduleText, createBuildDeps(ir, env, { proxy: upstreamProxy(upstreams, this.metrics.failovers) }))
      const routes: RouteRuntime[] = ir.routes.map((r, i) => ({
        index: i, name: r.name, ir: r, handler: loaded.handlers[i], timeoutMs: r.timeoutMs, maxBodyBytes: r.maxBodyBytes, metrics: this.metrics.route(r.name),
      }))
      const router = new Router(ir.routes.map(r => r.match), routes)
      // First JWKS fetches and the like: bounded, and a failure does not block the load (stale-free start).
      await Promise.race([Promise.allSettled(env.warmups), new Promise(r => setTimeout(r, 5000).unref())])
      for (const [k, v] of newShared) this.shared.set(k, v)
      for (const up of created) this.upstreamsByKey.set(upstreamKey(up.ir), up)
      return new Snapshot(b.manifest, router, routes, upstreams, sharedKeys, Date.now())
    } catch (e) {
      for (const up of created) void up.close(true)
      for (const v of newShared.values()) (v as Stoppable).stop?.()
      throw e instanceof BundleError ? e : new BundleError((e as Error).message)
    }
  }

  /** Makes a built snapshot live. In-flight requests finish on the snapshot they started with. */
  activate(s: Snapshot): void {
    const old = this.active
    for (const up of s.upstreams.values()) up.start()
    this.active = s
    this.metrics.bundleInfo.retain(() => false)
    this.metrics.bundleInfo.child(s.version).set(1)
    if (old !== null && old !== s) {
      old.retired = true
      this.retiring.add(old)
      if (old.inFlight === 0) this.finishRetire(old)
    }
  }

  /** Frees what only a retired snapshot used, once its last request is done. */
  private finishRetire(old: Snapshot): void {
    this.retiring.delete(old)
    const live = new Set<Upstream>()
    const liveKeys = new Set<string>()
    for (const s of [this.active, ...this.retiring]) {
      if (s === null) continue
      for (const u of s.upstreams.values()) live.add(u)
      for (const k of s.sharedKeys) liveKeys.add(k)
    }
    for (const u of old.upstreams.values()) {
      if (live.has(u)) continue
      this.upstreamsByKey.delete(upstreamKey(u.ir))
      void u.close()
    }
    this.metrics.retainBreakers(new Set([...live].filter(u => u.breaker !== null).map(u => u.name)))
    for (const k of old.sharedKeys) {
      if (liveKeys.has(k)) continue
      ;(this.shared.get(k) as Stoppable | undefined)?.stop?.()
      this.shared.delete(k)
    }
  }

  /** The request handler for the client listener. */
  readonly handle = (req: EdgeRequest, res: EdgeResponse): void => { // HOT PATH
    if (closingSockets.has(req.socket)) {
      if (halfClosed.has(req.socket)) this.drainCounts.unanswered++
      else this.reject('after_refusal')
      req.resume()
      return
    }
    const now = performance.now()
    const snap = this.active
    const ctx = new RequestContext(req, res, now)
    const via = this.settings.via
    if (snap === null) { this.reject('not_ready'); ctx.id = newRequestId(); writeReply(ctx, REPLIES.unavailable, via, now); return }
    snap.inFlight++
    this.inFlightAll.inc()
    ctx.snapshot = snap
    ;(res as ServerResponseWithCtx)[kCtx] = ctx
    res.on('close', this.onClose) // one shared listener, no closure per request
    if (this.draining) res.shouldKeepAlive = false
    if (!readHead(ctx, { trusted: this.trusted })) {
      this.reject(ctx.reason)
      if (ctx.id === '') ctx.id = newRequestId()
      writeReply(ctx, headRefusal(ctx.reason), via, now)
      return
    }
    const route = snap.router.find(ctx.host, ctx.path, req.method ?? 'GET', req.headers as Record<string, string | undefined>, ctx.query)
    if (route === undefined) { this.reject('no_route'); writeReply(ctx, REPLIES.noRoute, via, now); return }
    ctx.route = route
    ctx.deadline = now + route.timeoutMs
    let r: unknown
    try { r = route.handler(ctx) } catch (e) { this.fail(ctx, e); return }
    if (r === undefined) return
    if (r instanceof Reply) { writeReply(ctx, r, via, performance.now()); return }
    ;(r as Promise<unknown>).then(v => { if (v instanceof Reply) writeReply(ctx, v, via, performance.now()) }, e => this.fail(ctx, e))
  }

  /**
   * The 'upgrade' handler of the client listener (any engine): an upgrade request is read and routed like any
   * request, and its route's stages run on it (auth, ip rules, rate limits: a stage's answer is written on the
   * bare socket, with Connection: close); a route without `upgrade` for the protocol asked answers 501; the
   * route's `proxy` then opens a tunnel (runtime/tunnel/). The request's snapshot stays in use until its
   * tunnel ends: a reload never cuts a tunnel. Never throws.
   */
  readonly handleUpgrade = (req: EdgeRequest, socket: Duplex, head: Buffer): void => {
    // The listener took its own listeners off the socket: hold its bytes until a tunnel relays them, and
    // keep a reset from becoming an uncaught 'error'.
    socket.pause()
    socket.on('error', ignore)
    upgradedSockets.add(socket)
    const now = performance.now()
    const snap = this.active
    const ctx = new RequestContext(req, new RawResponse(socket) as unknown as EdgeResponse, now)
    const via = this.settings.via
    if (snap === null || this.draining) {
      this.reject(snap === null ? 'not_ready' : 'draining')
      ctx.id = newRequestId()
      writeReply(ctx, REPLIES.unavailable, via, now)
      this.access?.log(ctx, 0, false)
      return
    }
    snap.inFlight++
    this.inFlightAll.inc()
    ctx.snapshot = snap
    const refuse = (reply: Reply, reason: string): void => {
      this.reject(reason)
      if (ctx.reason === '') ctx.reason = reason
      writeReply(ctx, reply, via, performance.now())
      this.upgradeAnswered(ctx, null)
      this.upgradeReleased(ctx, null)
    }
    if (!readHead(ctx, { trusted: this.trusted })) { if (ctx.id === '') ctx.id = newRequestId(); refuse(headRefusal(ctx.reason), ctx.reason); return }
    // An upgrade request's body would come before the tunnel's bytes on the same stream (RFC 9110 §7.8): gw
    // does not take that apart; WebSocket handshakes have none.
    if (ctx.hasBody) { refuse(REPLIES.badRequest, 'upgrade_with_body'); return }
    const route = snap.router.find(ctx.host, ctx.path, req.method ?? 'GET', req.headers as Record<string, string | undefined>, ctx.query)
    // no route: nothing here tunnels it, so 501 as for a route without `upgrade` (what gw has always answered)
    if (route === undefined) { refuse(UPGRADE_REFUSED, 'upgrade'); return }
    ctx.route = route
    ctx.deadline = now + route.timeoutMs
    const limits = route.ir.upgrade ?? null
    const offer = upgradeOffer(limits, req.headers.upgrade)
    if (limits === null || offer === null || route.ir.terminal.kind !== 'proxy') { refuse(UPGRADE_REFUSED, 'upgrade'); return }
    ctx.tunnel = new TunnelRequest(socket, head, offer, limits, this.tunnels)
    let r: unknown
    try { r = route.handler(ctx) } catch (e) { this.upgradeFailed(ctx, e); return }
    if (r === undefined) return // the tunnels took it over
    if (r instanceof Reply) { this.upgradeReply(ctx, r); return }
    ;(r as Promise<unknown>).then(v => { if (v instanceof Reply) this.upgradeReply(ctx, v) }, e => this.upgradeFailed(ctx, e))
  }

  /** A stage (or the terminal) answered an upgrade request itself. */
  private upgradeReply(ctx: RequestContext, r: Reply): void {
    writeReply(ctx, r, this.settings.via, performance.now())
    this.upgradeAnswered(ctx, null)
    this.upgradeReleased(ctx, null)
  }

  private upgradeFailed(ctx: RequestContext, e: unknown): void {
    ctx.reason = 'internal'
    this.log.error({ id: ctx.id, route: ctx.route?.name, err: (e as Error)?.stack ?? String(e) }, 'upgrade request failed inside the gateway')
    this.upgradeReply(ctx, REPLIES.internal)
  }

  /** An upgrade request is answered (refused, or 101 and `tunnel` opened): request metrics, and the access line of a refusal. */
  private upgradeAnswered(ctx: RequestContext, tunnel: Tunnel | null): void {
    const ms = performance.now() - ctx.start
    const route = ctx.route
    if (ctx.status === 0) ctx.status = 499
    if (route !== null) {
      const cls = (ctx.status / 100) | 0
      route.metrics.byClass[cls >= 1 && cls <= 5 ? cls - 1 : 4].inc()
      route.metrics.duration.observe(ms / 1000)
    }
    this.inFlightAll.dec()
    if (tunnel === null) this.access?.log(ctx, ms, ctx.status === 499)
  }

  /** The upgrade request's snapshot may go (its tunnel, if any, has ended): a tunnel's access line. */
  private upgradeReleased(ctx: RequestContext, tunnel: Tunnel | null): void {
    const snap = ctx.snapshot as Snapshot
    if (tunnel !== null) this.access?.tunnel(ctx, performance.now() - ctx.start, tunnel)
    if (--snap.inFlight === 0 && snap.retired && this.retiring.has(snap)) this.finishRetire(snap)
  }

  /**
   * A refusal runtime/server.ts wrote straight to the socket (no request object reached `handle`): counted
   * under `reason` and given an access-log line like any other answer.
   */
  refusedRaw(r: RawRefusal): void {
    this.reject(r.reason)
    this.access?.refusal(r)
  }

  private fail(ctx: RequestContext, e: unknown): void {
    ctx.reason = 'internal'
    this.log.error({ id: ctx.id, route: ctx.route?.name, err: (e as Error)?.stack ?? String(e) }, 'request failed inside the gateway')
    if (ctx.res.headersSent) ctx.res.destroy()
    else writeReply(ctx, REPLIES.internal, this.settings.via, performance.now())
  }

  /** The 'close' listener every response shares (Node calls it with the response as `this`). */
  private readonly onClose: (this: EdgeResponse) => void

  private done(ctx: RequestContext, snap: Snapshot): void {
    const res = ctx.res
    const ms = performance.now() - ctx.start
    const aborted = !res.writableFinished
    if (aborted && ctx.upstream !== null) ctx.upstream.clientGone()
    if (ctx.status === 0) ctx.status = aborted ? 499 : res.statusCode
    if (!aborted && this.draining) { if (ctx.start < this.drainStart) this.drainCounts.drained++; else this.drainCounts.late++ }
    const route = ctx.route
    if (route !== null) {
      const cls = (ctx.status / 100) | 0
      route.metrics.byClass[cls >= 1 && cls <= 5 ? cls - 1 : 4].inc()
      route.metrics.duration.observe(ms / 1000)
    }
    this.inFlightAll.dec()
    if (--snap.inFlight === 0 && snap.retired && this.retiring.has(snap)) this.finishRetire(snap)
    this.access?.log(ctx, ms, aborted)
  }

  /** Requests being served right now, across snapshots. */
  get inFlight(): number { return this.inFlightAll.value }

  /** Stops background work and closes upstream pools (after in-flight requests unless `force`). */
  async close(force = false): Promise<void> {
    const ups = new Set(this.upstreamsByKey.values())
    await Promise.all([...ups].map(u => u.close(force)))
    for (const v of this.shared.values()) (v as Stoppable).stop?.()
    this.shared.clear()
  }
}
