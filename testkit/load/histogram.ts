// testkit/load/histogram.ts: the latency histograms of a load run (Node's HDR histogram, recorded in µs)
// and their summary in milliseconds.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks'

/** p50…max of one histogram, in milliseconds (µs precision, 3 significant HDR digits). */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  stddev: number
}

/** Highest trackable value: 10 minutes in µs. Anything larger is clamped (and would be a broken run anyway). */
const HIGHEST_US = 600_000_000

/**
 * A histogram of durations in µs. µs rather than ns: the generator's own clock (performance.now, timers)
 * is not better than a few µs, and µs keeps the HDR buckets fewer for the same 3 significant digits.
 */
export function createLatencyHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: HIGHEST_US, figures: 3 })
}

/** Records a duration given in (fractional) milliseconds. HOT PATH: one C++ call, no allocation. */
export function recordMs(h: RecordableHistogram, ms: number): void {
  let us = Math.round(ms * 1000)
  if (us < 1) us = 1 // the HDR histogram refuses 0; sub-µs durations are below our clock's precision anyway
  else if (us > HIGHEST_US) us = HIGHEST_US
  h.record(us)
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** Summarises a µs histogram in ms. An empty histogram gives all zeros (not Node's sentinel min). */
export function summarize(h: RecordableHistogram): LatencySummary {
  const count = h.count
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, stddev: 0 }
  return {
    count,
    min: round3(h.min / 1000),
    mean: round3(h.mean / 1000),
    p50: round3(h.percentile(50) / 1000),
    p90: round3(h.percentile(90) / 1000),
    p99: round3(h.percentile(99) / 1000),
    p999: round3(h.percentile(99.9) / 1000),
    max: round3(h.max / 1000),
    stddev: round3(h.stddev / 1000),
  }
}
