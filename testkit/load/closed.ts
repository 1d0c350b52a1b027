// testkit/load/closed.ts: the closed model: C workers, each sending its next request as soon as the previous
// one ends. It finds the ceiling (max req/s at a concurrency); its latencies are not open-model latencies.
import { performance } from 'node:perf_hooks'
import { Engine, type CommonOptions } from './engine.js'
import type { LoadResult } from './result.js'

export interface ClosedOptions extends CommonOptions {
  /** Concurrent workers (requests in flight at all times). */
  concurrency: number
  /** Keep-alive connections in the pool (pipelining 1). Default = concurrency. */
  connections?: number
}

/**
 * Runs the closed model. Throughput is bounded by concurrency / latency (Little's law): use it for the ceiling,
 * and the open model for latency under a given load. Resolves when the last in-flight request has ended.
 */
export async function runClosed(opts: ClosedOptions): Promise<LoadResult> {
  if (!(opts.concurrency >= 1)) throw new Error('load: concurrency must be >= 1')
  if (!(opts.durationMs > 0)) throw new Error('load: durationMs must be > 0')
  const concurrency = Math.floor(opts.concurrency)
  const connections = opts.connections ?? concurrency
  const warmupMs = opts.warmupMs ?? 0
  const engine = new Engine(opts.url, opts, connections)
  let measuring = warmupMs === 0
  let stopping = false
  const startOne = (): void => { if (!stopping) engine.send(performance.now(), measuring) }
  // The next request is sent once the current undici callback has unwound (a microtask), so the connection
  // that just finished is free again and is reused rather than a new one opened. After a failure, wait for
  // the next turn of the loop instead, so a target that refuses at once cannot spin the generator.
  engine.onDone = (call) => {
    if (stopping) return
    if (call.status !== 0) queueMicrotask(startOne)
    else setImmediate(startOne)
  }
  if (measuring) engine.beginWindow(performance.now(), opts.durationMs)
  for (let i = 0; i < concurrency; i++) startOne()
  if (warmupMs > 0) {
    await new Promise((r) => setTimeout(r, warmupMs))
    measuring = true
    engine.beginWindow(performance.now(), opts.durationMs)
  }
  await new Promise((r) => setTimeout(r, opts.durationMs))
  stopping = true
  await engine.drain()
  const description = `closed model: ${concurrency} concurrent workers, each sends its next request when the previous ends, ` +
    `${connections} connections, latency from send, ${opts.durationMs / 1000} s` + (warmupMs > 0 ? ` after ${warmupMs / 1000} s warm-up` : '')
  return engine.finish('closed', description, {
    concurrency, connections, durationMs: opts.durationMs, warmupMs, timeoutMs: engine.timeoutMs,
  }, opts.mix, opts.url)
}
