// Metrics: prom-client owns the registry, the exposition format and the process metrics; the per-request
// counters are our own pre-bound children (plain number fields and a Float64Array per histogram), exposed
// through prom-client's custom-metric interface at scrape time. prom-client's own `labels(...).inc()` hashes
// label objects on every call (measured: allocations per observation); these children do no lookup at all.
import { Registry, collectDefaultMetrics } from 'prom-client'

type Labels = Record<string, string>
interface PromValue { labels: Labels; value: number; metricName?: string }

abstract class FastMetric<C> {
  protected readonly children = new Map<string, { labels: Labels; child: C }>()
  /**
   * `aggregator` says how the cluster primary combines workers' values (prom-client's names: sum, max, min,
   * first…): counters and histograms add up; a gauge says what it needs.
   */
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], readonly type: 'counter' | 'gauge' | 'histogram', readonly aggregator = 'sum') {}
  protected abstract make(): C
  /** A child for these label values, created on first use (at load time, not per request). */
  child(...values: string[]): C {
    const key = values.join('\u0000')
    let e = this.children.get(key)
    if (e === undefined) {
      const labels: Labels = {}
      this.labelNames.forEach((n, i) => { labels[n] = values[i] ?? '' })
      e = { labels, child: this.make() }
      this.children.set(key, e)
    }
    return e.child
  }
  /** Forget children not in use (after a reload removed routes or upstreams). */
  retain(keep: (labels: Labels) => boolean): void {
    for (const [k, e] of this.children) if (!keep(e.labels)) this.children.delete(k)
  }
  protected abstract values(): PromValue[]
  get(): { name: string; help: string; type: string; values: PromValue[]; aggregator: string } {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator }
  }
}

export class CounterChild { value = 0; inc(n = 1): void { this.value += n } }
export class GaugeChild { value = 0; set(v: number): void { this.value = v } inc(n = 1): void { this.value += n } dec(n = 1): void { this.value -= n } }

export class FastCounter extends FastMetric<CounterChild> {
  constructor(name: string, help: string, labelNames: readonly string[]) { super(name, help, labelNames, 'counter') }
  protected make() { return new CounterChild() }
  protected values(): PromValue[] { return [...this.children.values()].map(e => ({ labels: e.labels, value: e.child.value })) }
}

export class FastGauge extends FastMetric<GaugeChild> {
  constructor(name: string, help: string, labelNames: readonly string[], aggregator = 'sum') { super(name, help, labelNames, 'gauge', aggregator) }
  protected make() { return new GaugeChild() }
  protected values(): PromValue[] { return [...this.children.values()].map(e => ({ labels: e.labels, value: e.child.value })) }
}

export class HistogramChild {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(private readonly bounds: Float64Array) { this.counts = new Float64Array(bounds.length + 1) }
  observe(v: number): void { // HOT PATH: a linear scan over ~12 bounds beats a binary search at this size
    const b = this.bounds
    let i = 0
    while (i < b.length && v > b[i]) i++
    this.counts[i]++
    this.sum += v
    this.count++
  }
}

export class FastHistogram extends FastMetric<HistogramChild> {
  private readonly bounds: Float64Array
  constructor(name: string, help: string, labelNames: readonly string[], buckets: number[]) {
    super(name, help, labelNames, 'histogram')
    this.bounds = Float64Array.from(buckets)
  }
  protected make() { return new HistogramChild(this.bounds) }
  protected values(): PromValue[] {
    const out: PromValue[] = []
    for (const { labels, child } of this.children.values()) {
      let acc = 0
      this.bounds.forEach((le, i) => { acc += child.counts[i]; out.push({ labels: { ...labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` }) })
      out.push({ labels: { ...labels, le: '+Inf' }, value: child.count, metricName: `${this.name}_bucket` })
      out.push({ labels, value: child.sum, metricName: `${this.name}_sum` })
      out.push({ labels, value: child.count, metricName: `${this.name}_count` })
    }
    return out
  }
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const

/** Per-route children, bound when a bundle loads. */
export interface RouteMetrics {
  /** Indexed by status class (status / 100 | 0) - 1. */
  byClass: CounterChild[]
  duration: HistogramChild
}

/** Per-upstream children, bound when a bundle loads. */
export interface UpstreamMetrics {
  byOutcome: Record<UpstreamOutcome, CounterChild>
  duration: HistogramChild
  connectionsOpened: CounterChild
  connectionsClosed: CounterChild
  dispatched: CounterChild
  inFlight: GaugeChild
  retries: CounterChild
  retryBudgetDenied: CounterChild
  rejectedBulkhead: CounterChild
  breakerState: GaugeChild
  breakerTransitions: Record<'open' | 'half_open' | 'closed', CounterChild>
  breakerRejected: CounterChild
}

/**
 * How an upstream attempt ended. `pool_exhausted` (the route deadline passed while it waited for one of the
 * replica's pool connections, every one of them busy) and `send_timeout` (the client stopped reading the
 * response for the pool's `send_timeout`) are the gateway's and the client's doing: like `aborted`, they are
 * never charged to the replica's health or the breaker.
 */
export type UpstreamOutcome = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'timeout' | 'connect_error' | 'reset' | 'aborted' | 'pool_exhausted' | 'send_timeout'
const OUTCOMES: UpstreamOutcome[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'timeout', 'connect_error', 'reset', 'aborted', 'pool_exhausted', 'send_timeout']

/** gw_reloads_total: a worker's own (one process) or the cluster primary's (once per gateway reload). */
export const reloadsCounter = (): FastCounter =>
  new FastCounter('gw_reloads_total', 'Bundle reload attempts, by result (applied, unchanged, refused)', ['result'])

/** Every metric gw exposes. One instance per process; reloads rebind children, never re-register. */
export class GatewayMetrics {
  readonly registry = new Registry()
  readonly requests = new FastCounter('gw_requests_total', 'Client requests answered, by route and status class', ['route', 'code'])
  readonly requestDuration = new FastHistogram('gw_request_duration_seconds', 'Time from request arrival to the end of the response', ['route'], LATENCY_BUCKETS)
  readonly rejected = new FastCounter('gw_rejected_requests_total', 'Requests refused before routing (malformed, no route, limits)', ['reason'])
  readonly inFlight = new FastGauge('gw_in_flight_requests', 'Client requests being served', [])
  readonly upstreamRequests = new FastCounter('gw_upstream_requests_total', 'Upstream attempts, by outcome', ['upstream', 'outcome'])
  readonly upstreamDuration = new FastHistogram('gw_upstream_request_duration_seconds', 'Upstream time to response headers', ['upstream'], LATENCY_BUCKETS)
  readonly upstreamConnOpened = new FastCounter('gw_upstream_connections_opened_total', 'Upstream TCP connections opened', ['upstream'])
  readonly upstreamConnClosed = new FastCounter('gw_upstream_connections_closed_total', 'Upstream TCP connections closed', ['upstream'])
  readonly upstreamDispatched = new FastCounter('gw_upstream_dispatched_total', 'Upstream requests dispatched (reuse ratio = dispatched / opened)', ['upstream'])
  readonly upstreamInFlight = new FastGauge('gw_upstream_in_flight_requests', 'Requests in flight to an upstream', ['upstream'])
  readonly replicaHealthy = new FastGauge('gw_upstream_replica_healthy', '1 when a replica is in rotation, 0 when ejected or failing health checks (with workers: in every worker)', ['upstream', 'replica'], 'min')
  readonly retries = new FastCounter('gw_upstream_retries_total', 'Retries sent', ['upstream'])
  readonly failovers = new FastCounter('gw_upstream_failovers_total', 'Requests of a weighted split moved from one of its upstreams to another (unavailable before sending, or a retry after a failed attempt)', ['from', 'to'])
  readonly retryBudgetDenied = new FastCounter('gw_upstream_retry_budget_denied_total', 'Retries not sent because the retry budget was spent', ['upstream'])
  readonly bulkheadRejected = new FastCounter('gw_upstream_bulkhead_rejected_total', 'Requests refused because the upstream was at its in-flight cap', ['upstream'])
  readonly breakerState = new FastGauge('gw_breaker_state', 'Circuit breaker state: 0 closed, 1 half-open, 2 open (with workers: the most open)', ['upstream'], 'max')
  readonly breakerTransitions = new FastCounter('gw_breaker_transitions_total', 'Circuit breaker transitions, by state entered', ['upstream', 'to'])
  readonly breakerRejected = new FastCounter('gw_breaker_rejected_total', 'Requests failed fast by an open breaker', ['upstream'])
  readonly stageRejects = new FastCounter('gw_stage_rejects_total', 'Requests a stage answered itself (401, 403, 429…)', ['stage', 'route', 'code'])
  readonly bundleInfo = new FastGauge('gw_bundle_info', 'The active bundle (value 1)', ['version'], 'max')
  readonly reloads = reloadsCounter()
  readonly tunnelsOpen = new FastGauge('gw_tunnels_open', 'Tunnels (WebSocket and other upgrades) open now, by route', ['route'])
  readonly tunnelBytes = new FastCounter('gw_tunnel_bytes_total', 'Bytes relayed through tunnels, by route and direction (up: client to upstream, down: upstream to client)', ['route', 'direction'])
  readonly tunnelsClosed = new FastCounter('gw_tunnels_closed_total', 'Tunnels closed, by route and reason (closed, client_error, upstream_error, idle, lifetime, shutdown)', ['route', 'reason'])
  readonly drained = new FastCounter('gw_shutdown_requests_total', 'Shutdown: requests in flight at the signal that completed (drained), arrived during the drain and completed (late), were cut at the deadline (aborted), or were read on a connection already half-closed and dropped (unanswered)', ['result'])

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    for (const m of Object.values(this)) if (m instanceof FastMetric) this.registry.registerMetric(m as never)
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'gw_process_' })
  }

  /** Registers another metric (a policy stage's own, e.g. JWKS or rate-limit counters). */
  add<M extends FastMetric<unknown>>(m: M): M { this.registry.registerMetric(m as never); return m }

  route(name: string): RouteMetrics {
    return { byClass: STATUS_CLASSES.map(c => this.requests.child(name, c)), duration: this.requestDuration.child(name) }
  }

  /**
   * Children for one upstream. The breaker's series exist only for an upstream with a `breaker` (a
   * `gw_breaker_state 0` for one without would read as "closed", a breaker that is not there); without one,
   * the breaker fields are unexported children nothing writes to.
   */
  upstream(name: string, hasBreaker = true): UpstreamMetrics {
    const byOutcome = {} as Record<UpstreamOutcome, CounterChild>
    for (const o of OUTCOMES) byOutcome[o] = this.upstreamRequests.child(name, o)
    return {
      byOutcome,
      duration: this.upstreamDuration.child(name),
      connectionsOpened: this.upstreamConnOpened.child(name),
      connectionsClosed: this.upstreamConnClosed.child(name),
      dispatched: this.upstreamDispatched.child(name),
      inFlight: this.upstreamInFlight.child(name),
      retries: this.retries.child(name),
      retryBudgetDenied: this.retryBudgetDenied.child(name),
      rejectedBulkhead: this.bulkheadRejected.child(name),
      breakerState: hasBreaker ? this.breakerState.child(name) : new GaugeChild(),
      breakerTransitions: hasBreaker
        ? { open: this.breakerTransitions.child(name, 'open'), half_open: this.breakerTransitions.child(name, 'half_open'), closed: this.breakerTransitions.child(name, 'closed') }
        : { open: new CounterChild(), half_open: new CounterChild(), closed: new CounterChild() },
      breakerRejected: hasBreaker ? this.breakerRejected.child(name) : new CounterChild(),
    }
  }

  /** After a reload retired upstreams: keep breaker series only for upstreams that still have a breaker. */
  retainBreakers(withBreaker: ReadonlySet<string>): void {
    const keep = (l: Record<string, string>) => withBreaker.has(l.upstream)
    this.breakerState.retain(keep)
    this.breakerTransitions.retain(keep)
    this.breakerRejected.retain(keep)
  }
}

export { FastMetric }
