// Runtime side of the circuit breaker, one per upstream: closed → open when the error ratio over the
// rolling window (or over its most recent second, so a sudden failure under load opens it within a second)
// reaches the threshold with enough requests; open → half-open after `open_for`; half-open lets
// `half_open` probes through, closing on their success and reopening on any failure.
import type { BreakerIR } from '../../config/ir.js'
import type { UpstreamMetrics } from '../../runtime/metrics.js'

export const BreakerState = { Closed: 0, HalfOpen: 1, Open: 2 } as const
export type BreakerStateValue = (typeof BreakerState)[keyof typeof BreakerState]

const BUCKET_MS = 1000

export class Breaker {
  state: BreakerStateValue = BreakerState.Closed
  private readonly buckets: number
  private readonly ok: Float64Array
  private readonly bad: Float64Array
  private bucketStart = 0
  private current = 0
  private openedAt = 0
  private probesLeft = 0
  private probesOk = 0

  constructor(private readonly cfg: BreakerIR, private readonly m: UpstreamMetrics, private readonly now: () => number = () => performance.now()) {
    this.buckets = Math.max(1, Math.ceil(cfg.windowMs / BUCKET_MS))
    this.ok = new Float64Array(this.buckets)
    this.bad = new Float64Array(this.buckets)
    this.bucketStart = this.now()
  }

  private roll(t: number): void {
    let steps = Math.floor((t - this.bucketStart) / BUCKET_MS)
    if (steps <= 0) return
    if (steps > this.buckets) steps = this.buckets
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.buckets
      this.ok[this.current] = 0
      this.bad[this.current] = 0
    }
    this.bucketStart += Math.floor((t - this.bucketStart) / BUCKET_MS) * BUCKET_MS
  }

  private enter(s: BreakerStateValue, t: number): void {
    this.state = s
    this.m.breakerState.set(s)
    this.m.breakerTransitions[s === BreakerState.Open ? 'open' : s === BreakerState.HalfOpen ? 'half_open' : 'closed'].inc()
    if (s === BreakerState.Open) this.openedAt = t
    if (s === BreakerState.HalfOpen) { this.probesLeft = this.cfg.halfOpenProbes; this.probesOk = 0 }
    if (s === BreakerState.Closed) { this.ok.fill(0); this.bad.fill(0) }
  }

  /** May a request go to the upstream now? In half-open, each true answer takes one probe slot. */
  allow(): boolean { // HOT PATH
    if (this.state === BreakerState.Closed) return true
    const t = this.now()
    if (this.state === BreakerState.Open) {
      if (t - this.openedAt < this.cfg.openMs) { this.m.breakerRejected.inc(); return false }
      this.enter(BreakerState.HalfOpen, t)
    }
    if (this.probesLeft > 0) { this.probesLeft--; return true }
    this.m.breakerRejected.inc()
    return false
  }

  /** True when the breaker would refuse a request right now (no state change): for "never retry when open". */
  isOpen(): boolean {
    return this.state === BreakerState.Open && this.now() - this.openedAt < this.cfg.openMs
  }

  record(success: boolean): void { // HOT PATH
    const t = this.now()
    if (this.state === BreakerState.HalfOpen) {
      if (!success) { this.enter(BreakerState.Open, t); return }
      if (++this.probesOk >= this.cfg.halfOpenProbes) this.enter(BreakerState.Closed, t)
      return
    }
    if (this.state === BreakerState.Open) return
    this.roll(t)
    if (success) { this.ok[this.current]++; return }
    this.bad[this.current]++
    const recentTotal = this.ok[this.current] + this.bad[this.current]
    if (recentTotal >= this.cfg.minRequests && this.bad[this.current] / recentTotal >= this.cfg.errorRatio) { this.enter(BreakerState.Open, t); return }
    let ok = 0, bad = 0
    for (let i = 0; i < this.buckets; i++) { ok += this.ok[i]; bad += this.bad[i] }
    if (ok + bad >= this.cfg.minRequests && bad / (ok + bad) >= this.cfg.errorRatio) this.enter(BreakerState.Open, t)
  }
}
