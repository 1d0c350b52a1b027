// What the primary's /metrics reports with --workers: the sum over workers (gauges by their own aggregator),
// plus the counters and histograms of workers that have exited, plus the primary's own series.
// Why keep a dead worker's last values rather than export per-worker series: Prometheus treats any decrease
// of a counter as a reset, so a sum that drops when a worker dies reads as a spike of rate() from zero; per-
// worker series (label pid) would be correct per series but grow a new set of series with every restart and
// make every dashboard sum over them. A dead worker's increments after the last scrape are lost (it never
// reported them); the totals never go down.
import type { Worker } from 'node:cluster'
import { AggregatorRegistry, Registry } from 'prom-client'
import { reloadsCounter } from './metrics.js'

/** One metric as prom-client's getMetricsAsJSON gives it (what a worker sends over IPC). */
export interface MetricJSON {
  name: string
  help: string
  type: string
  aggregator: string
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[]
}

/** Asks one worker for its metrics; rejects after `ms`. */
export type AskWorker = (w: Worker, ms: number) => Promise<MetricJSON[]>

/** Only cumulative series survive their worker: a gauge (in flight, breaker state) of a dead process means nothing. */
const CUMULATIVE = new Set(['counter', 'histogram'])

export class ClusterMetrics {
  /** The primary's own series: counted once per gateway, not per worker. */
  readonly registry = new Registry()
  readonly reloads = reloadsCounter()
  private readonly last = new Map<Worker, MetricJSON[]>()
  /** Summed counters and histograms of exited workers: metric name → series key → value. */
  private readonly retired = new Map<string, { meta: Omit<MetricJSON, 'values'>; values: Map<string, MetricJSON['values'][number]> }>()

  constructor(private readonly ask: AskWorker) {
    this.registry.registerMetric(this.reloads as never)
  }

  /** A worker exited: its last reported cumulative values stay in every later sum. */
  retire(w: Worker): void {
    const last = this.last.get(w)
    this.last.delete(w)
    if (last === undefined) return
    for (const m of last) {
      if (!CUMULATIVE.has(m.type)) continue
      let r = this.retired.get(m.name)
      if (r === undefined) this.retired.set(m.name, r = { meta: { name: m.name, help: m.help, type: m.type, aggregator: m.aggregator }, values: new Map() })
      for (const v of m.values) {
        const key = `${v.metricName ?? ''}\u0000${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`
        const have = r.values.get(key)
        if (have === undefined) r.values.set(key, { ...v })
        else have.value += v.value
      }
    }
  }

  /**
   * Prometheus text for the whole gateway. Each live worker is asked; one that does not answer within `ms`
   * counts with its previous answer, so a slow or dying worker cannot make a total go down.
   */
  async render(live: Worker[], ms = 2000): Promise<{ contentType: string; text: string }> {
    await Promise.all(live.map(w => this.ask(w, ms).then(m => { if (!w.isDead() && w.process.exitCode === null) this.last.set(w, m) }, () => undefined)))
    // after the awaits: a worker that exited meanwhile is already in `retired` and no longer in `last`
    const parts: MetricJSON[][] = [...this.last.values()]
    parts.push([...this.retired.values()].map(r => ({ ...r.meta, values: [...r.values.values()] })))
    parts.push(await this.registry.getMetricsAsJSON() as unknown as MetricJSON[])
    const reg = AggregatorRegistry.aggregate(parts as never)
    return { contentType: reg.contentType, text: await reg.metrics() }
  }
}
