// The gateway's tunnels: per-route limits and metrics, the handshake with the upstream (the route's `proxy`
// terminal hands an upgrade request here instead of forwarding it), and the set of open tunnels the shutdown
// closes. The handshake goes through the chosen replica's pool (runtime/upstream/pool.ts: undici's Pool, or the
// http1 engine's) with the dispatch's `upgrade` option: the pool writes the request head (with
// `Connection: upgrade` and the Upgrade offer), applies its connect timeout, parses the upstream's answer with
// its strict parser (a non-101 answer arrives as a normal response, body and all, and is forwarded as one)
// and, on a 101, detaches the socket from the pool and hands it over with any bytes that followed the 101
// head put back in its read buffer.
import type { Duplex } from 'node:stream'
import type { UpgradeIR } from '../../config/ir.js'
import type { RequestContext } from '../context.js'
import { clientResponseHeaders, gatewayResponseHeaders, upstreamRequestHeaders } from '../headers.js'
import type { CounterChild, GatewayMetrics, GaugeChild } from '../metrics.js'
import { REPLIES, errorReply, writeReply, type Reply } from '../reply.js'
import { withoutQueryParams } from '../../config/query.js'
import { CONNECT_ERRORS, admit, type ProxyPlan } from '../upstream/exchange.js'
import { headerStrings, type UpstreamDispatch, type UpstreamHandler } from '../upstream/pool.js'
import type { Replica } from '../upstream/replica.js'
import type { Upstream } from '../upstream/upstream.js'
import { Tunnel, type TunnelEnd, type TunnelSocket } from './tunnel.js'

/** A refused upgrade's body is read whole before it is passed on: refusals are small; bigger ones get 502. */
export const MAX_REFUSAL_BODY = 1024 * 1024

const TUNNELS_FULL = errorReply('GW_ERR_TUNNELS_FULL', ['retry-after', '1'])
const END_REASONS: TunnelEnd[] = ['closed', 'client_error', 'upstream_error', 'idle', 'lifetime', 'shutdown']

/** One route's tunnels (by route name: a reload keeps counting the tunnels of the route it replaced). */
interface RouteTunnels {
  /** Tunnels open plus handshakes under way: what max_open bounds. */
  taken: number
  open: GaugeChild
  up: CounterChild
  down: CounterChild
  closed: Record<TunnelEnd, CounterChild>
}

/** What the gateway does when an upgrade request is over (runtime/gateway.ts). */
export interface TunnelHooks {
  /** The handshake is over: answered with a refusal, or 101 and the tunnel opened (`tunnel` set). */
  answered(ctx: RequestContext, tunnel: Tunnel | null): void
  /** The request's snapshot may be let go: after a refusal, or when its tunnel ends. */
  released(ctx: RequestContext, tunnel: Tunnel | null): void
}

/** Set on an upgrade request's context (Gateway.handleUpgrade): the proxy terminal opens a tunnel with it. */
export class TunnelRequest {
  constructor(
    readonly socket: Duplex,
    /** Bytes the client sent after its request head. */
    readonly head: Buffer,
    /** The Upgrade offer sent upstream: the client's offered protocols the route allows, as the client wrote them. */
    readonly offer: string,
    readonly limits: UpgradeIR,
    readonly tunnels: Tunnels,
  ) {}
}

/**
 * The protocols of a client's `Upgrade` header (`websocket`, `foo/2`, …) that `u` allows, as a header value, or
 * null when it allows none of them (501). Names compare case-insensitively, without their version.
 */
export function upgradeOffer(u: UpgradeIR | null | undefined, header: string | string[] | undefined): string | null {
  if (u == null || typeof header !== 'string') return null
  const kept: string[] = []
  for (const p of header.split(',')) {
    const t = p.trim()
    const slash = t.indexOf('/')
    if (t !== '' && u.protocols.includes((slash < 0 ? t : t.slice(0, slash)).toLowerCase())) kept.push(t)
  }
  return kept.length === 0 ? null : kept.join(', ')
}

export class Tunnels {
  private readonly byRoute = new Map<string, RouteTunnels>()
  /** Tunnels open now, for the shutdown. */
  readonly live = new Set<Tunnel>()

  constructor(private readonly metrics: GatewayMetrics, readonly via: boolean, readonly hooks: TunnelHooks) {}

  route(name: string): RouteTunnels {
    let r = this.byRoute.get(name)
    if (r === undefined) {
      const m = this.metrics
      const closed = {} as Record<TunnelEnd, CounterChild>
      for (const e of END_REASONS) closed[e] = m.tunnelsClosed.child(name, e)
      r = { taken: 0, open: m.tunnelsOpen.child(name), up: m.tunnelBytes.child(name, 'up'), down: m.tunnelBytes.child(name, 'down'), closed }
      this.byRoute.set(name, r)
    }
    return r
  }

  /** Tunnels open now, all routes. */
  get size(): number { return this.live.size }

  /**
   * The `proxy` terminal for an upgrade request: admits it (max_open, then replica, bulkhead and breaker as a
   * request; on a split, the next upstream when one cannot take it) and starts the handshake. A Reply when
   * the gateway answers at once.
   */
  open(ctx: RequestContext, up: Upstream, plan: ProxyPlan, at: number): Reply | undefined {
    const t = ctx.tunnel!
    const rt = this.route(ctx.route!.name)
    if (rt.taken >= t.limits.maxOpen) { ctx.reason = 'tunnels_full'; return TUNNELS_FULL }
    const now = performance.now()
    let replica = admit(up, now)
    if (replica === null && plan.split !== null) {
      for (let j = 0; j < plan.split.length && replica === null; j++) {
        if (j === at || (replica = admit(plan.split[j].up, now)) === null) continue
        plan.split[at].failovers[j].inc()
        up = plan.split[j].up
      }
    }
    if (replica === null) return plan.fallback ?? REPLIES.unavailable
    if (t.socket.destroyed) { // the client left while the route's stages ran: the request is over, nothing is sent
      up.bulkhead?.release()
      ctx.reason = 'client_aborted'
      this.hooks.answered(ctx, null)
      this.hooks.released(ctx, null)
      return undefined
    }
    rt.taken++
    new Handshake(ctx, t, rt, up, replica, plan).dispatch()
    return undefined
  }

  /** Shutdown at the drain deadline: every open tunnel is closed (WebSocket ones with close frames 1001). */
  shutdownAll(): number {
    const n = this.live.size
    for (const t of this.live) t.shutdown()
    return n
  }

  /** A tunnel opened by a handshake. */
  opened(ctx: RequestContext, rt: RouteTunnels, client: TunnelSocket, upstream: TunnelSocket, websocket: boolean): Tunnel {
    const limits = ctx.tunnel!.limits
    const t = new Tunnel(client, upstream, {
      websocket, idleMs: limits.idleMs, lifetimeMs: limits.lifetimeMs, up: rt.up, down: rt.down,
      onEnd: tun => {
        this.live.delete(tun)
        rt.taken--
        rt.open.dec()
        rt.closed[tun.reason as TunnelEnd].inc()
        this.hooks.released(ctx, tun)
      },
    })
    this.live.add(t)
    rt.open.inc()
    return t
  }
}


class HandshakeTimeout extends Error { constructor() { super('no answer to the upgrade before the route deadline') } }

/** The pool's dispatch handler for one upgrade request (UpstreamHandler, as runtime/upstream/exchange.ts's Attempt). */
class Handshake implements UpstreamHandler {
  private abortFn: ((err?: Error) => void) | null = null
  private timer: NodeJS.Timeout | null = null
  private done = false
  private status = 0
  private headers: string[] = []
  private body: Buffer[] = []
  private bodyBytes = 0
  private readonly startedAt = performance.now()
  private readonly onClientGone = (): void => { this.fail(new Error('client went away'), 'aborted') }

  constructor(private readonly ctx: RequestContext, private readonly t: TunnelRequest, private readonly rt: RouteTunnels,
    private readonly up: Upstream, private readonly replica: Replica, private readonly plan: ProxyPlan) {}

  dispatch(): void {
    const ctx = this.ctx
    ctx.attempts++
    ctx.upstreamName = this.up.name
    ctx.upstreamAddr = this.replica.origin
    this.replica.inFlight++
    this.up.metrics.inFlight.inc()
    this.up.metrics.dispatched.inc()
    this.timer = setTimeout(() => this.fail(new HandshakeTimeout(), 'timeout'), Math.max(1, ctx.deadline - performance.now()))
    this.t.socket.once('close', this.onClientGone)
    const target = ctx.upstreamPath
    const q = this.plan.stripQuery === null ? -1 : target.indexOf('?')
    const opts: UpstreamDispatch = {
      method: ctx.req.method!,
      path: q < 0 ? target : target.slice(0, q) + withoutQueryParams(target.slice(q), this.plan.stripQuery!),
      headers: upstreamRequestHeaders(ctx, this.plan.outbound, this.plan.stripHeaders),
      body: null,
      upgrade: this.t.offer,
    }
    this.replica.pool.dispatch(opts, this) // a pool refusing the request calls onError (neither pool throws)
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort
    if (this.done) abort(new Error('handshake already over'))
  }

  /** A non-101 answer: collected whole (bounded), then passed on as the answer to the upgrade request. */
  onHeaders(status: number, raw: Buffer[] | string[]): boolean {
    if (status < 200 || this.done) return true // interim answers (100, 103) are not passed on
    this.status = status
    this.headers = clientResponseHeaders(raw)
    this.ctx.upstreamMs = performance.now() - this.startedAt
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true
    this.bodyBytes += chunk.length
    if (this.bodyBytes > MAX_REFUSAL_BODY) { this.fail(new Error('refusal body too large'), '5xx'); return false }
    this.body.push(chunk)
    return true
  }

  onComplete(): void {
    if (this.done) return
    const ctx = this.ctx, status = this.status
    this.finish(status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : '2xx')
    const body = Buffer.concat(this.body), bodiless = ctx.req.method === 'HEAD' || status === 204 || status === 304
    const keep: string[] = [] // the body's length, as collected; a bodiless answer's Content-Length is the upstream's to say (RFC 9110 §8.6)
    for (let i = 0; i < this.headers.length; i += 2) if (bodiless || this.headers[i].toLowerCase() !== 'content-length') keep.push(this.headers[i], this.headers[i + 1])
    if (!bodiless) keep.push('content-length', String(body.length))
    ctx.status = status
    ctx.reason = 'upgrade_refused_upstream'
    ctx.res.writeHead(status, gatewayResponseHeaders(ctx, keep, this.t.tunnels.via, performance.now()))
    ctx.res.end(bodiless ? undefined : body)
    this.t.tunnels.hooks.answered(ctx, null)
    this.t.tunnels.hooks.released(ctx, null)
  }

  onUpgrade(_status: number, rawHeaders: Buffer[] | string[], socket: Duplex): void { // the pools call it for a 101 only
    socket.pause()
    if (this.done) { socket.destroy(); return }
    const ctx = this.ctx, client = this.t.socket
    const now = performance.now()
    ctx.upstreamMs = now - this.startedAt
    const headers = clientResponseHeaders(rawHeaders)
    const raw = headerStrings(rawHeaders)
    // RFC 9110 §7.8: the 101 names the protocol switched to, one protocol, which the client offered (the offer sent
    // upstream holds only what the route allows, joined with ', '; none matches an empty name)
    let proto = ''
    for (let i = 0; i < raw.length; i += 2) if (raw[i].length === 7 && raw[i].toLowerCase() === 'upgrade') proto = raw[i + 1]
    const name = proto.split('/')[0].toLowerCase()
    if (proto.includes(',') || !this.t.offer.toLowerCase().split(', ').some(o => o.split('/')[0] === name)) {
      socket.destroy()
      this.fail(new Error(`upstream switched to ${JSON.stringify(proto)}, which was not offered`), 'reset')
      return
    }
    this.finish('1xx')
    client.removeListener('close', this.onClientGone)
    if (client.destroyed) { socket.destroy(); this.rt.taken--; ctx.reason = 'client_aborted'; this.t.tunnels.hooks.answered(ctx, null); this.t.tunnels.hooks.released(ctx, null); return }
    ctx.status = 101
    const out = gatewayResponseHeaders(ctx, headers, this.t.tunnels.via, now)
    let head = 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: ' + proto + '\r\n'
    for (let i = 0; i < out.length; i += 2) head += `${out[i]}: ${out[i + 1]}\r\n`
    client.write(head + '\r\n', 'latin1')
    const tunnel = this.t.tunnels.opened(ctx, this.rt, client as TunnelSocket, socket as TunnelSocket, name === 'websocket')
    this.t.tunnels.hooks.answered(ctx, tunnel)
    tunnel.start(this.t.head)
  }

  onError(err: Error): void {
    this.abortFn = null // undici ended the request itself: nothing to abort
    const code = (err as { code?: string }).code ?? ''
    this.fail(err, CONNECT_ERRORS.has(code) ? 'connect_error' : 'reset')
  }

  /** The handshake failed before an answer: 502 (504 on the route deadline), or nothing when the client left. */
  private fail(err: Error, outcome: 'timeout' | 'connect_error' | 'reset' | 'aborted' | '5xx'): void {
    if (this.done) return
    // finished first: aborting makes the pool call onError, which comes back here and must find it over (else the
    // handshake is counted twice and gives its in-flight, bulkhead and max_open slots back twice)
    this.finish(err instanceof HandshakeTimeout ? 'timeout' : outcome)
    if (this.abortFn !== null) this.abortFn(err)
    const ctx = this.ctx
    this.t.socket.removeListener('close', this.onClientGone)
    if (outcome === 'aborted' || this.t.socket.destroyed) ctx.reason = 'client_aborted'
    else writeReply(ctx, err instanceof HandshakeTimeout ? REPLIES.timeout : REPLIES.badGateway, this.t.tunnels.via, performance.now())
    this.t.tunnels.hooks.answered(ctx, null)
    this.t.tunnels.hooks.released(ctx, null)
  }

  /** Bookkeeping once the upstream's part is decided: replica, breaker, bulkhead, the route's slot unless a tunnel follows. */
  private finish(outcome: '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'connect_error' | 'reset' | 'aborted'): void {
    this.done = true
    if (this.timer !== null) clearTimeout(this.timer)
    const up = this.up
    this.replica.inFlight--
    up.metrics.inFlight.dec()
    up.metrics.byOutcome[outcome].inc()
    up.metrics.duration.observe((performance.now() - this.startedAt) / 1000)
    if (outcome !== 'aborted') {
      const failure = outcome === '5xx' || outcome === 'timeout' || outcome === 'connect_error' || outcome === 'reset'
      this.replica.record(!failure, performance.now())
      up.breaker?.record(!failure)
    }
    // the bulkhead bounds handshakes, not tunnels (max_open does): a slot held for a tunnel's hours would starve requests
    up.bulkhead?.release()
    if (outcome !== '1xx') this.rt.taken--
  }
}
