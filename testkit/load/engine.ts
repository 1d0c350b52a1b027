// testkit/load/engine.ts: what both load models share: one undici Pool driven through dispatch() with a
// lean handler, the counters and histograms every response lands in, per-request timeouts, and the result.
import { performance } from 'node:perf_hooks'
import { Pool, type Dispatcher } from 'undici'
import { createLatencyHistogram, recordMs, summarize } from './histogram.js'
import { prepareMix, type MixEntry, type PreparedMix, type PreparedRequest } from './mix.js'
import type { ErrorKind, LoadResult, SecondSample } from './result.js'
import type { RecordableHistogram } from 'node:perf_hooks'

/** Options both models take. */
export interface CommonOptions {
  /** Target origin, optionally with a path used when no mix is given (e.g. http://127.0.0.1:8080/health). */
  url: string
  /** Measured duration in ms (after warm-up). */
  durationMs: number
  /** Weighted request mix; default one GET of the URL's path. */
  mix?: MixEntry[]
  /** Warm-up in ms: same load, nothing recorded. Default 0. */
  warmupMs?: number
  /** A request not finished this long after its intended start is aborted and counted as a timeout. Default 5000. */
  timeoutMs?: number
}

/** Why the generator aborted a request: its own per-request deadline. */
export class LoadTimeoutError extends Error {
  readonly code = 'GWP_LOAD_TIMEOUT'
  constructor(ms: number) { super(`no complete response within ${ms} ms of the intended start`) }
}

/** Maps a transport error to the kinds the result reports. */
export function classifyError(err: unknown): ErrorKind {
  const e = err as { code?: string; errors?: { code?: string }[] } | null
  const code = e?.code ?? e?.errors?.[0]?.code
  switch (code) {
    case 'ECONNREFUSED': return 'connect_refused'
    case 'ECONNRESET': case 'EPIPE': case 'UND_ERR_SOCKET': return 'reset'
    case 'GWP_LOAD_TIMEOUT': case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': return 'timeout'
    default: return 'other'
  }
}

interface Bucket { sent: number; completed: number; errors: number; hist: RecordableHistogram }

/**
 * One request in flight. A class (not closures) so every request has the same hidden class and the handler
 * methods stay monomorphic. HOT PATH: the response body is counted and dropped, never retained.
 */
class Call implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | null = null
  status = 0
  bytes = 0
  done = false
  constructor(readonly engine: Engine, readonly intended: number, readonly sentAt: number, readonly measured: boolean) {}
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.done) controller.abort(new LoadTimeoutError(this.engine.timeoutMs)) // timed out while queued in the pool
  }
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void { this.status = statusCode }
  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void { this.bytes += chunk.length }
  onResponseEnd(): void { this.engine.complete(this) }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void { this.engine.fail(this, err) }
}

/** Shared state of one run. Models call send(); responses come back through complete()/fail(). */
export class Engine {
  readonly pool: Pool
  readonly mix: PreparedMix
  readonly timeoutMs: number
  readonly latency = createLatencyHistogram()
  readonly service = createLatencyHistogram()
  readonly lag = createLatencyHistogram()
  private readonly statusCounts = new Map<number, number>()
  private readonly errorKinds: Record<ErrorKind, number> = { connect_refused: 0, reset: 0, timeout: 0, other: 0 }
  private readonly errorSamples = new Set<string>()
  private readonly inflight = new Set<Call>()
  private readonly buckets: Bucket[] = []
  private seq = 0
  sent = 0
  warmupSent = 0
  completed = 0
  ok = 0
  errors = 0
  bytesIn = 0
  bytesOut = 0
  opened = 0
  closed = 0
  connectErrors = 0
  firstSendAt = -1
  lastSendAt = -1
  /** performance.now() when the measured window began / ends; -1 while warming up. */
  windowStart = -1
  windowEnd = -1
  /** Responses (any status) that ended inside the measured window: the throughput numerator. */
  completedInWindow = 0
  /** Called after each measured or warm-up request ends (the closed model chains its next request here). */
  onDone: ((call: Call) => void) | null = null
  private idle: (() => void) | null = null
  private sweepTimer: NodeJS.Timeout | null = null
  private cpu0: NodeJS.CpuUsage = process.cpuUsage()
  private elu0 = performance.eventLoopUtilization()
  private startedAt = new Date()

  constructor(readonly origin: string, opts: CommonOptions, readonly connections: number) {
    const u = new URL(opts.url)
    this.mix = prepareMix(opts.mix ?? [{ method: 'GET', path: u.pathname + u.search }])
    this.timeoutMs = opts.timeoutMs ?? 5000
    // Timeouts are the generator's own (from the intended start, see sweep()), so undici's are off.
    this.pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 })
    this.pool.on('connect', () => { this.opened++ })
    this.pool.on('disconnect', () => { this.closed++ })
    this.pool.on('connectionError', () => { this.connectErrors++ })
    const every = Math.max(10, Math.min(100, this.timeoutMs / 4))
    this.sweepTimer = setInterval(() => this.sweep(), every)
  }

  /** Starts the measured window at `at` (performance.now() ms): counters, CPU and ELU baselines. */
  beginWindow(at: number, durationMs: number): void {
    this.windowStart = at
    this.windowEnd = this.windowStart + durationMs
    this.cpu0 = process.cpuUsage()
    this.elu0 = performance.eventLoopUtilization()
    this.startedAt = new Date()
  }

  /** Sends the next request of the mix. `intended` is when it should have started (performance.now() ms). HOT PATH. */
  send(intended: number, measured: boolean): void {
    const req: PreparedRequest = this.mix.entries[this.mix.sequence[this.seq++ % this.mix.sequence.length]]
    const now = performance.now()
    const call = new Call(this, intended, now, measured)
    if (measured) {
      this.sent++
      this.bytesOut += req.bodyBytes
      if (this.firstSendAt < 0) this.firstSendAt = now
      this.lastSendAt = now
      recordMs(this.lag, now - intended)
      this.bucket(now).sent++
    } else {
      this.warmupSent++
    }
    this.inflight.add(call)
    this.pool.dispatch({ path: req.path, method: req.method, headers: req.headers, body: req.body, idempotent: req.idempotent }, call)
  }

  complete(call: Call): void { // HOT PATH
    if (call.done) return
    call.done = true
    this.inflight.delete(call)
    if (call.measured) {
      const now = performance.now()
      this.completed++
      if (now <= this.windowEnd) this.completedInWindow++
      this.bytesIn += call.bytes
      this.statusCounts.set(call.status, (this.statusCounts.get(call.status) ?? 0) + 1)
      const ms = now - call.intended
      recordMs(this.latency, ms)
      recordMs(this.service, now - call.sentAt)
      const b = this.bucket(now)
      b.completed++
      recordMs(b.hist, ms)
      if (call.status >= 400) { this.errors++; b.errors++ } else this.ok++
    }
    this.after(call)
  }

  fail(call: Call, err: unknown): void {
    if (call.done) return
    call.done = true
    this.inflight.delete(call)
    if (call.measured) {
      this.errors++
      this.errorKinds[classifyError(err)]++
      if (this.errorSamples.size < 5) this.errorSamples.add(String((err as Error)?.message ?? err))
      this.bucket(performance.now()).errors++
    }
    this.after(call)
  }

  private after(call: Call): void {
    if (this.onDone !== null) this.onDone(call)
    if (this.idle !== null && this.inflight.size === 0) { const f = this.idle; this.idle = null; f() }
  }

  private bucket(now: number): Bucket {
    const i = Math.max(0, Math.floor((now - this.windowStart) / 1000))
    while (this.buckets.length <= i) this.buckets.push({ sent: 0, completed: 0, errors: 0, hist: createLatencyHistogram() })
    return this.buckets[i]
  }

  /**
   * Times out requests older than timeoutMs from their intended start, whether they are on the wire or still
   * queued inside the pool. The Set iterates in insertion order, which is intended-start order in both models,
   * so the scan stops at the first request still within its deadline.
   */
  private sweep(): void {
    const deadline = performance.now() - this.timeoutMs
    for (const call of this.inflight) {
      if (call.intended > deadline) break
      const err = new LoadTimeoutError(this.timeoutMs)
      const c = call.controller
      this.fail(call, err)
      if (c !== null) c.abort(err) // else onRequestStart aborts it when the pool gets to it
    }
  }

  /** Resolves when nothing is in flight (every request ends within timeoutMs, so this is bounded). */
  drain(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve()
    return new Promise((resolve) => { this.idle = resolve })
  }

  /** Stops timers, closes the pool, and builds the result. */
  async finish(model: 'open' | 'closed', description: string, cfg: Omit<LoadResult['config'], 'mix'>, mixIn: MixEntry[] | undefined, url: string): Promise<LoadResult> {
    const end = performance.now()
    const cpu = process.cpuUsage(this.cpu0)
    const elu = performance.eventLoopUtilization(this.elu0)
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer)
    await this.pool.destroy()
    const elapsedMs = end - this.windowStart
    const durS = cfg.durationMs / 1000
    const sentSpanS = this.sent > 1 ? (this.lastSendAt - this.firstSendAt) / 1000 : durS
    const cpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, elapsedMs)
    const status: Record<string, number> = {}
    const byStatus: Record<string, number> = {}
    for (const [code, n] of [...this.statusCounts].sort((a, b) => a[0] - b[0])) {
      status[code] = n
      if (code >= 400) byStatus[code] = n
    }
    const series: SecondSample[] = this.buckets.map((b, t) => ({ t, sent: b.sent, completed: b.completed, errors: b.errors, p99Ms: summarize(b.hist).p99 }))
    const result: LoadResult = {
      model,
      description,
      url,
      config: {
        ...cfg,
        mix: this.mix.entries.map((e, i) => ({ method: e.method, path: e.path, weight: mixIn?.[i]?.weight ?? 1, bodyBytes: e.bodyBytes })),
      },
      startedAt: this.startedAt.toISOString(),
      elapsedMs: Math.round(elapsedMs),
      requests: { sent: this.sent, completed: this.completed, ok: this.ok, errors: this.errors, warmup: this.warmupSent },
      rate: {
        ...(cfg.rate !== undefined ? { requested: cfg.rate } : {}),
        sent: round1(cfg.rate !== undefined && this.sent > 1 ? (this.sent - 1) / Math.max(sentSpanS, 1e-3) : this.sent / durS),
        completed: round1(this.completedInWindow / durS),
      },
      latencyMs: summarize(this.latency),
      status,
      errors: { total: this.errors, byStatus, byKind: { ...this.errorKinds }, samples: [...this.errorSamples] },
      bytes: { sent: this.bytesOut, received: this.bytesIn },
      generator: { cpuUserUs: cpu.user, cpuSystemUs: cpu.system, cpuShare: round3(cpuShare), elu: round3(elu.utilization) },
      connections: { opened: this.opened, closed: this.closed, connectErrors: this.connectErrors },
      series,
      warnings: [],
    }
    if (result.errors.total > 0) {
      const kinds = Object.entries(result.errors.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`)
      const st = Object.entries(byStatus).map(([k, n]) => `status ${k}: ${n}`)
      result.warnings.push(`${result.errors.total} of ${this.sent} requests failed (${[...kinds, ...st].join(', ')})`)
    }
    if (cpuShare > 0.8) {
      result.warnings.push(`the generator used ${(cpuShare * 100).toFixed(0)}% of one core: it may be the bottleneck (lower the rate or give it a core)`)
    }
    if (this.opened > 2 * this.connections) {
      result.warnings.push(`${this.opened} connections opened for a pool of ${this.connections}: keep-alive is not holding (the target closes connections)`)
    }
    return result
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10
const round3 = (x: number): number => Math.round(x * 1000) / 1000
