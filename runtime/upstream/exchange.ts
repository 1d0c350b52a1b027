// One client request's trip to an upstream: replica choice, the pool's dispatch (bodies streamed both ways
// with backpressure), the route deadline and per-try timeouts, retries to other replicas (and, on a weighted
// split, to the split's other upstreams) within the budget, the breaker and passive health bookkeeping, and
// client cancellation. The dispatch handler is the small Attempt object below (the UpstreamHandler of
// runtime/upstream/pool.ts, undici 7's native callback API: no wrapper objects per request).
import type { RetryIR } from '../../config/ir.js'
import type { RequestContext } from '../context.js'
import { clientResponseHeaders, gatewayResponseHeaders, renderUpstreamHeaders, upstreamRequestHeaders, writeUpstreamHead, type OutboundOptions } from '../headers.js'
import type { CounterChild, UpstreamOutcome } from '../metrics.js'
import { REPLIES, writeReply, type Reply } from '../reply.js'
import type { UpstreamDispatch, UpstreamHandler } from './pool.js'
import type { Replica } from './replica.js'
import type { Upstream } from './upstream.js'
import { RequestBody, clientFailures } from './request-body.js'
import { withoutQueryParams } from '../../config/query.js'
import { deadlines } from './deadlines.js'
import { RETRY_BUFFER_MAX, RETRY_STATUS, backoffDelay, retryableMethod } from './retry.js'

/** Per-route proxy settings, bound at load. */
export interface ProxyPlan {
  route: string
  retry: RetryIR | null
  fallback: Reply | null
  outbound: OutboundOptions
  /** Request headers a stage consumed (Authorization after `auth`, an API key's header): not forwarded; null = none. */
  stripHeaders: ReadonlySet<string> | null
  /** Query parameters a stage consumed (an API key's): removed from the upstream path's query; null = none. */
  stripQuery: readonly string[] | null
  /**
   * The upstreams of a weighted split, heaviest first (the order a request fails over in); null when the route
   * proxies to one upstream. `proxyRequest`'s `at` indexes it.
   */
  split: SplitTarget[] | null
}

/** One upstream of a split and its failover counters, bound at load. */
export interface SplitTarget {
  up: Upstream
  /** `gw_upstream_failovers_total{from: up, to: split[j].up}` at index j (unused at its own index). */
  failovers: CounterChild[]
}

export const CONNECT_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])

class AttemptTimeout extends Error { constructor(readonly total: boolean) { super(total ? 'route timeout' : 'per-try timeout') } }
class ClientGone extends Error { constructor() { super('client went away') } }
/** The client did not read the response for the pool's send_timeout: the exchange is cut to free the connection. */
class SendTimeout extends Error { constructor() { super('client stopped reading (send_timeout)') } }

/**
 * A replica of `up` for a first attempt, or null: a replica in rotation, then a bulkhead slot (taken), then
 * the breaker. The breaker is asked last because a half-open breaker hands out a probe with each yes: asked
 * first, a yes followed by "no replica" or "bulkhead full" would spend a probe that is never sent, and with
 * all probes spent that way the breaker would stay half-open, refusing everything.
 */
export function admit(up: Upstream, now: number): Replica | null { // HOT PATH
  const replica = up.pick(0, now)
  if (replica === null) return null
  if (up.bulkhead !== null && !up.bulkhead.acquire()) { up.metrics.rejectedBulkhead.inc(); return null }
  if (up.breaker !== null && !up.breaker.allow()) { up.bulkhead?.release(); return null }
  return replica
}

/**
 * Starts proxying `ctx` to `up` (`plan.split[at]` on a split). Returns a Reply when the gateway must answer
 * at once (breaker open, no replica, bulkhead full — on a split, for every upstream of it — body too large);
 * otherwise undefined and the response is written asynchronously.
 */
export function proxyRequest(ctx: RequestContext, up: Upstream, plan: ProxyPlan, at = 0): Reply | undefined { // HOT PATH
  const maxBody = ctx.route!.maxBodyBytes
  const cl = ctx.req.headers['content-length']
  if (cl !== undefined && Number(cl) > maxBody) return REPLIES.bodyTooLarge
  const now = performance.now()
  let replica = admit(up, now)
  if (replica === null) {
    // On a split, an upstream that cannot take the request (breaker open, no replica in rotation, bulkhead
    // full) hands it to the next one that can: nothing was sent, so this is not a retry.
    const split = plan.split
    if (split === null) return plan.fallback ?? REPLIES.unavailable
    for (let j = 0; j < split.length && replica === null; j++) {
      if (j === at || (replica = admit(split[j].up, now)) === null) continue
      split[at].failovers[j].inc()
      up = split[j].up
      at = j
    }
    if (replica === null) return plan.fallback ?? REPLIES.unavailable
  }
  if (ctx.res.destroyed) { up.bulkhead?.release(); return undefined } // the client left while earlier stages ran
  const run = new ProxyRun(ctx, up, plan, at)
  if (ctx.expectContinue) ctx.res.writeContinue()
  up.budget.request()
  if (run.buffering) run.bufferThenDispatch(replica)
  else run.dispatch(replica)
  return undefined
}

class ProxyRun {
  /** The upstream request's headers as pairs (undici), or null when they are rendered as lines (`lines`). */
  private readonly headers: string[] | null
  private lines = ''
  /** The replica authority `lines` was rendered with ('' = not yet). */
  private linesFor = ''
  /** A streamed body's Content-Length, -1 when it is sent chunked (the http1 pool frames from it). */
  private readonly contentLength: number
  /** The upstream request's path and query: the client's, less the query parameters a stage consumed. */
  private readonly path: string
  /** What the pool reads: a stream pulling from the client request (never the request itself), or a buffer. */
  private body: RequestBody | Buffer | null
  private readonly canRetry: boolean
  /** The body is collected before the first attempt (retryable and small), so attempts can replay it. */
  readonly buffering: boolean
  private readonly bodyMax: number
  /** Replicas of `up` this request tried (bitmask of replica indexes). */
  private tried = 0
  /** Upstreams of the split this request tried (bitmask of split indexes). */
  private triedUps: number
  private current: Attempt | null = null
  private released = false
  /** Response headers went to the client: no retry or gateway reply is possible any more. */
  committed = false
  clientIsGone = false

  /**
   * `up` is the upstream of the current attempt, whose bulkhead slot this run holds; on a split a retry may
   * move it to another upstream (`at` is its index in `plan.split`).
   */
  constructor(readonly ctx: RequestContext, public up: Upstream, readonly plan: ProxyPlan, private at: number) {
    this.triedUps = 1 << at
    // The http1 pool takes the head's field lines rendered (per replica authority, in dispatch); undici takes pairs.
    this.headers = plan.outbound.rendered === true ? null : upstreamRequestHeaders(ctx, plan.outbound, plan.stripHeaders)
    // What a `rewrite` left (readHead's path+query otherwise), without the query parameters an API key came in.
    const target = ctx.upstreamPath
    const q = plan.stripQuery === null ? -1 : target.indexOf('?')
    this.path = q < 0 ? target : target.slice(0, q) + withoutQueryParams(target.slice(q), plan.stripQuery!)
    const req = ctx.req
    this.canRetry = plan.retry !== null && retryableMethod(ctx, plan.retry)
    const cl = req.headers['content-length']
    this.buffering = ctx.hasBody && this.canRetry && cl !== undefined && Number(cl) <= RETRY_BUFFER_MAX
    // A body with a Content-Length was checked against max_body up front; a chunked one is counted as it streams.
    this.bodyMax = cl === undefined ? ctx.route!.maxBodyBytes : Infinity
    this.contentLength = cl === undefined ? -1 : Number(cl)
    this.body = !ctx.hasBody || this.buffering ? null : new RequestBody(req, this.bodyMax)
    ctx.upstream = this
  }

  /** Collects a small retryable body, then makes the first attempt; the route deadline still applies. */
  bufferThenDispatch(replica: Replica): void {
    const req = this.ctx.req
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { req.removeAllListeners('data'); this.release(); writeReply(this.ctx, REPLIES.timeout, this.plan.outbound.via, performance.now()) }, Math.max(1, this.ctx.deadline - performance.now()))
    req.on('data', (c: Buffer) => chunks.push(c))
    req.once('end', () => {
      clearTimeout(timer)
      if (this.clientIsGone || this.released) return
      this.body = Buffer.concat(chunks)
      this.dispatch(replica)
    })
  }

  /** Whether a new attempt could send the body again (a fresh stream when the pool never read the old one). */
  private bodyReplayable(): boolean {
    if (this.body === null || Buffer.isBuffer(this.body)) return true
    if (this.body.started) return false
    this.body = new RequestBody(this.ctx.req, this.bodyMax)
    return true
  }

  /** Called by the gateway when the client connection closes before the response was finished. */
  clientGone(): void {
    this.clientIsGone = true
    if (this.current !== null) this.current.abort(new ClientGone())
    else this.release() // no attempt under way: left while the body was collected or a retry's backoff ran
  }

  dispatch(replica: Replica): void {
    const ctx = this.ctx
    const now = performance.now()
    const up = this.up
    if (replica.index <= 30) this.tried |= 1 << replica.index
    ctx.attempts++
    // The access log names the last attempt's upstream and replica, whether or not it answered.
    ctx.upstreamName = up.name
    ctx.upstreamAddr = replica.origin
    replica.inFlight++
    up.metrics.inFlight.inc()
    up.metrics.dispatched.inc()
    const a = new Attempt(this, up, replica, now)
    a.poolFull = replica.inFlight > replica.connections
    this.current = a
    const retry = this.plan.retry
    const perTry = retry !== null && retry.perTryMs !== null ? retry.perTryMs : Infinity
    const remaining = ctx.deadline - now
    if (remaining <= 0) { a.onError(new AttemptTimeout(true)); return }
    a.totalDeadline = perTry >= remaining
    a.armClock(now + Math.max(1, Math.min(perTry, remaining)), now)
    let headers: string[] | string
    if (this.headers !== null) headers = this.headers
    else {
      // rendered once per run; again only for a replica with another authority (used when the client sent no Host)
      if (this.linesFor !== replica.authority) {
        this.lines = renderUpstreamHeaders(ctx, this.plan.outbound, this.plan.stripHeaders, replica.authority)
        this.linesFor = replica.authority
      }
      headers = this.lines
    }
    const opts: UpstreamDispatch = { method: ctx.req.method!, path: this.path, headers, body: this.body, contentLength: this.contentLength }
    replica.pool.dispatch(opts, a)
  }

  /** An attempt ended. Decide: retry elsewhere, answer the client, or nothing (already answered). */
  finish(a: Attempt, outcome: UpstreamOutcome, err: Error | null): void {
    const ctx = this.ctx, up = a.up
    a.replica.inFlight--
    up.metrics.inFlight.dec()
    up.metrics.byOutcome[outcome].inc()
    if (this.current === a) this.current = null
    const failure = outcome === '5xx' || outcome === 'timeout' || outcome === 'connect_error' || outcome === 'reset'
    // Waiting for a pool connection or on a client that does not read says nothing about the replica.
    if (outcome !== 'aborted' && outcome !== 'pool_exhausted' && outcome !== 'send_timeout') {
      a.replica.record(!failure, performance.now())
      up.breaker?.record(!failure)
    }
    if (this.clientIsGone) { ctx.reason ||= 'client_aborted'; this.release(); return }
    const code = (err as { code?: string } | null)?.code
    if (err === null && !a.retrying) { this.release(); return } // complete response streamed
    if (this.committed) { // failed mid-body: the client sees a truncated response, never a second one
      ctx.reason ||= outcome === 'send_timeout' ? 'client_send_timeout' : outcome
      ctx.res.destroy()
      this.release()
      return
    }
    if (this.shouldRetry(a, outcome, err)) return
    this.release()
    const total = err instanceof AttemptTimeout && err.total
    const reply = outcome === 'pool_exhausted' ? REPLIES.poolExhausted
      : total || outcome === 'timeout' ? REPLIES.timeout
      : code === 'GW_ERR_BODY_TOO_LARGE' ? REPLIES.bodyTooLarge
      : outcome === '5xx' && a.retryReply !== null ? null
      : REPLIES.badGateway
    if (reply === null) { a.flushHeld(); return }
    writeReply(ctx, reply, this.plan.outbound.via, performance.now())
  }

  private shouldRetry(a: Attempt, outcome: UpstreamOutcome, err: Error | null): boolean {
    const ctx = this.ctx, up = a.up
    const retry = this.plan.retry
    const attemptsLeft = retry !== null && ctx.attempts < 1 + retry.count
    // A request that never reached the upstream (connection refused, connect timeout) is safe to send
    // again whatever its method, as long as its body has not been read.
    const neverSent = outcome === 'connect_error'
    if (!attemptsLeft || !this.bodyReplayable()) return false
    if (!this.canRetry && !neverSent) return false
    if (err instanceof AttemptTimeout && err.total) return false
    const now = performance.now()
    if (ctx.deadline - now < 1) return false
    // Where the next attempt goes: on a split, the heaviest other upstream not tried yet that can take it
    // (what just failed is avoided first); otherwise, or when none can, another replica of this upstream.
    const split = this.plan.split
    let to = -1, next: Replica | null = null
    if (split !== null) {
      for (let j = 0; j < split.length && next === null; j++) {
        const u = split[j].up
        if ((this.triedUps & (1 << j)) !== 0 || (u.breaker !== null && u.breaker.isOpen())) continue
        if (u.bulkhead !== null && u.bulkhead.inFlight >= u.bulkhead.max) continue
        if ((next = u.pick(0, now)) !== null) to = j
      }
    }
    if (next === null) {
      if (up.breaker !== null && up.breaker.isOpen()) return false
      if ((next = up.pick(this.tried, now)) === null) return false
    }
    // The failed upstream's budget pays for the retry wherever it goes: retries stay a bounded share of the
    // requests that met that upstream, so a dead canary cannot turn into a storm on the stable upstream.
    if (!up.budget.tryRetry(retry!.budget)) { up.metrics.retryBudgetDenied.inc(); return false }
    if (to >= 0) {
      const t = split![to]
      // Admission to the other upstream: its breaker (a half-open one may have no probe left) and a bulkhead
      // slot (room was checked above, in this same tick), taken before this run lets go of the old one.
      if (t.up.breaker !== null && !t.up.breaker.allow()) return false
      t.up.bulkhead?.acquire()
      this.up.bulkhead?.release()
      split![this.at].failovers[to].inc()
      this.up = t.up
      this.at = to
      this.tried = 0
      this.triedUps |= 1 << to
    }
    up.metrics.retries.inc()
    const replica = next
    const go = () => { if (!this.clientIsGone) this.dispatch(replica); else this.release() }
    if (retry!.backoffMs > 0) setTimeout(go, backoffDelay(retry!, ctx.deadline - now)).unref()
    else go()
    return true
  }

  release(): void {
    if (this.released) return
    this.released = true
    this.up.bulkhead?.release()
    // The exchange is over but the client may still be sending (an upstream that answered early): a body the
    // pool started reading may be paused by backpressure, and then neither engine reads it (it is being
    // consumed): read and discard the rest so the client connection stays usable. A body nobody started
    // reading is dumped by the engine once the answer is sent (node:http and http1 alike), and one being
    // buffered for retries is flowing already (bufferThenDispatch's timer answers with Connection: close).
    if (this.body instanceof RequestBody) this.body.drain()
  }
}

/** The pool's dispatch handler for one attempt. */
class Attempt implements UpstreamHandler {
  /** Node timer for deadlines too short or too long for the wheel. */
  timer: NodeJS.Timeout | null = null
  /** The deadline is the route's (504), not only this attempt's (per_try: a retry may follow). */
  totalDeadline = false
  wheelSlot = -1
  wheelPos = 0
  private abortFn: ((err?: Error) => void) | null = null
  private pendingAbort: Error | null = null
  private ended = false
  /** Set when a retryable 5xx is being drained so the request can be retried on another replica. */
  retrying = false
  /** The 5xx held back while deciding about a retry, flushed to the client if no retry happens. */
  retryReply: { status: number; headers: string[]; chunks: Buffer[] } | null = null
  private resume: (() => void) | null = null
  /** Every connection of the replica's pool was busy when this attempt was dispatched: it queued for one. */
  poolFull = false
  /** Waiting for the client to drain what was written (the deadline clock is then the send timeout). */
  private stalled = false
  /** The 'drain' listener, made on the first stall only (most responses never fill the socket). */
  private drained: (() => void) | null = null

  constructor(private readonly run: ProxyRun, readonly up: Upstream, readonly replica: Replica, private readonly startedAt: number) {}

  /** The deadline passed (called by the wheel or the fallback timer): the route's, or the send timeout. */
  onDeadline(): void { this.abort(this.stalled ? new SendTimeout() : new AttemptTimeout(this.totalDeadline)) }

  /** Arm the clock: on the wheel when it fits, else a Node timer. */
  armClock(fireAt: number, now: number): void {
    if (!deadlines.add(this, fireAt, now)) this.timer = setTimeout(() => this.onDeadline(), fireAt - now)
  }

  /** Response headers arrived or the attempt ended: its deadline no longer applies. */
  private stopClock(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    deadlines.cancel(this)
  }

  abort(err: Error): void {
    if (this.ended) return
    if (this.abortFn !== null) { this.abortFn(err); return }
    // Still queued for a connection: the pool has not started it, so answer now and cancel it when it starts.
    this.pendingAbort = err
    this.onError(err)
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort
    if (this.pendingAbort !== null) abort(this.pendingAbort)
  }

  onHeaders(status: number, raw: Buffer[] | string[], resume: () => void): boolean { // HOT PATH
    if (status < 200) return true // 1xx interim responses are not forwarded (100-continue is handled here)
    const run = this.run
    const ctx = run.ctx
    const now = performance.now()
    const ms = now - this.startedAt
    ctx.upstreamMs = ms
    this.replica.observeLatency(ms, now)
    this.up.metrics.duration.observe(ms / 1000)
    this.stopClock()
    if (RETRY_STATUS.has(status) && run.plan.retry !== null) {
      // Hold the answer back until the body ends: then either retry elsewhere or pass it on unchanged.
      this.retrying = true
      this.retryReply = { status, headers: clientResponseHeaders(raw), chunks: [] }
      return true
    }
    run.committed = true
    ctx.status = status
    this.resume = resume
    writeUpstreamHead(ctx, status, raw, run.plan.outbound, now)
    return true
  }

  onData(chunk: Buffer): boolean { // HOT PATH
    if (this.retryReply !== null) { this.retryReply.chunks.push(chunk); return true }
    const res = this.run.ctx.res
    if (res.write(chunk)) return true
    // The client is not keeping up: the pool stops reading the upstream until it drains, and the connection
    // stays pinned meanwhile, so the wait is bounded by the pool's send_timeout.
    this.stalled = true
    res.once('drain', this.drained ??= () => this.onDrained())
    const now = performance.now()
    this.armClock(now + this.replica.sendTimeoutMs, now)
    return false
  }

  private onDrained(): void {
    this.stalled = false
    this.stopClock()
    this.resume!()
  }

  onComplete(): void {
    if (this.ended) return
    this.ended = true; this.stopClock() // a send timeout armed by a stall on the last chunk no longer applies
    const run = this.run
    if (this.retryReply !== null) {
      run.finish(this, '5xx', new Error(`upstream answered ${this.retryReply.status}`))
      return
    }
    run.ctx.res.end()
    run.finish(this, outcomeOf(run.ctx.status), null)
  }

  /** No retry happened: send the held 5xx to the client as the upstream sent it. */
  flushHeld(): void {
    const held = this.retryReply!
    const ctx = this.run.ctx
    this.run.committed = true
    ctx.status = held.status
    ctx.res.writeHead(held.status, gatewayResponseHeaders(ctx, held.headers, this.run.plan.outbound.via, performance.now()))
    for (const c of held.chunks) ctx.res.write(c)
    ctx.res.end()
  }

  onError(err: Error): void {
    if (this.ended) return
    this.ended = true
    this.stopClock()
    if (clientFailures.has(err)) this.run.clientIsGone = true // the client's request failed: its doing, not the replica's
    const code = (err as { code?: string }).code ?? ''
    const outcome: UpstreamOutcome = err instanceof ClientGone || code === 'GW_ERR_BODY_TOO_LARGE' ? 'aborted'
      : err instanceof SendTimeout ? 'send_timeout'
      // Deadline passed before the attempt got a connection, and it had to queue for one (the pool was full
      // when it was dispatched, or is now): the gateway's limit. A slow connect with connections to spare is
      // the replica's doing (a timeout, charged).
      : err instanceof AttemptTimeout && this.abortFn === null && (this.poolFull || this.replica.inFlight > this.replica.connections) ? 'pool_exhausted'
      : err instanceof AttemptTimeout ? 'timeout'
      : CONNECT_ERRORS.has(code) ? 'connect_error'
      : this.run.clientIsGone ? 'aborted'
      : 'reset'
    this.run.finish(this, outcome, err)
  }
}

const outcomeOf = (status: number): UpstreamOutcome =>
  status >= 500 ? '5xx' : status >= 400 ? '4xx' : status >= 300 ? '3xx' : status >= 200 ? '2xx' : '1xx'
