// testkit/load/open.ts: the open model: requests start at a fixed arrival rate whatever the responses do,
// and each latency counts from the request's intended start (no coordinated omission).
import { performance } from 'node:perf_hooks'
import { Engine, type CommonOptions } from './engine.js'
import { summarize } from './histogram.js'
import type { LoadResult } from './result.js'

export interface OpenOptions extends CommonOptions {
  /** Arrival rate, requests per second. */
  rate: number
  /** Keep-alive connections in the pool (pipelining 1). Default 64. */
  connections?: number
  /** Schedule lag p99 (ms) above which the result warns that the generator fell behind. Default 5; max warns at 20×. */
  lagWarnMs?: number
}

/**
 * Most requests sent in one timer tick before yielding to I/O. A generator that is far behind (a long pause)
 * catches up in bursts of this size rather than starving its own response handling.
 */
const MAX_BATCH = 256

/**
 * Runs the open model. Request n is due at t0 + n/rate; a timer loop wakes about every millisecond (or
 * when the next request is due, if later) and sends every due request, so a late wake-up turns into a burst,
 * never into a lower rate. Requests wait in the undici pool when every connection is busy, and that
 * wait is part of their latency. Resolves when every request has ended (or timed out).
 */
export async function runOpen(opts: OpenOptions): Promise<LoadResult> {
  if (!(opts.rate > 0)) throw new Error('load: rate must be > 0 req/s')
  if (!(opts.durationMs > 0)) throw new Error('load: durationMs must be > 0')
  const connections = opts.connections ?? 64
  const warmupMs = opts.warmupMs ?? 0
  const engine = new Engine(opts.url, opts, connections)
  const interval = 1000 / opts.rate
  const warmupCount = Math.round((warmupMs * opts.rate) / 1000)
  const total = warmupCount + Math.max(1, Math.round((opts.durationMs * opts.rate) / 1000))
  const t0 = performance.now() + 1
  let i = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      let batch = 0
      while (i < total && batch < MAX_BATCH) {
        const intended = t0 + i * interval
        if (intended > now) break
        if (i === warmupCount) engine.beginWindow(intended, opts.durationMs)
        engine.send(intended, i >= warmupCount)
        i++
        batch++
      }
      if (i >= total) return resolve()
      if (batch === MAX_BATCH) setImmediate(tick)
      // Whole milliseconds: Node keeps one timer list per distinct duration, and libuv's clock is in ms anyway.
      else setTimeout(tick, Math.max(1, Math.ceil(t0 + i * interval - performance.now())))
    }
    setTimeout(tick, 1)
  })
  await engine.drain()
  const description = `open model: ${opts.rate} req/s fixed arrival, latency from intended send time, ${connections} connections, ` +
    `${opts.durationMs / 1000} s` + (warmupMs > 0 ? ` after ${warmupMs / 1000} s warm-up` : '')
  const result = await engine.finish('open', description, {
    rate: opts.rate, connections, durationMs: opts.durationMs, warmupMs, timeoutMs: engine.timeoutMs,
  }, opts.mix, opts.url)
  result.serviceTimeMs = summarize(engine.service)
  const lagMs = summarize(engine.lag)
  const warnMs = opts.lagWarnMs ?? 5
  const behind = lagMs.p99 > warnMs || lagMs.max > 20 * warnMs
  result.schedule = { lagMs, behind }
  if (behind) {
    result.warnings.push(`the generator fell behind its schedule (lag p99 ${lagMs.p99} ms, max ${lagMs.max} ms): ` +
      'latencies still count from the intended start, but the generator, not the target, may be the bottleneck')
  }
  return result
}
