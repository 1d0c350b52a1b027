// One upstream: its replicas and everything that spans them — the balancer, the breaker, the bulkhead and
// the retry budget. The proxy stage asks it for a replica and reports each attempt's outcome back.
import type { UpstreamIR } from '../../config/ir.js'
import type { Engine } from '../../config/settings.js'
import type { GatewayMetrics, UpstreamMetrics } from '../metrics.js'
import { createBalancer, type Pick } from './balancer.js'
import { Breaker } from './breaker.js'
import { Bulkhead } from './bulkhead.js'
import { ActiveHealth } from './health.js'
import { Replica } from './replica.js'
import { RetryBudget } from './retry.js'

export interface UpstreamOptions {
  bodyIdleMs: number
  /** Which pool the replicas get: undici's (`node`, the default) or gw's own on node:net (`http1`). */
  engine?: Engine
}

export class Upstream {
  readonly replicas: Replica[]
  readonly metrics: UpstreamMetrics
  readonly breaker: Breaker | null
  readonly bulkhead: Bulkhead | null
  readonly budget = new RetryBudget()
  private readonly pickFn: Pick
  private readonly health: ActiveHealth | null

  constructor(readonly ir: UpstreamIR, gm: GatewayMetrics, opts: UpstreamOptions) {
    this.metrics = gm.upstream(ir.name, ir.breaker !== null)
    this.replicas = ir.replicas.map((addr, i) =>
      new Replica(i, addr, ir.pool, opts.bodyIdleMs, this.metrics, ir.health.passive, gm.replicaHealthy.child(ir.name, `${addr.host}:${addr.port}`), opts.engine ?? 'node'))
    this.pickFn = createBalancer(ir.balance)
    this.breaker = ir.breaker === null ? null : new Breaker(ir.breaker, this.metrics)
    this.bulkhead = ir.bulkhead === null ? null : new Bulkhead(ir.bulkhead.maxInFlight)
    this.health = ir.health.active === null ? null : new ActiveHealth(this.replicas, ir.health.active)
  }

  get name(): string { return this.ir.name }

  /** Start background work (active health checks). */
  start(): void { this.health?.start() }

  /** A replica in rotation not yet tried by this request (`tried` is a bitmask of replica indexes). */
  pick(tried: number, now: number): Replica | null { return this.pickFn(this.replicas, tried, now) } // HOT PATH

  /** Stop health checks and close every pool; in-flight requests finish first unless `force`. */
  async close(force = false): Promise<void> {
    await this.health?.stop()
    await Promise.all(this.replicas.map(r => (force ? r.pool.destroy() : r.pool.close()).catch(() => undefined)))
  }
}

/** Builds the upstreams of a bundle, keyed by name. */
export function createUpstreams(irs: readonly UpstreamIR[], gm: GatewayMetrics, opts: UpstreamOptions): Map<string, Upstream> {
  return new Map(irs.map(u => [u.name, new Upstream(u, gm, opts)]))
}
