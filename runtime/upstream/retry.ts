// Retries at run time (a route's `retry N …` proxy option): which requests and answers may be retried, how
// long to back off, and the per-upstream retry budget. The exchange (exchange.ts) asks these at each failed
// attempt. Retries may be at most `budget` × the requests sent to the upstream over the last ten seconds (plus
// a small floor so a quiet upstream can still retry). A retry is charged when it is scheduled, not when it is
// sent, so concurrent failures cannot overdraw.
import { IDEMPOTENT } from '../../config/http.js'
import type { RetryIR } from '../../config/ir.js'
import type { RequestContext } from '../context.js'

/** Statuses that mean "this replica could not serve it": retried (when allowed) on another replica. */
export const RETRY_STATUS: ReadonlySet<number> = new Set([502, 503, 504])

/** Request bodies up to this size are buffered when the request may be retried, so a retry can resend them. */
export const RETRY_BUFFER_MAX = 64 * 1024

/** May this request be sent again after a failed attempt that reached the upstream (its method, its idempotency key)? */
export const retryableMethod = (ctx: RequestContext, r: RetryIR): boolean => {
  const m = ctx.req.method ?? 'GET'
  if (r.methods === 'all') return true
  if (IDEMPOTENT.has(m)) return true
  return r.methods === 'idempotency_key' && ctx.req.headers['idempotency-key'] !== undefined
}

/** The wait before a retry: `backoff` with ±50% jitter (so retries of many requests spread out), never past the deadline. */
export const backoffDelay = (r: RetryIR, leftMs: number): number => Math.min(r.backoffMs * (0.5 + Math.random()), leftMs)

const BUCKETS = 10
const BUCKET_MS = 1000
/** Retries always allowed per window, whatever the traffic (like Finagle's minRetriesPerSec). */
export const BUDGET_FLOOR = 3

export class RetryBudget {
  private readonly reqs = new Float64Array(BUCKETS)
  private readonly retries = new Float64Array(BUCKETS)
  private current = 0
  private bucketStart: number

  constructor(private readonly now: () => number = () => performance.now()) { this.bucketStart = this.now() }

  private roll(): void {
    const t = this.now()
    let steps = Math.floor((t - this.bucketStart) / BUCKET_MS)
    if (steps <= 0) return
    this.bucketStart += steps * BUCKET_MS
    if (steps > BUCKETS) steps = BUCKETS
    for (let i = 0; i < steps; i++) { this.current = (this.current + 1) % BUCKETS; this.reqs[this.current] = 0; this.retries[this.current] = 0 }
  }

  /** Count a first attempt. */
  request(): void { this.roll(); this.reqs[this.current]++ } // HOT PATH

  /** Charge one retry if the budget allows it; false means the retry must not happen. */
  tryRetry(budget: number | null): boolean {
    this.roll()
    if (budget !== null) {
      let reqs = 0, retries = 0
      for (let i = 0; i < BUCKETS; i++) { reqs += this.reqs[i]; retries += this.retries[i] }
      if (retries + 1 > Math.max(BUDGET_FLOOR, budget * reqs)) return false
    }
    this.retries[this.current]++
    return true
  }
}
