// lab/experiments/hot-reload-report.ts: what the reload run shows — per reload, the admin round trip and gw's own
// figure, when the new version first reached a client (the tracer reads X-Version), whether a refused reload left
// the old version serving; over the run, requests sent vs answered, statuses, p99 and versions per second.
import type { TopLevelSpec } from 'vega-lite'
import type { LoadDigest } from '../harness/measure.js'
import { mdTable, num } from '../harness/markdown.js'
import { timelineSpec, toRows, type TimelineRow } from './charts.js'
import type { ReloadResult } from './hot-reload.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import { counterDelta, loadSeriesOnTimeline, readings, secondsSince, type Point, type PollSample } from './timeline.js'
import type { TraceRecord } from './tracer.js'

export interface ReloadShot {
  index: number
  broken: boolean
  /** The version that should serve after this reload (the previous one when it is refused). */
  tag: string
  /** Wall ms: reload requested / answered. */
  at: number
  doneAt: number
  status: number
  applied: boolean
  /** gw's own figure for the reload (`ms` in the answer). */
  adminMs: number | null
  error: string | null
  /** Status of the route only this version has, requested right after the reload answered. */
  routeProbe: number
}

export interface ShotOutcome extends ReloadShot {
  t: number
  roundTripMs: number
  /** ms from the request to the first client response carrying the new X-Version; null if none came. */
  visibleMs: number | null
  /** Tracer responses due between this reload and the next, and how many carried `tag`. */
  tracerAnswers: number
  tracerOnTag: number
}

export interface ReloadRun {
  origin: number
  shots: ShotOutcome[]
  load: LoadDigest
  sent: number
  tracer: { requests: number; failed: number; statuses: Record<string, number> }
  reloadsApplied: number
  reloadsRejected: number
  series: { p99: Point[]; completed: Point[]; versions: Record<string, Point[]> }
}

export interface ReloadInput {
  origin: number
  shots: ReloadShot[]
  records: TraceRecord[]
  samples: PollSample[]
  loadStartedAt: string
  load: LoadDigest
  sent: number
}

export function analyzeReload(x: ReloadInput): ReloadRun {
  const { origin, records } = x
  const byEnd = [...records].sort((a, b) => a.end - b.end)
  const shots: ShotOutcome[] = x.shots.map((s, i) => {
    const next = x.shots[i + 1]?.at ?? Infinity
    const first = s.broken ? undefined : byEnd.find((r) => r.due >= s.at && r.headers?.['x-version'] === s.tag)
    // Answers to requests sent after the reload answered, until the next reload: all should carry `tag`.
    const window = records.filter((r) => r.due >= s.doneAt && r.due < next && r.status !== 0)
    return {
      ...s, t: secondsSince(origin, s.at), roundTripMs: s.doneAt - s.at, visibleMs: first === undefined ? null : Math.round(first.end - s.at),
      tracerAnswers: window.length, tracerOnTag: window.filter((r) => r.headers?.['x-version'] === s.tag).length,
    }
  })
  const versions: Record<string, Point[]> = {}
  const bins = new Map<string, Map<number, number>>()
  for (const r of records) {
    const v = r.headers?.['x-version'] ?? (r.status === 0 ? 'failed' : `status ${r.status}`)
    const sec = Math.floor((r.end - origin) / 1000)
    let b = bins.get(v)
    if (b === undefined) bins.set(v, b = new Map())
    b.set(sec, (b.get(sec) ?? 0) + 1)
  }
  for (const [v, b] of bins) versions[v] = [...b].sort((p, q) => p[0] - q[0]).map(([t, value]) => ({ t, value }))
  const statuses: Record<string, number> = {}
  for (const r of records) { const k = r.status === 0 ? (r.error ?? 'error') : String(r.status); statuses[k] = (statuses[k] ?? 0) + 1 }
  const series = loadSeriesOnTimeline(x.load.series, x.loadStartedAt, origin)
  const reads = (k: string) => readings(x.samples, k)
  const first = x.samples[0]?.at ?? 0, last = x.samples[x.samples.length - 1]?.at ?? 0
  return {
    origin, shots, load: x.load, sent: x.sent,
    tracer: { requests: records.length, failed: records.filter((r) => r.status === 0 || r.status >= 500).length, statuses },
    reloadsApplied: Math.round(counterDelta(reads('gw.reloadsApplied'), first, last)),
    reloadsRejected: Math.round(counterDelta(reads('gw.reloadsRejected'), first, last)),
    series: {
      p99: series.filter((s) => s.completed > 0).map((s) => ({ t: s.t, value: s.p99Ms })),
      completed: series.map((s) => ({ t: s.t, value: s.completed })),
      versions,
    },
  }
}

export function reloadChecks(r: ReloadRun): Check[] {
  const good = r.shots.filter((s) => !s.broken)
  const broken = r.shots.filter((s) => s.broken)
  const dropped = r.sent - r.load.completed
  const slowest = Math.max(...good.map((s) => s.roundTripMs))
  const visible = good.map((s) => s.visibleMs ?? Infinity)
  return [
    {
      what: 'no dropped or failed request under reloads (load + tracer)',
      verdict: verdict(r.load.errors === 0 && dropped === 0 && r.tracer.failed === 0),
      measured: `${r.sent} sent, ${r.load.completed} answered, ${r.load.errors} errors; tracer ${r.tracer.failed} failed of ${r.tracer.requests}`,
    },
    {
      what: 'every valid reload applied in < 1 s (admin round trip)',
      verdict: verdict(good.length > 0 && good.every((s) => s.applied && s.roundTripMs < 1000)),
      measured: `slowest ${slowest} ms; gw's own figures ${good.map((s) => `${num(s.adminMs)}`).join(', ')} ms`,
    },
    {
      what: 'clients see the new version < 1 s after the reload request',
      verdict: verdict(good.length > 0 && visible.every((v) => v < 1000)),
      measured: `${good.map((s) => (s.visibleMs === null ? 'never' : `${s.visibleMs} ms`)).join(', ')}`,
    },
    {
      what: 'a broken policy is refused (422) and the previous version keeps serving',
      verdict: verdict(broken.length === 0 ? null : broken.every((s) => s.status === 422 && !s.applied && s.routeProbe === 200 && s.tracerOnTag === s.tracerAnswers)),
      measured: broken.map((s) => `reload ${s.index}: ${s.status}, ${s.tracerOnTag}/${s.tracerAnswers} answers still ${s.tag}, its /${s.tag} route ${s.routeProbe}`).join('; '),
    },
  ]
}

export function reloadMarkdown(r: ReloadResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config, x = r.run
  const out = headerMarkdown(r, 'gwp hot reload under load', [
    `gw serves a policy file that is rewritten and reloaded (\`POST /config/reload\`) every ${c.everyS} s, ${c.reloads} times, under a steady ` +
    `${c.rate} req/s open-model load (testkit/load) on \`/api/…\`. Each version tags responses \`X-Version: v<n>\`, changes the route timeout, adds a route ` +
    '`/v<n>` and drops the previous one; every other version moves `/api` to another upstream (new pools; the old ones close when idle). ' +
    `Reload${c.brokenAt.length > 1 ? 's' : ''} ${c.brokenAt.join(', ')} write${c.brokenAt.length > 1 ? '' : 's'} a policy that does not compile. A tracer ` +
    `(${c.tracerRate} req/s) records which version answered each of its requests.`,
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Reloads', '')
  out.push(mdTable(['#', 'at', 'policy', 'answer', 'round trip ms', 'gw ms', 'first client response with it', 'answers until the next reload on that version', 'its route'],
    x.shots.map((s) => [s.index, `${s.t.toFixed(1)} s`, s.broken ? `broken (${s.error ?? ''})` : s.tag, `${s.status}${s.applied ? ' applied' : ' refused'}`,
      s.roundTripMs, num(s.adminMs), s.broken ? '—' : s.visibleMs === null ? 'never' : `${s.visibleMs} ms`, `${s.tracerOnTag}/${s.tracerAnswers} on ${s.tag}`,
      `/${s.tag} → ${s.routeProbe}`])), '')
  out.push(`gw counted ${x.reloadsApplied} applied and ${x.reloadsRejected} rejected reloads (\`gw_reloads_total\`).`, '')
  out.push('## Load', '')
  out.push(mdTable(['requests sent', 'answered', 'errors', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'statuses', 'tracer statuses'],
    [[x.sent, x.load.completed, x.load.errors, num(x.load.latencyMs.p50), num(x.load.latencyMs.p99), num(x.load.latencyMs.p999), num(x.load.latencyMs.max),
      Object.entries(x.load.statuses).map(([k, n]) => `${k}: ${n}`).join(', '), Object.entries(x.tracer.statuses).map(([k, n]) => `${k}: ${n}`).join(', ')]]), '')
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function reloadCharts(r: ReloadResult): { name: string; spec: TopLevelSpec }[] {
  const x = r.run
  const rows: TimelineRow[] = [...toRows('p99', 'load p99/s', x.series.p99), ...toRows('rps', 'load answered/s', x.series.completed)]
  const order = Object.keys(x.series.versions).sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)))
  for (const v of order) rows.push(...toRows('versions', v, x.series.versions[v]))
  return [{
    name: 'timeline',
    spec: timelineSpec(rows, {
      title: 'hot reload under load: latency, throughput and the version that answered',
      seriesOrder: ['load p99/s', 'load answered/s', ...order],
      events: x.shots.map((s) => ({ t: s.t, label: s.broken ? 'broken' : s.tag })),
      panels: [
        { id: 'p99', title: 'p99 per second (ms, log)', log: true },
        { id: 'rps', title: 'answered req/s' },
        { id: 'versions', title: 'tracer answers/s by X-Version' },
      ],
      xTitle: 'seconds since the load started',
    }),
  }]
}
