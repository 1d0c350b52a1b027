// One upstream replica: its connection pool (kept-alive connections, sized by the policy: undici's Pool on the
// node engine, gw's own on node:net on the http1 engine), its load figures for balancing, and its health as
// seen by passive ejection and active checks.
import { undici } from '../lazy-require.js'
import type { PassiveHealthIR, PoolIR, ReplicaIR } from '../../config/ir.js'
import type { Engine } from '../../config/settings.js'
import { Http1Pool } from '../http1/upstream-pool.js'
import type { GaugeChild, UpstreamMetrics } from '../metrics.js'
import type { UpstreamPool } from './pool.js'

/** Decay constant of the latency EWMA used by p2c_ewma (as in Finagle's peak EWMA). */
const EWMA_TAU_MS = 10_000

export class Replica {
  readonly pool: UpstreamPool
  /** The pool hands response headers over as latin1 strings (http1 engine), not Buffers (undici). */
  readonly stringHeaders: boolean
  readonly origin: string
  /** Requests in flight to this replica (least_conn and p2c_ewma read it). */
  inFlight = 0
  /** Peak-EWMA of time to response headers, ms. */
  ewma = 0
  private ewmaAt = 0
  /** Consecutive failed exchanges (passive health). */
  failures = 0
  /** Ejected by passive health until this performance.now(). */
  ejectedUntil = 0
  /** Verdict of active health checks (true until checks say otherwise). */
  activeHealthy = true
  /** Size of the pool: more attempts in flight than this means some are queued for a connection. */
  readonly connections: number
  /** The pool's `send_timeout`: how long a response may stall on a client that does not read. */
  readonly sendTimeoutMs: number
  /** The Host a request without one is sent with (`host[:port]`, the port left out when 80, as undici does). */
  readonly authority: string

  constructor(readonly index: number, readonly addr: ReplicaIR, pool: PoolIR, bodyIdleMs: number, m: UpstreamMetrics,
    private readonly passive: PassiveHealthIR | null, readonly healthGauge: GaugeChild, engine: Engine = 'node') {
    const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host
    this.origin = `http://${host}:${addr.port}`
    this.authority = addr.port === 80 ? host : `${host}:${addr.port}`
    this.connections = pool.connections
    this.sendTimeoutMs = pool.sendTimeoutMs
    this.stringHeaders = engine === 'http1'
    this.pool = engine === 'http1' ? new Http1Pool({
      host: addr.host, port: addr.port, connections: pool.connections, idleMs: pool.idleMs,
      connectTimeoutMs: pool.connectTimeoutMs, bodyIdleMs,
    }) : new (undici().Pool)(this.origin, {
      connections: pool.connections,
      pipelining: 1,
      keepAliveTimeout: pool.idleMs,
      // undici prefers the upstream's Keep-Alive hint, capped by this: the policy's idle time is the cap, so
      // a hint can shorten it (the upstream closes first) but never lengthen it.
      keepAliveMaxTimeout: pool.idleMs,
      connect: { timeout: pool.connectTimeoutMs },
      // The route's deadline is enforced by the proxy itself (it covers queueing for a connection too).
      // bodyTimeout never fires while the proxy holds the response back for a slow client (undici pauses
      // its timer with the parser): the pool's send_timeout, enforced by the proxy, covers that.
      headersTimeout: 0,
      bodyTimeout: bodyIdleMs,
    }) as unknown as UpstreamPool // undici 7's Pool is the contract's origin (its handler types are wider)
    this.pool.on('connect', () => m.connectionsOpened.inc())
    this.pool.on('disconnect', () => m.connectionsClosed.inc())
    healthGauge.set(1)
  }

  /** In rotation: not ejected and not failing active checks. */
  available(now: number): boolean {
    if (!this.activeHealthy) return false
    if (this.ejectedUntil === 0) return true
    if (now < this.ejectedUntil) return false
    this.ejectedUntil = 0 // cooldown over: back in rotation, with a clean failure count
    this.failures = 0
    this.healthGauge.set(1)
    return true
  }

  observeLatency(ms: number, now: number): void { // HOT PATH
    if (ms > this.ewma) { this.ewma = ms } else {
      const w = Math.exp(-(now - this.ewmaAt) / EWMA_TAU_MS)
      this.ewma = this.ewma * w + ms * (1 - w)
    }
    this.ewmaAt = now
  }

  /** Passive health: a success resets the streak; `ejectAfter` failures in a row eject the replica. */
  record(success: boolean, now: number): void { // HOT PATH
    if (success) { this.failures = 0; return }
    if (this.passive === null) return
    if (++this.failures >= this.passive.ejectAfter && this.ejectedUntil === 0) {
      this.ejectedUntil = now + this.passive.ejectMs
      this.healthGauge.set(0)
    }
  }

  setActiveHealthy(ok: boolean): void {
    this.activeHealthy = ok
    if (ok) { this.failures = 0; this.ejectedUntil = 0 }
    this.healthGauge.set(ok && this.ejectedUntil === 0 ? 1 : 0)
  }
}
