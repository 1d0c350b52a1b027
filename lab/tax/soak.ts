// lab/tax/soak.ts: the sustained run at the ceiling (the full flavour's ≥ 10 minutes) cut into back-to-back
// windows, each with its own cost reading, so a leak shows as a trend: fd count and V8 heap must stay flat.
import { measure, type LoadSpec, type MeasureContext, type MeasureTarget, type RunRecord } from '../harness/measure.js'
import { median } from '../harness/stats.js'

export interface SoakWindow {
  /** Seconds since the soak began (start of the window). */
  t: number
  rps: number
  p99Ms: number
  errors: number
  cpuUsPerRequest: number | null
  fds: number | null
  heapUsedMB: number | null
  rssMB: number | null
  upstreamConnections: number
}

export interface FlatCheck { pass: boolean; first: number; last: number; min: number; max: number; text: string }

export interface SoakResult {
  target: string
  durationS: number
  windows: SoakWindow[]
  fds: FlatCheck
  heap: FlatCheck
  rss: FlatCheck
  summary: string
}

/** Allowed drift: fds may move by a few (sockets closing as a window ends); heap by 20% or 8 MB, whichever is larger. */
const FD_SLACK = 8
const HEAP_SLACK_SHARE = 0.2
const HEAP_SLACK_MB = 8

/**
 * Flatness of a series: the median of its last third against the median of its first third (after the first
 * window, which carries the warm-up), so one noisy window neither passes nor fails it.
 */
export function flatCheck(values: number[], slack: (first: number) => number, unit: string): FlatCheck {
  const v = values.filter((x) => Number.isFinite(x))
  const body = v.length > 3 ? v.slice(1) : v
  const third = Math.max(1, Math.floor(body.length / 3))
  const first = median(body.slice(0, third))
  const last = median(body.slice(-third))
  const pass = v.length > 0 && last - first <= slack(first)
  const r1 = (x: number): number => Math.round(x * 10) / 10
  return {
    pass, first: r1(first), last: r1(last), min: r1(Math.min(...v)), max: r1(Math.max(...v)),
    text: `${r1(first)} → ${r1(last)} ${unit} (first third → last third; range ${r1(Math.min(...v))}–${r1(Math.max(...v))})${pass ? '' : ' — GROWING'}`,
  }
}

export function soakVerdict(target: string, windows: SoakWindow[]): SoakResult {
  const fds = flatCheck(windows.map((w) => w.fds ?? NaN), () => FD_SLACK, 'fds')
  const heap = flatCheck(windows.map((w) => w.heapUsedMB ?? NaN), (f) => Math.max(HEAP_SLACK_MB, f * HEAP_SLACK_SHARE), 'MB heap used')
  const rss = flatCheck(windows.map((w) => w.rssMB ?? NaN), (f) => Math.max(32, f * 0.25), 'MB RSS')
  const durationS = windows.length === 0 ? 0 : Math.round(windows[windows.length - 1].t - windows[0].t)
  const summary = `${target} at the ceiling for ${windows.length} windows: fds ${fds.pass ? 'flat' : 'GROWING'} (${fds.text}); ` +
    `heap ${heap.pass ? 'flat' : 'GROWING'} (${heap.text}); RSS ${rss.text}`
  return { target, durationS, windows, fds, heap, rss, summary }
}

export function windowOf(r: RunRecord, soakStartS: number): SoakWindow {
  return {
    t: Math.round((r.startS - soakStartS) * 10) / 10,
    rps: r.load.rps,
    p99Ms: r.load.latencyMs.p99,
    errors: r.load.errors,
    cpuUsPerRequest: r.proxy?.cpuUsPerRequest ?? null,
    fds: r.proxy?.fdsEnd ?? null,
    heapUsedMB: r.proxy?.heapUsedEndBytes == null ? null : Math.round(r.proxy.heapUsedEndBytes / 1e5) / 10,
    rssMB: r.proxy == null ? null : Math.round(r.proxy.rssEndBytes / 1e5) / 10,
    upstreamConnections: r.upstream.connectionsOpened,
  }
}

/** Runs the soak: back-to-back windows of `windowMs` at the closed-model ceiling load, for `durationMs` in all. */
export async function runSoak(target: MeasureTarget, spec: LoadSpec, durationMs: number, windowMs: number, ctx: MeasureContext,
  log: (s: string) => void): Promise<{ result: SoakResult; records: RunRecord[] }> {
  const n = Math.max(3, Math.round(durationMs / windowMs))
  const records: RunRecord[] = []
  for (let i = 0; i < n; i++) {
    const r = await measure('soak', i, target, { ...spec, durationMs: windowMs, warmupMs: i === 0 ? spec.warmupMs : 0 }, ctx)
    records.push(r)
    const w = windowOf(r, records[0].startS)
    log(`  soak ${i + 1}/${n}: ${Math.round(w.rps)} req/s, p99 ${w.p99Ms} ms, fds ${w.fds}, heap ${w.heapUsedMB} MB, rss ${w.rssMB} MB`)
  }
  return { result: soakVerdict(target.name, records.map((r) => windowOf(r, records[0].startS))), records }
}
