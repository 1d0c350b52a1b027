// lab/experiments/timeline.ts: puts everything an experiment observes on one time line — the load generator's
// per-second series (each run counts from its own window start), counters and gauges polled from /metrics and the
// stub, and the experiment's own events (rules switched, SIGTERM sent) — as seconds since the experiment's origin.
// Pure functions, so the arithmetic the results rest on is tested without processes.
import type { SecondSample } from '../../testkit/load/index.js'
import { median } from '../harness/stats.js'

/** A value read at wall-clock time `at` (Date.now() ms). */
export interface Reading { at: number; value: number }

/** Several values read together (one scrape), at wall-clock time `at`. */
export interface PollSample { at: number; values: Record<string, number> }

/** One point of a series on the time line: `t` seconds since the origin. */
export interface Point { t: number; value: number }

/** Seconds since `origin` (wall ms) of wall time `at`, to the millisecond. */
export const secondsSince = (origin: number, at: number): number => Math.round(at - origin) / 1000

/** One key of a run of poll samples as readings (samples without the key are skipped). */
export function readings(samples: readonly PollSample[], key: string): Reading[] {
  const out: Reading[] = []
  for (const s of samples) { const v = s.values[key]; if (v !== undefined && Number.isFinite(v)) out.push({ at: s.at, value: v }) }
  return out
}

/**
 * A load run's per-second series moved onto the time line. Second i of a run covers [start + i, start + i + 1)
 * where start is its window start (`startedAt`); `t` is the start of that second.
 */
export function loadSeriesOnTimeline(series: readonly SecondSample[], startedAt: string | number, origin: number): (SecondSample & { t: number })[] {
  const start = typeof startedAt === 'number' ? startedAt : Date.parse(startedAt)
  const offset = secondsSince(origin, start)
  return series.map((s) => ({ ...s, t: Math.round((offset + s.t) * 1000) / 1000 }))
}

/**
 * A cumulative counter made monotonic: a drop (the process restarted, its counters began again at 0) is treated
 * as a reset, so later readings continue from the last value seen before it.
 */
export function monotonic(rs: readonly Reading[]): Reading[] {
  let base = 0
  let prev = -Infinity
  return rs.map((r) => {
    if (r.value < prev) base += prev
    prev = r.value
    return { at: r.at, value: r.value + base }
  })
}

/** A counter's value at wall time `at`, linearly interpolated between readings (clamped at the ends). NaN if none. */
export function counterAt(rs: readonly Reading[], at: number): number {
  if (rs.length === 0) return NaN
  if (at <= rs[0].at) return rs[0].value
  const last = rs[rs.length - 1]
  if (at >= last.at) return last.value
  let lo = 0, hi = rs.length - 1
  while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (rs[mid].at <= at) lo = mid; else hi = mid }
  const a = rs[lo], b = rs[hi]
  return b.at === a.at ? b.value : a.value + ((b.value - a.value) * (at - a.at)) / (b.at - a.at)
}

/** How much a counter grew between two wall times (interpolated): the count of events in that window. */
export function counterDelta(rs: readonly Reading[], from: number, to: number): number {
  return counterAt(rs, to) - counterAt(rs, from)
}

/**
 * Per-second rate of a counter on the time line: one point per whole second s in [fromS, toS), the growth from
 * origin + s to origin + s + 1. Seconds outside the readings' span are left out (no extrapolation).
 */
export function ratePerSecond(rs: readonly Reading[], origin: number, fromS: number, toS: number): Point[] {
  const out: Point[] = []
  if (rs.length < 2) return out
  const first = rs[0].at, last = rs[rs.length - 1].at
  for (let s = Math.ceil(fromS); s < toS; s++) {
    const a = origin + s * 1000, b = a + 1000
    if (a < first || b > last) continue
    out.push({ t: s, value: Math.round(counterDelta(rs, a, b) * 10) / 10 })
  }
  return out
}

/** A gauge per whole second on the time line: the max (or mean, or last) of the readings inside each second. */
export function gaugePerSecond(rs: readonly Reading[], origin: number, how: 'max' | 'mean' | 'last' = 'max'): Point[] {
  const bins = new Map<number, number[]>()
  for (const r of rs) {
    const s = Math.floor((r.at - origin) / 1000)
    let b = bins.get(s)
    if (b === undefined) bins.set(s, b = [])
    b.push(r.value)
  }
  return [...bins].sort((x, y) => x[0] - y[0]).map(([t, v]) => ({
    t, value: how === 'max' ? Math.max(...v) : how === 'last' ? v[v.length - 1] : v.reduce((a, b) => a + b, 0) / v.length,
  }))
}

/** Upstream attempts per client request (the retry amplification); NaN when no client request was made. */
export function amplification(upstreamRequests: number, clientRequests: number): number {
  return clientRequests > 0 ? upstreamRequests / clientRequests : NaN
}

/**
 * When a counter first grew past its value at `after` (wall ms): the reading that shows it and the one before,
 * so an event is bracketed by two scrapes. undefined when it never grew.
 */
export function firstIncrease(rs: readonly Reading[], after: number): { before: number; seen: number } | undefined {
  const i0 = rs.findIndex((r) => r.at >= after)
  if (i0 < 0) return undefined
  const base = i0 > 0 ? rs[i0 - 1].value : rs[i0].value
  let prevAt = i0 > 0 ? rs[i0 - 1].at : after
  for (let i = i0; i < rs.length; i++) {
    if (rs[i].value > base) return { before: Math.max(prevAt, after), seen: rs[i].at }
    prevAt = rs[i].at
  }
  return undefined
}

export interface SpikeCheck {
  /** Largest per-second p99 within ± windowS of the event. */
  nearMs: number
  /** Median per-second p99 of the other seconds (the steady state). */
  steadyMs: number
  ratio: number
}

/** Compares the per-second p99 around an event with the steady state of the same series. */
export function spikeAround(points: readonly Point[], eventS: number, windowS: number): SpikeCheck {
  const near = points.filter((p) => Math.abs(p.t - eventS) <= windowS && p.value > 0).map((p) => p.value)
  const rest = points.filter((p) => Math.abs(p.t - eventS) > windowS && p.value > 0).map((p) => p.value)
  const nearMs = near.length === 0 ? NaN : Math.max(...near)
  const steadyMs = median(rest)
  return { nearMs, steadyMs, ratio: steadyMs > 0 ? nearMs / steadyMs : NaN }
}

/** Every increase of a counter: bracketed by the reading before and the reading that shows it, and by how much. */
export function increases(rs: readonly Reading[]): { before: number; seen: number; by: number }[] {
  const out: { before: number; seen: number; by: number }[] = []
  for (let i = 1; i < rs.length; i++) {
    if (rs[i].value > rs[i - 1].value) out.push({ before: rs[i - 1].at, seen: rs[i].at, by: rs[i].value - rs[i - 1].value })
  }
  return out
}
