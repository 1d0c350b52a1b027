// lab/experiments/tracer.ts: a light open-model stream that keeps every response — when it was due, when it
// ended, its status, chosen response headers, or the transport error — for the questions the load generator's
// per-second aggregates cannot answer: when did the first fast 503 arrive, which bundle version served each
// request around a reload, which requests sent before a SIGTERM failed. Meant for tens to hundreds of req/s
// beside (not instead of) testkit/load, which carries the main load.
import { performance } from 'node:perf_hooks'
import { Pool } from 'undici'
import { classifyError, type ErrorKind } from '../../testkit/load/index.js'

export interface TraceRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE'
  path: string
  headers?: Record<string, string>
  body?: string
}

export interface TraceOptions {
  /** Origin (http://host:port). */
  url: string
  rate: number
  /** Longest run; `stop()` ends it sooner. */
  durationMs: number
  /** Requests in turn (request n is mix[n % mix.length]). */
  mix: TraceRequest[]
  connections?: number
  /** Per-request deadline from its intended start (default 5 s). */
  timeoutMs?: number
  /** Response headers to keep (lower-case names). */
  keep?: string[]
}

export interface TraceRecord {
  /** Index into the mix. */
  i: number
  /** Wall-clock ms when the request was due (latency counts from here, as in the open model). */
  due: number
  /** Wall-clock ms when it ended (response body read, or error). */
  end: number
  /** Latency from `due`, ms. */
  ms: number
  /** HTTP status, 0 for a transport error or timeout. */
  status: number
  error?: ErrorKind
  message?: string
  /** The kept response headers that were present. */
  headers?: Record<string, string>
}

export interface Trace {
  /** Resolves with every record (in completion order) once the stream ended and every request settled. */
  done: Promise<TraceRecord[]>
  /** Stops sending; requests in flight still settle. */
  stop(): void
}

const wallNow = (): number => performance.timeOrigin + performance.now()

/** Starts a traced open-model stream (request n due at t0 + n/rate, whatever the responses do). */
export function startTrace(o: TraceOptions): Trace {
  if (!(o.rate > 0) || o.mix.length === 0) throw new Error('tracer: needs a rate > 0 and a non-empty mix')
  const pool = new Pool(o.url, { connections: o.connections ?? 16, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 0, bodyTimeout: 0 })
  const timeoutMs = o.timeoutMs ?? 5000
  const keep = o.keep ?? []
  const records: TraceRecord[] = []
  const pending = new Set<Promise<void>>()
  const interval = 1000 / o.rate
  const total = Math.max(1, Math.round((o.durationMs * o.rate) / 1000))
  const t0 = wallNow() + 1
  let n = 0
  let stopped = false

  const one = async (i: number, due: number): Promise<void> => {
    const req = o.mix[i]
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(due + timeoutMs - wallNow())))
    try {
      const res = await pool.request({ method: req.method ?? 'GET', path: req.path, headers: req.headers, body: req.body, signal })
      await res.body.dump()
      const end = wallNow()
      const rec: TraceRecord = { i, due, end, ms: Math.round((end - due) * 1000) / 1000, status: res.statusCode }
      const h: Record<string, string> = {}
      for (const k of keep) { const v = res.headers[k]; if (v !== undefined) h[k] = String(v) }
      if (keep.length > 0) rec.headers = h
      records.push(rec)
    } catch (e) {
      const end = wallNow()
      const aborted = (e as Error)?.name === 'TimeoutError' || (e as { code?: string })?.code === 'UND_ERR_ABORTED'
      records.push({ i, due, end, ms: Math.round((end - due) * 1000) / 1000, status: 0, error: aborted ? 'timeout' : classifyError(e), message: String((e as Error)?.message ?? e).slice(0, 200) })
    }
  }

  const sent = new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = wallNow()
      while (!stopped && n < total) {
        const due = t0 + n * interval
        if (due > now) break
        const p = one(n % o.mix.length, due)
        pending.add(p)
        void p.finally(() => pending.delete(p))
        n++
      }
      if (stopped || n >= total) return resolve()
      setTimeout(tick, Math.max(1, Math.ceil(t0 + n * interval - wallNow())))
    }
    setTimeout(tick, 1)
  })
  const done = (async () => {
    await sent
    while (pending.size > 0) await Promise.all([...pending])
    await pool.destroy()
    return records
  })()
  return { done, stop: () => { stopped = true } }
}
