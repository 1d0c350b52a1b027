// The circuit breaker, one per upstream (configured by its `breaker` line; compile side in the checker): closed → open when the error ratio reaches the
// threshold with enough requests, judged two ways: over the rolling window (1 s buckets), and over the most
// recent span of the last second that holds `min_requests` (100 ms buckets), so a sudden failure under load
// opens it within a second wherever it falls in a bucket; open → half-open after `open_for`; half-open lets
// `half_open` probes through, closing on their success and reopening on any failure.
//
// Why the short span: the bench/experiments/containment sweep switched an upstream bad at five phases of a
// one-second bucket. Judged on the current 1 s bucket alone, a failure starting late in a bucket is diluted by
// that bucket's healthy requests, then the next bucket must refill `min_requests`: 273–945 ms to open (median
// 560). The shortest recent span with `min_requests` behaves like a count window of the last N outcomes,
// without a per-request array.
import type { BreakerIR } from '../../config/ir.js'
import type { UpstreamMetrics } from '../metrics.js'

export const BreakerState = { Closed: 0, HalfOpen: 1, Open: 2 } as const
export type BreakerStateValue = (typeof BreakerState)[keyof typeof BreakerState]

/** Success and failure counts in a ring of fixed-width time buckets, with running totals. */
class Ring {
  readonly ok: Float64Array
  readonly bad: Float64Array
  current = 0
  okTotal = 0
  badTotal = 0
  private start: number

  constructor(readonly size: number, private readonly width: number, t: number) {
    this.ok = new Float64Array(size)
    this.bad = new Float64Array(size)
    this.start = t
  }

  /** Advance to the bucket holding time t, emptying the buckets passed over. */
  roll(t: number): void {
    const steps = Math.floor((t - this.start) / this.width)
    if (steps <= 0) return
    this.start += steps * this.width
    for (let i = 0, n = Math.min(steps, this.size); i < n; i++) {
      this.current = (this.current + 1) % this.size
      this.okTotal -= this.ok[this.current]
      this.badTotal -= this.bad[this.current]
      this.ok[this.current] = 0
      this.bad[this.current] = 0
    }
  }

  add(success: boolean): void {
    if (success) { this.ok[this.current]++; this.okTotal++ } else { this.bad[this.current]++; this.badTotal++ }
  }

  clear(): void { this.ok.fill(0); this.bad.fill(0); this.okTotal = 0; this.badTotal = 0 }
}

const WINDOW_BUCKET_MS = 1000
const RECENT_BUCKET_MS = 100
/** The short span looks back at most this far (or over the whole window when that is shorter). */
const RECENT_MS = 1000

export class Breaker {
  state: BreakerStateValue = BreakerState.Closed
  private readonly window: Ring
  private readonly recent: Ring
  private openedAt = 0
  private probesLeft = 0
  private probesOk = 0

  constructor(private readonly cfg: BreakerIR, private readonly m: UpstreamMetrics, private readonly now: () => number = () => performance.now()) {
    const t = this.now()
    const width = Math.min(WINDOW_BUCKET_MS, cfg.windowMs)
    this.window = new Ring(Math.ceil(cfg.windowMs / width), width, t)
    this.recent = new Ring(Math.max(1, Math.ceil(Math.min(cfg.windowMs, RECENT_MS) / RECENT_BUCKET_MS)), RECENT_BUCKET_MS, t)
  }

  /** Does the shortest span of the last second, back from now, that holds min_requests fail at the ratio? */
  private recentTrips(): boolean {
    const r = this.recent, n = r.size
    let ok = 0, bad = 0
    for (let i = 0, b = r.current; i < n; i++, b = (b + n - 1) % n) {
      ok += r.ok[b]; bad += r.bad[b]
      if (ok + bad >= this.cfg.minRequests) return bad / (ok + bad) >= this.cfg.errorRatio
    }
    return false
  }

  private enter(s: BreakerStateValue, t: number): void {
    this.state = s
    this.m.breakerState.set(s)
    this.m.breakerTransitions[s === BreakerState.Open ? 'open' : s === BreakerState.HalfOpen ? 'half_open' : 'closed'].inc()
    if (s === BreakerState.Open) this.openedAt = t
    if (s === BreakerState.HalfOpen) { this.probesLeft = this.cfg.halfOpenProbes; this.probesOk = 0 }
    if (s === BreakerState.Closed) { this.window.clear(); this.recent.clear() }
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
    this.window.roll(t); this.recent.roll(t)
    this.window.add(success); this.recent.add(success)
    if (success) return
    const w = this.window, total = w.okTotal + w.badTotal
    if (this.recentTrips() || (total >= this.cfg.minRequests && w.badTotal / total >= this.cfg.errorRatio)) this.enter(BreakerState.Open, t)
  }
}
