// lab/experiments/containment-report.ts: what a containment run means — payments responses classified by who
// made them (the upstream, or gw failing fast), when the breaker opened after the switch (bracketed by two
// scrapes) and when the first fast 503 reached a client, the pile-up figures per phase, the checks, the markdown
// and the charts.
import type { TopLevelSpec } from 'vega-lite'
import type { LoadDigest } from '../harness/measure.js'
import { mdTable, num } from '../harness/markdown.js'
import { median, quantile } from '../harness/stats.js'
import { timelineSpec, toRows, type TimelineRow } from './charts.js'
import type { Reaction } from './breaker-reaction.js'
import type { ContainmentResult } from './containment.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import {
  counterDelta, firstIncrease, gaugePerSecond, loadSeriesOnTimeline, monotonic, readings, secondsSince,
  type Point, type PollSample, type Reading,
} from './timeline.js'
import type { TraceRecord } from './tracer.js'

/** Who answered a payments request: the upstream (its responses carry x-stub-replica) or gw on its own. */
export type ResponseClass = 'ok' | 'upstream_5xx' | 'gw_503' | 'gw_504' | 'gw_502' | 'transport' | 'other'
export const CLASSES: readonly ResponseClass[] = ['ok', 'upstream_5xx', 'gw_503', 'gw_504', 'gw_502', 'transport', 'other']

export function classify(r: TraceRecord): ResponseClass {
  if (r.status === 0) return 'transport'
  const fromUpstream = r.headers?.['x-stub-replica'] !== undefined
  if (fromUpstream) return r.status < 400 ? 'ok' : r.status >= 500 ? 'upstream_5xx' : 'other'
  return r.status === 503 ? 'gw_503' : r.status === 504 ? 'gw_504' : r.status === 502 ? 'gw_502' : 'other'
}

export interface PaymentsPhase { count: number; p50Ms: number; p99Ms: number; classes: Partial<Record<ResponseClass, number>> }

export interface Pileup {
  inFlightMax: number
  stubSocketsMax: number
  stubInFlightMax: number
  connectionsOpened: number
  bulkheadRejected: number
  breakerRejected: number
  breakerOpened: number
  attempts: number
  /** Fewest payments replicas in rotation (passive health ejects; 3 = none ejected). */
  healthyMin: number
}

export interface ContainmentPhase { id: string; startS: number; endS: number; catalog: LoadDigest; payments: PaymentsPhase; pileup: Pileup }

export interface ContainmentRun {
  variant: string
  round: number
  /** Wall ms of t = 0. */
  origin: number
  phases: ContainmentPhase[]
  breaker: {
    /** When payments went bad, seconds on the time line. */
    switchS: number
    /** Between the last scrape without and the first with an open transition, ms after the switch. */
    openedAfterMs: [number, number] | null
    /** First gw-made 503 on payments (no x-stub-replica) after the switch, ms. */
    firstFast503Ms: number | null
    /** First upstream 503 a client saw after the switch, ms (≈ the injected latency). */
    firstUpstreamFailureMs: number | null
  }
  series: {
    catalogP99: Point[]
    paymentsP99: Point[]
    paymentsInFlight: Point[]
    stubSockets: Point[]
    breakerState: Point[]
    upstreamAnswered: Point[]
    gwFast503: Point[]
  }
}

export interface ContainmentInput {
  variant: string
  round: number
  origin: number
  phases: { id: string; startS: number; endS: number; actionAt: number; loadStartedAt: string; load: LoadDigest }[]
  records: TraceRecord[]
  samples: PollSample[]
}

const within = (rs: Reading[], from: number, to: number): number[] => rs.filter((r) => r.at >= from && r.at <= to).map((r) => r.value)
const maxOf = (rs: Reading[], from: number, to: number): number => { const v = within(rs, from, to); return v.length === 0 ? NaN : Math.max(...v) }
const minOf = (rs: Reading[], from: number, to: number): number => { const v = within(rs, from, to); return v.length === 0 ? NaN : Math.min(...v) }

/** The median of a phase's per-second p99s: the typical second, less moved by one disturbed second than the phase's p99. */
export function typicalSecondP99(load: LoadDigest): number {
  return median(load.series.filter((s) => s.completed > 0).map((s) => s.p99Ms))
}

/** Per completion second: count of records that satisfy `pred`, and p99 latency of all. */
function perSecond(records: TraceRecord[], origin: number, pred: (r: TraceRecord) => boolean): Point[] {
  const bins = new Map<number, number>()
  for (const r of records) {
    const s = Math.floor((r.end - origin) / 1000)
    bins.set(s, (bins.get(s) ?? 0) + (pred(r) ? 1 : 0))
  }
  return [...bins].sort((a, b) => a[0] - b[0]).map(([t, value]) => ({ t, value }))
}

function p99PerSecond(records: TraceRecord[], origin: number): Point[] {
  const bins = new Map<number, number[]>()
  for (const r of records) {
    if (r.status === 0) continue
    const s = Math.floor((r.end - origin) / 1000)
    let b = bins.get(s)
    if (b === undefined) bins.set(s, b = [])
    b.push(r.ms)
  }
  return [...bins].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t, value: quantile(v, 0.99) }))
}

export function analyzeContainment(x: ContainmentInput): ContainmentRun {
  const { origin, records, samples } = x
  const r = (k: string): Reading[] => readings(samples, k)
  const counter = (k: string): Reading[] => monotonic(r(k))
  const phases: ContainmentPhase[] = x.phases.map((p) => {
    const from = origin + p.startS * 1000, to = origin + p.endS * 1000
    const mine = records.filter((q) => q.due >= from && q.due < to)
    const classes: Partial<Record<ResponseClass, number>> = {}
    for (const q of mine) { const k = classify(q); classes[k] = (classes[k] ?? 0) + 1 }
    const lat = mine.filter((q) => q.status !== 0).map((q) => q.ms)
    return {
      id: p.id, startS: p.startS, endS: p.endS, catalog: p.load,
      payments: { count: mine.length, p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99), classes },
      pileup: {
        inFlightMax: maxOf(r('payments.inFlight'), from, to),
        stubSocketsMax: maxOf(r('stub.payments.connectionsOpen'), from, to),
        stubInFlightMax: maxOf(r('stub.payments.inFlight'), from, to),
        connectionsOpened: Math.round(counterDelta(counter('payments.opened'), from, to)),
        bulkheadRejected: Math.round(counterDelta(counter('payments.bulkheadRejected'), from, to)),
        breakerRejected: Math.round(counterDelta(counter('payments.breakerRejected'), from, to)),
        breakerOpened: Math.round(counterDelta(counter('payments.breakerOpened'), from, to)),
        attempts: Math.round(counterDelta(counter('payments.attempts'), from, to)),
        healthyMin: minOf(r('payments.healthyReplicas'), from, to),
      },
    }
  })
  const bad = x.phases.find((p) => p.id === 'bad')
  const switchAt = bad?.actionAt ?? NaN
  const opened = bad === undefined ? undefined : firstIncrease(r('payments.breakerOpened'), switchAt)
  const after = records.filter((q) => q.end >= switchAt)
  const first = (cls: ResponseClass): number | null => {
    const ends = after.filter((q) => classify(q) === cls).map((q) => q.end)
    return ends.length === 0 ? null : Math.round(Math.min(...ends) - switchAt)
  }
  const catalogP99 = x.phases.flatMap((p) => loadSeriesOnTimeline(p.load.series, p.loadStartedAt, origin)
    .filter((s) => s.t < p.endS && s.completed > 0).map((s) => ({ t: s.t, value: s.p99Ms })))
  return {
    variant: x.variant, round: x.round, origin, phases,
    breaker: {
      switchS: secondsSince(origin, switchAt),
      openedAfterMs: opened === undefined ? null : [Math.round(opened.before - switchAt), Math.round(opened.seen - switchAt)],
      firstFast503Ms: first('gw_503'),
      firstUpstreamFailureMs: first('upstream_5xx'),
    },
    series: {
      catalogP99,
      paymentsP99: p99PerSecond(records, origin),
      paymentsInFlight: gaugePerSecond(r('payments.inFlight'), origin, 'max'),
      stubSockets: gaugePerSecond(r('stub.payments.connectionsOpen'), origin, 'max'),
      breakerState: r('payments.breakerState').map((q) => ({ t: secondsSince(origin, q.at), value: q.value })),
      upstreamAnswered: perSecond(records, origin, (q) => q.headers?.['x-stub-replica'] !== undefined),
      gwFast503: perSecond(records, origin, (q) => classify(q) === 'gw_503'),
    },
  }
}

/**
 * "No measurable change": the bad phase's typical second p99 within max(50%, 1 ms) of the healthy phase's, and no
 * new errors. The typical second, not the phase p99: on a shared 2-core machine one disturbed second moves a
 * phase's p99 by tens of ms either way, which would make the check pass or fail on noise.
 */
export function unchanged(baseline: LoadDigest, bad: LoadDigest): boolean {
  const base = typicalSecondP99(baseline)
  return typicalSecondP99(bad) <= Math.max(base * 1.5, base + 1) && bad.errors <= baseline.errors
}

const phase = (run: ContainmentRun, id: string): ContainmentPhase => run.phases.find((p) => p.id === id)!

export function containmentChecks(runs: ContainmentRun[], reaction?: Reaction): Check[] {
  const on = runs.filter((r) => r.variant === 'on')
  const off = runs.filter((r) => r.variant === 'off')
  if (on.length === 0) return []
  const all = <T>(xs: T[], f: (x: T) => boolean): boolean => xs.length > 0 && xs.every(f)
  const openedMax = Math.max(...on.map((r) => r.breaker.openedAfterMs?.[1] ?? Infinity))
  const fastMax = Math.max(...on.map((r) => r.breaker.firstFast503Ms ?? Infinity))
  const inflightOn = Math.max(...on.map((r) => phase(r, 'bad').pileup.inFlightMax))
  const inflightOff = off.length === 0 ? NaN : Math.max(...off.map((r) => phase(r, 'bad').pileup.inFlightMax))
  return [
    {
      what: 'breaker on: catalog unchanged while payments is bad (typical second\'s p99 ≤ max(1.5 × healthy, healthy + 1 ms), no errors)',
      verdict: verdict(all(on, (r) => unchanged(phase(r, 'baseline').catalog, phase(r, 'bad').catalog))),
      measured: on.map((r) => `typical second ${num(typicalSecondP99(phase(r, 'baseline').catalog))} → ${num(typicalSecondP99(phase(r, 'bad').catalog))} ms ` +
        `(phase p99 ${num(phase(r, 'baseline').catalog.latencyMs.p99)} → ${num(phase(r, 'bad').catalog.latencyMs.p99)} ms), errors ${phase(r, 'bad').catalog.errors}`).join('; '),
    },
    {
      what: 'breaker on: opens < 1 s after payments goes bad (gw_breaker_transitions_total{to="open"}), in the containment run' +
        (reaction === undefined ? '' : ` and in every one of ${reaction.episodes.length} switches spread over its one-second bucket`),
      verdict: verdict(openedMax < 1000 && (reaction === undefined || reaction.maxMs < 1000)),
      measured: on.map((r) => (r.breaker.openedAfterMs === null ? 'never opened' : `${r.breaker.openedAfterMs[0]}–${r.breaker.openedAfterMs[1]} ms`)).join('; ') +
        (reaction === undefined ? '' : `; over the bucket: ${reaction.minMs} / ${reaction.medianMs} / ${reaction.maxMs} ms (min / median / max, upper brackets)`),
    },
    {
      what: 'breaker on: first fast 503 (made by gw) reaches a client < 1 s after payments goes bad',
      verdict: verdict(fastMax < 1000),
      measured: on.map((r) => (r.breaker.firstFast503Ms === null ? 'none' : `${r.breaker.firstFast503Ms} ms`)).join('; '),
    },
    {
      what: `breaker on: no pile-up on payments (in-flight max ≤ the bulkhead's 64 and below the breaker-off run's)`,
      verdict: verdict(inflightOn <= 64 && (!Number.isFinite(inflightOff) || inflightOn < inflightOff)),
      measured: `in-flight max ${num(inflightOn)} with the breaker on, ${num(inflightOff)} off`,
    },
  ]
}

const classText = (c: Partial<Record<ResponseClass, number>>): string =>
  CLASSES.filter((k) => (c[k] ?? 0) > 0).map((k) => `${k} ${c[k]}`).join(', ') || '—'

export function containmentMarkdown(r: ContainmentResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config
  const label = (id: string): string => r.variants.find((v) => v.id === id)?.label ?? id
  const out = headerMarkdown(r, 'gwp slow upstream containment', [
    `One gw with two upstreams of 3 stub replicas each. \`catalog\` answers in 1–4 ms throughout and is driven at ${c.catalogRate} req/s ` +
    `(open model, testkit/load); \`payments\` is driven at ${c.paymentsRate} req/s by a tracer that keeps every response. Both routes have a 2 s timeout. ` +
    `Timeline per variant: ${c.baselineMs / 1000} s healthy (payments ${JSON.stringify(r.rules.healthy[0].latency)}), then ${c.badMs / 1000} s bad ` +
    `(stub rules switched at runtime: latency ${JSON.stringify(r.rules.bad[0].latency)}, 30% 503), then ${c.recoveryMs / 1000} s healthy again.`,
    '',
    `Variants: ${r.variants.map((v) => `**${v.id}** = ${v.label}`).join('; ')}. Passive health is inert (1,000 failures to eject) in \`off\` and \`on\` ` +
    'so the breaker is measured alone. A payments response carrying `x-stub-replica` came from the upstream; one without it was made by gw ' +
    '(a 503 from the breaker, the bulkhead or no replica in rotation). gw\'s /metrics and the stub\'s counters were scraped every ' +
    `${c.pollMs} ms; "breaker opened" is bracketed by the last scrape without and the first with an open transition.`,
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Catalog (the bystander)', '')
  out.push(mdTable(['variant', 'round', 'p99 healthy ms', 'p99 payments bad ms', 'p99 recovered ms', 'typical second\'s p99 (healthy / bad / recovered) ms', 'p50 (healthy / bad) ms', 'errors (healthy / bad / recovered)', 'req/s bad'],
    r.runs.map((x) => [label(x.variant), x.round + 1, num(phase(x, 'baseline').catalog.latencyMs.p99), num(phase(x, 'bad').catalog.latencyMs.p99),
      num(phase(x, 'recovery').catalog.latencyMs.p99), x.phases.map((p) => num(typicalSecondP99(p.catalog))).join(' / '),
      `${num(phase(x, 'baseline').catalog.latencyMs.p50)} / ${num(phase(x, 'bad').catalog.latencyMs.p50)}`,
      x.phases.map((p) => p.catalog.errors).join(' / '), num(phase(x, 'bad').catalog.rps)])), '')
  out.push('"Typical second\'s p99" is the median of the phase\'s per-second p99s: one disturbed second (a GC pause, another process taking the CPU) ' +
    'moves the phase p99 but not it.', '')
  out.push('## Payments while bad, and the breaker', '')
  out.push(mdTable(['variant', 'round', 'requests', 'p50 ms', 'p99 ms', 'answers', 'breaker opened after', 'first fast 503', 'first upstream 503'],
    r.runs.map((x) => {
      const b = phase(x, 'bad')
      return [x.variant, x.round + 1, b.payments.count, num(b.payments.p50Ms), num(b.payments.p99Ms), classText(b.payments.classes),
        x.breaker.openedAfterMs === null ? '—' : `${x.breaker.openedAfterMs[0]}–${x.breaker.openedAfterMs[1]} ms`,
        x.breaker.firstFast503Ms === null ? '—' : `${x.breaker.firstFast503Ms} ms`, x.breaker.firstUpstreamFailureMs === null ? '—' : `${x.breaker.firstUpstreamFailureMs} ms`]
    })), '')
  if (r.reaction !== undefined) {
    const q = r.reaction
    out.push(`### Breaker reaction time over its bucket`, '')
    out.push(`A gw with the breaker alone (no bulkhead); payments bad for ${q.config.badS} s, ${q.episodes.length} times, every ${q.config.periodS} s ` +
      `(the breaker closes in between), each switch ${q.config.shiftS} s later in the breaker's one-second bucket (phase ≈ seconds since gw loaded, modulo 1; ` +
      `gw\'s /metrics scraped every ${q.config.pollMs} ms). Time to open: ${q.minMs} / ${q.medianMs} / ${q.maxMs} ms (min / median / max, upper brackets).`, '')
    out.push(mdTable(['switch at bucket phase', 'breaker opened after', 'first fast 503 after'], q.episodes.map((e) => [`${e.bucketPhaseS.toFixed(2)} s`,
      e.openedAfterMs === null ? 'never' : `${e.openedAfterMs[0]}–${e.openedAfterMs[1]} ms`, e.firstFast503Ms === null ? '—' : `${e.firstFast503Ms} ms`])), '')
  }
  out.push('The breaker opens when the failure share reaches `error_ratio` with at least `min_requests` answers, judged over the 10 s window and ' +
    'over the shortest recent span of the last second that holds `min_requests` (100 ms buckets; runtime/upstream/breaker.ts). Before that short ' +
    'span it judged the current one-second bucket, and a switch late in a bucket waited for the next one: 273 / 560 / 945 ms over the bucket ' +
    '(2026-11-29T0331Z-containment-quick). The phase sweep above checks it no longer depends on where in a second the failure starts. The ' +
    'upstream\'s own latency before its first 503s (the last column of the first table) is part of the time to open.', '')
  for (const x of r.runs) {
    const ej = x.phases.filter((p) => p.pileup.healthyMin === 0).map((p) => p.id)
    if (ej.length > 0) {
      out.push(`- ${x.variant} (round ${x.round + 1}): passive health took every payments replica out of rotation (phases: ${ej.join(', ')}); ` +
        `from then on gw failed fast${x.phases.some((p) => p.id === 'recovery' && p.pileup.healthyMin === 0 && p.pileup.attempts === 0)
          ? ', and payments stayed unavailable through the recovery phase: the 30 s ejection outlasts the outage and nothing (no active health check) brings a replica back sooner'
          : ''}.`)
    }
  }
  out.push('')
  out.push('## Pile-up on payments (per phase: healthy / bad / recovered)', '')
  out.push(mdTable(['variant', 'round', 'gw in-flight max', 'upstream sockets open max', 'upstream in-flight max', 'connections opened', 'attempts', 'bulkhead rejected', 'breaker rejected', 'breaker openings', 'replicas in rotation (min)'],
    r.runs.map((x) => {
      const f = (k: keyof Pileup): string => x.phases.map((p) => num(p.pileup[k])).join(' / ')
      return [x.variant, x.round + 1, f('inFlightMax'), f('stubSocketsMax'), f('stubInFlightMax'), f('connectionsOpened'), f('attempts'), f('bulkheadRejected'), f('breakerRejected'), f('breakerOpened'), f('healthyMin')]
    })), '')
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function containmentCharts(r: ContainmentResult): { name: string; spec: TopLevelSpec }[] {
  const series = (x: ContainmentRun): string => (x.round === 0 ? x.variant : `${x.variant} (round ${x.round + 1})`)
  const order = r.runs.map(series)
  const first = r.runs[0]
  const events = first === undefined ? [] : [
    { t: phase(first, 'bad').startS, label: 'payments goes bad' }, { t: phase(first, 'recovery').startS, label: 'payments recovers' },
  ]
  const rows: TimelineRow[] = []
  const rows2: TimelineRow[] = []
  for (const x of r.runs) {
    const s = series(x)
    rows.push(...toRows('catalog', s, x.series.catalogP99), ...toRows('inflight', s, x.series.paymentsInFlight),
      ...toRows('sockets', s, x.series.stubSockets), ...toRows('breaker', s, x.series.breakerState))
    rows2.push(...toRows('answered', s, x.series.upstreamAnswered), ...toRows('fast', s, x.series.gwFast503), ...toRows('p99', s, x.series.paymentsP99))
  }
  return [
    {
      name: 'timeline',
      spec: timelineSpec(rows, {
        title: 'slow upstream containment: catalog p99 and payments pile-up, per variant', seriesOrder: order, events,
        xTitle: 'seconds since the variant\'s load started',
        panels: [
          { id: 'catalog', title: 'catalog p99 per second (ms, log)', log: true },
          { id: 'inflight', title: 'payments in flight in gw (max/s)' },
          { id: 'sockets', title: 'sockets open at payments (max/s)' },
          { id: 'breaker', title: 'breaker: 0 closed, 1 half-open, 2 open', step: true, domain: [0, 2] },
        ],
      }),
    },
    {
      name: 'payments',
      spec: timelineSpec(rows2, {
        title: 'payments responses per second: answered by the upstream vs failed fast by gw', seriesOrder: order, events,
        xTitle: 'seconds since the variant\'s load started',
        panels: [
          { id: 'answered', title: 'answered by payments /s' },
          { id: 'fast', title: 'fast 503 made by gw /s' },
          { id: 'p99', title: 'payments p99 per second (ms, log)', log: true },
        ],
      }),
    },
  ]
}
