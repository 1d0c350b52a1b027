// testkit/load/result.ts: the shape of a load run's result (JSON-able) and its short human summary.
import type { LatencySummary } from './histogram.js'

export type ErrorKind = 'connect_refused' | 'reset' | 'timeout' | 'other'

/** One second of the measured window (second 0 starts when warm-up ends; the drain may add seconds). */
export interface SecondSample {
  /** Seconds since the measured window began. */
  t: number
  /** Requests whose send was *intended* in this second (open) / started in it (closed). */
  sent: number
  /** Responses that ended in this second (any status). */
  completed: number
  /** Failures (transport errors, timeouts, status >= 400) that ended in this second. */
  errors: number
  /** p99 latency (ms) of the responses that ended in this second; 0 when none. */
  p99Ms: number
}

export interface LoadResult {
  model: 'open' | 'closed'
  /** The model in words, e.g. "open model: 2000 req/s fixed arrival, latency from intended send time, 64 connections". */
  description: string
  url: string
  config: {
    rate?: number
    concurrency?: number
    connections: number
    durationMs: number
    warmupMs: number
    timeoutMs: number
    mix: { method: string; path: string; weight: number; bodyBytes: number }[]
  }
  startedAt: string
  /** Wall time of the measured window including the drain of in-flight requests, ms. */
  elapsedMs: number
  requests: {
    /** Requests sent in the measured window (warm-up excluded). */
    sent: number
    /** Responses received (any status). */
    completed: number
    /** Responses with status < 400. */
    ok: number
    /** Transport errors + timeouts + responses with status >= 400. */
    errors: number
    /** Requests sent during warm-up (not counted anywhere else). */
    warmup: number
  }
  /** Per second over the measured duration (durationMs). */
  rate: {
    requested?: number
    /** Sends per second actually achieved (open: from the first to the last actual send). */
    sent: number
    /** Responses per second that ended inside the measured window (drain excluded): the throughput. */
    completed: number
  }
  /** Latency of every response: open model from its intended send time, closed model from its send. */
  latencyMs: LatencySummary
  /** Open model only: latency from the actual send (excludes generator lag; "uncorrected", like wrk2's). */
  serviceTimeMs?: LatencySummary
  /** Responses by status code. */
  status: Record<string, number>
  errors: {
    total: number
    byStatus: Record<string, number>
    byKind: Record<ErrorKind, number>
    /** Up to 5 distinct error messages, to say what went wrong. */
    samples: string[]
  }
  bytes: { sent: number; received: number }
  /** Open model only: how late the generator sent each request against its schedule. */
  schedule?: { lagMs: LatencySummary; behind: boolean }
  generator: {
    cpuUserUs: number
    cpuSystemUs: number
    /** The generator's CPU over the measured window as a share of one core (1 = a whole core). */
    cpuShare: number
    /** The generator's event-loop utilisation over the window (0..1). */
    elu: number
  }
  connections: { opened: number; closed: number; connectErrors: number }
  series: SecondSample[]
  warnings: string[]
}

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

/** A few lines for a terminal; the JSON holds everything. */
export function formatSummary(r: LoadResult): string {
  const l = r.latencyMs
  const lines = [
    r.description,
    `  ${r.url}  ${r.requests.sent} sent, ${r.requests.completed} completed, ${r.requests.errors} errors in ${(r.elapsedMs / 1000).toFixed(1)} s`,
    `  throughput ${fmt(r.rate.completed)} req/s` + (r.rate.requested !== undefined ? ` (requested ${r.rate.requested}, sent ${fmt(r.rate.sent)})` : ''),
    `  latency ms  p50 ${fmt(l.p50)}  p90 ${fmt(l.p90)}  p99 ${fmt(l.p99)}  p99.9 ${fmt(l.p999)}  max ${fmt(l.max)}  mean ${fmt(l.mean)}`,
  ]
  if (r.serviceTimeMs !== undefined) {
    const s = r.serviceTimeMs
    lines.push(`  service ms  p50 ${fmt(s.p50)}  p90 ${fmt(s.p90)}  p99 ${fmt(s.p99)}  p99.9 ${fmt(s.p999)}  max ${fmt(s.max)}  (from actual send)`)
  }
  if (r.errors.total > 0) {
    const kinds = Object.entries(r.errors.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`)
    const statuses = Object.entries(r.errors.byStatus).map(([k, n]) => `${k}: ${n}`)
    lines.push(`  errors  ${[...kinds, ...statuses].join(', ')}`)
  }
  lines.push(`  generator cpu ${(r.generator.cpuShare * 100).toFixed(0)}% of one core, connections opened ${r.connections.opened}` +
    (r.schedule ? `, schedule lag p99 ${fmt(r.schedule.lagMs.p99)} ms max ${fmt(r.schedule.lagMs.max)} ms` : ''))
  for (const w of r.warnings) lines.push(`  WARNING: ${w}`)
  return lines.join('\n')
}
