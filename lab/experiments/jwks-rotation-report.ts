// lab/experiments/jwks-rotation-report.ts: what the rotation run shows — p99 per second around the rotation,
// the switch and the retirement against the steady state, JWKS fetches seen by the IdP and by gw (each dated to
// within a scrape), whether the new key's first tokens cost an unknown-kid fetch, and how old-key tokens ended
// (200 until the refresh after retirement, then 401 and nothing else) — with the checks, markdown and charts.
import type { TopLevelSpec } from 'vega-lite'
import type { LoadDigest } from '../harness/measure.js'
import { mdTable, num } from '../harness/markdown.js'
import { parseDuration } from '../../testkit/load/duration.js'
import { timelineSpec, toRows } from './charts.js'
import type { RotationConfig, RotationResult, RotationSchedule } from './jwks-rotation.js'
import { quantile } from '../harness/stats.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import { increases, loadSeriesOnTimeline, readings, secondsSince, spikeAround, type Point, type PollSample, type SpikeCheck } from './timeline.js'
import type { TraceRecord } from './tracer.js'

export interface OldKeyOutcome {
  /** Statuses of old-key requests due before / after the retirement. */
  before: Record<string, number>
  after: Record<string, number>
  /** ms from the retirement to the first 401, and to the last 200 after it. */
  firstRejectMs: number | null
  lastOkMs: number | null
  /** After the first 401, every old-key answer was a 401 (no flapping back to 200). */
  steadyAfterFirstReject: boolean
  /** Answers that were neither 200 nor 401 (5xx, transport errors): a clean failure has none. */
  unclean: number
}

export interface RotationRun {
  origin: number
  oldKid: string
  newKid: string
  events: { t: number; what: string }[]
  phases: { id: string; startS: number; endS: number; load: LoadDigest }[]
  p99: Point[]
  spikes: Record<string, SpikeCheck & { p90Ms: number }>
  idp: { fetches: number; expectedBackground: number; fetchTimesS: number[] }
  gw: { fetchTimesS: number[] }
  /** A gw JWKS fetch between the switch to new-key tokens and 1.5 s later (the unknown-kid path), else a background refresh had already brought the key. */
  unknownKidFetch: boolean
  oldKey: OldKeyOutcome
  oldKeySeries: { ok: Point[]; rejected: Point[] }
}

export interface RotationInput {
  config: RotationConfig
  schedule: RotationSchedule
  origin: number
  oldKid: string
  newKid: string
  events: { at: number; what: string }[]
  samples: PollSample[]
  idpSamples: PollSample[]
  idpFetchesTotal: number
  records: TraceRecord[]
  phases: { id: string; startS: number; endS: number; loadStartedAt: string; load: LoadDigest }[]
}

const tally = (rs: TraceRecord[]): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const r of rs) { const k = r.status === 0 ? (r.error ?? 'error') : String(r.status); out[k] = (out[k] ?? 0) + 1 }
  return out
}

/** How old-key requests ended relative to the retirement (wall ms). */
export function oldKeyOutcome(records: readonly TraceRecord[], retireAt: number): OldKeyOutcome {
  const sorted = [...records].sort((a, b) => a.end - b.end)
  const after = sorted.filter((r) => r.due >= retireAt)
  const firstReject = after.find((r) => r.status === 401)
  const oks = after.filter((r) => r.status === 200)
  return {
    before: tally(sorted.filter((r) => r.due < retireAt)),
    after: tally(after),
    firstRejectMs: firstReject === undefined ? null : Math.round(firstReject.end - retireAt),
    lastOkMs: oks.length === 0 ? null : Math.round(oks[oks.length - 1].end - retireAt),
    steadyAfterFirstReject: firstReject === undefined ? false : after.filter((r) => r.end > firstReject.end).every((r) => r.status === 401),
    unclean: sorted.filter((r) => r.status !== 200 && r.status !== 401).length,
  }
}

export function analyzeRotation(x: RotationInput): RotationRun {
  const { origin } = x
  const ev = (what: string): number => x.events.find((e) => e.what === what)?.at ?? NaN
  const p99 = x.phases.flatMap((p) => loadSeriesOnTimeline(p.load.series, p.loadStartedAt, origin)
    .filter((s) => s.t < p.endS && s.completed > 0).map((s) => ({ t: s.t, value: s.p99Ms })))
  const events = x.events.map((e) => ({ t: secondsSince(origin, e.at), what: e.what }))
  const spikes: Record<string, SpikeCheck & { p90Ms: number }> = {}
  for (const e of events) {
    const others = p99.filter((p) => Math.abs(p.t - e.t) > 2).map((p) => p.value)
    spikes[e.what] = { ...spikeAround(p99, e.t, 2), p90Ms: quantile(others, 0.9) }
  }
  const gwFetches = increases(readings(x.samples, 'gw.jwksFetchOk'))
  const switchAt = ev('switch')
  const everyMs = x.schedule.everyMs
  const perSecond = (pred: (r: TraceRecord) => boolean): Point[] => {
    const bins = new Map<number, number>()
    for (const r of x.records) { const s = Math.floor((r.end - origin) / 1000); bins.set(s, (bins.get(s) ?? 0) + (pred(r) ? 1 : 0)) }
    return [...bins].sort((a, b) => a[0] - b[0]).map(([t, value]) => ({ t, value }))
  }
  return {
    origin, oldKid: x.oldKid, newKid: x.newKid, events,
    phases: x.phases.map(({ loadStartedAt: _s, ...p }) => p),
    p99, spikes,
    idp: {
      fetches: x.idpFetchesTotal,
      expectedBackground: Math.ceil((x.schedule.endS * 1000) / everyMs),
      fetchTimesS: increases(readings(x.idpSamples, 'idp.fetches')).map((f) => secondsSince(origin, f.seen)),
    },
    gw: { fetchTimesS: gwFetches.map((f) => secondsSince(origin, f.seen)) },
    unknownKidFetch: gwFetches.some((f) => f.seen >= switchAt && f.before <= switchAt + 1500),
    oldKey: oldKeyOutcome(x.records, ev('retire')),
    oldKeySeries: { ok: perSecond((r) => r.status === 200), rejected: perSecond((r) => r.status === 401) },
  }
}

/**
 * A spike: the worst second near the event above max(2 × the steady median, steady + 5 ms) and above 90% of the
 * run's other seconds (`p90Ms`, when given): a second no worse than the machine's ordinary bad seconds is noise.
 */
export const isSpike = (s: SpikeCheck & { p90Ms?: number }): boolean => s.nearMs > Math.max(2 * s.steadyMs, s.steadyMs + 5, s.p90Ms ?? 0)

export function rotationChecks(r: RotationRun): Check[] {
  const errors = r.phases.reduce((n, p) => n + p.load.errors, 0)
  const everyS = r.idp.expectedBackground
  const spike = (what: string): Check => {
    const s = r.spikes[what]
    return {
      what: `p99 shows no spike at the ${what} (worst second within ±2 s ≤ max(2 × steady, steady + 5 ms, the run's 90th-percentile second))`,
      verdict: verdict(s === undefined ? null : !isSpike(s)),
      measured: s === undefined ? 'no such event' : `${num(s.nearMs)} ms near it, steady ${num(s.steadyMs)} ms, 90% of seconds ≤ ${num(s.p90Ms)} ms`,
    }
  }
  const o = r.oldKey
  return [
    spike('rotate'), spike('switch'), spike('retire'),
    { what: 'every request of the steady and new-key load answered 2xx', verdict: verdict(errors === 0), measured: `${errors} errors` },
    { what: `IdP fetches ≤ a handful: the background refreshes of the run (${everyS}) + 2`, verdict: verdict(r.idp.fetches <= everyS + 2), measured: `${r.idp.fetches} fetches` },
    {
      what: 'old-key tokens fail cleanly once retired: 401 after the next refresh, never 200 again, no other status',
      verdict: verdict(o.firstRejectMs !== null && o.steadyAfterFirstReject && o.unclean === 0),
      measured: `first 401 ${o.firstRejectMs === null ? 'never' : `${(o.firstRejectMs / 1000).toFixed(1)} s`} after retirement, last 200 ${o.lastOkMs === null ? '—' : `${(o.lastOkMs / 1000).toFixed(1)} s`} after, other statuses ${o.unclean}`,
    },
  ]
}

export function rotationMarkdown(r: RotationResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config, x = r.run
  const t = (what: string): string => { const e = x.events.find((q) => q.what === what); return e === undefined ? '—' : `${e.t.toFixed(1)} s` }
  const out = headerMarkdown(r, 'gwp JWKS rotation under load', [
    `gw verifies bearer JWTs against the mock IdP (testkit/idp) with \`refresh ${c.refresh} refresh_ahead ${c.refreshAhead}\` (a background fetch every ` +
    `${(parseDuration(c.refresh) - parseDuration(c.refreshAhead)) / 1000} s), the rest at defaults. Load: ${c.rate} req/s open model; first ${c.tokens} pre-signed tokens ` +
    `over three keys (RS256, ES256, EdDSA; each token verified once in a warm-up, then served from the verified-token cache), then ${c.newTokens} tokens minted ` +
    `with the new RS256 key. A tracer sends ${c.oldKeyRate} req/s with tokens of the old RS256 key (\`${x.oldKid}\`) throughout.`,
    '',
    `Events: rotate RS256 at ${t('rotate')} (new key \`${x.newKid}\`), load switched to new-key tokens at ${t('switch')}, old key retired at ${t('retire')}. ` +
    'The rotation is placed 1 s after one of gw\'s background fetches, so the switch comes before the next one: the first new-key tokens meet a kid gw ' +
    'has not seen (the unknown-kid path: one single-flight fetch, requests wait for it), the harder case.',
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Load', '')
  out.push(mdTable(['phase', 'requests', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'statuses'], x.phases.map((p) => [p.id, p.load.completed, num(p.load.latencyMs.p50),
    num(p.load.latencyMs.p99), num(p.load.latencyMs.p999), num(p.load.latencyMs.max), Object.entries(p.load.statuses).map(([k, n]) => `${k}: ${n}`).join(', ')])), '')
  out.push(mdTable(['event', 'worst per-second p99 within ±2 s', 'steady per-second p99 (median)', 'ratio', '90th-percentile second of the rest'],
    Object.entries(x.spikes).map(([k, s]) => [k, `${num(s.nearMs)} ms`, `${num(s.steadyMs)} ms`, `${num(s.ratio)}×`, `${num(s.p90Ms)} ms`])), '')
  out.push('## JWKS fetches', '')
  out.push(`- The IdP served ${x.idp.fetches} JWKS requests during the run (background refreshes expected: ${x.idp.expectedBackground}); ` +
    `seen at ${x.idp.fetchTimesS.map((s) => `${s.toFixed(1)} s`).join(', ') || '—'} (IdP counter, polled every 500 ms).`)
  out.push(`- gw's successful fetches (\`gw_jwks_fetches_total\`, scraped every ${c.pollMs} ms) seen at ${x.gw.fetchTimesS.map((s) => `${s.toFixed(1)} s`).join(', ') || '—'}.`)
  out.push(`- The new key's first tokens ${x.unknownKidFetch ? 'triggered an unknown-kid fetch (gw fetched within 1.5 s of the switch): requests waited for it instead of failing' : 'found the key already cached (a background refresh after the rotation had brought it)'}.`, '')
  out.push('## Old-key tokens', '')
  const o = x.oldKey
  const st = (m: Record<string, number>): string => Object.entries(m).map(([k, n]) => `${k}: ${n}`).join(', ') || '—'
  out.push(`- Before retirement: ${st(o.before)}. After: ${st(o.after)}.`)
  out.push(`- First 401 ${o.firstRejectMs === null ? 'never' : `${(o.firstRejectMs / 1000).toFixed(2)} s`} after the retirement; last 200 ` +
    `${o.lastOkMs === null ? '—' : `${(o.lastOkMs / 1000).toFixed(2)} s`} after it (until then gw's cached key set still held the old key: it only learns of a ` +
    `retirement at its next fetch). After the first 401: ${o.steadyAfterFirstReject ? 'only 401s' : 'not only 401s'}; answers other than 200/401: ${o.unclean}.`, '')
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function rotationCharts(r: RotationResult): { name: string; spec: TopLevelSpec }[] {
  const x = r.run
  const rows = [
    ...toRows('p99', 'p99 per second', x.p99),
    ...toRows('old', 'old-key 200/s', x.oldKeySeries.ok), ...toRows('old', 'old-key 401/s', x.oldKeySeries.rejected),
    ...toRows('fetch', 'gw JWKS fetch', x.gw.fetchTimesS.map((t) => ({ t, value: 1 }))),
  ]
  return [{
    name: 'timeline',
    spec: timelineSpec(rows, {
      title: 'JWKS rotation under load: p99, old-key tokens, JWKS fetches',
      events: x.events.map((e) => ({ t: e.t, label: e.what })),
      panels: [
        { id: 'p99', title: 'p99 per second (ms, log)', log: true },
        { id: 'old', title: 'old-key answers /s' },
        { id: 'fetch', title: 'gw JWKS fetches', points: true, domain: [0, 1.5] },
      ],
      xTitle: 'seconds since the load started',
    }),
  }]
}
