// lab/experiments/retry-storm-report.ts: the retry storm's figures — per phase, client requests against
// upstream attempts (gw's counter) and requests the upstream received (the stub's), their ratio (the
// amplification), retries sent and refused by the budget, the breaker's fast failures — the checks, the
// markdown and the charts (upstream req/s against client req/s over time).
import type { TopLevelSpec } from 'vega-lite'
import type { LoadDigest } from '../harness/measure.js'
import { mdTable, num } from '../harness/markdown.js'
import { timelineSpec, toRows, type TimelineRow } from './charts.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import type { DeadMode, StormResult } from './retry-storm.js'
import { amplification, counterDelta, firstIncrease, loadSeriesOnTimeline, monotonic, ratePerSecond, readings, type Point, type PollSample, type Reading } from './timeline.js'

export interface StormPhase {
  id: string
  startS: number
  endS: number
  load: LoadDigest
  clientSent: number
  /** Upstream attempts gw made in the phase (gw_upstream_requests_total, every outcome). */
  attempts: number
  /** Requests the stub counted; null when it was not listening for part of the phase. */
  stubRequests: number | null
  amplification: number
  retries: number
  budgetDenied: number
  breakerRejected: number
  breakerOpened: number
}

export interface StormRun {
  variant: string
  mode: DeadMode
  round: number
  origin: number
  phases: StormPhase[]
  /** When the breaker first opened after the upstream died, bracketed by two scrapes (ms after the action began); null without one. */
  breakerOpenedAfterMs: [number, number] | null
  series: { clientSent: Point[]; attempts: Point[]; stubRequests: Point[]; amplification: Point[] }
}

export interface StormInput {
  variant: string
  mode: DeadMode
  round: number
  origin: number
  samples: PollSample[]
  phases: { id: string; startS: number; endS: number; actionAt: number; actionDoneAt: number; loadStartedAt: string; load: LoadDigest }[]
}

/**
 * A counter's growth over [from, to] when the readings cover the whole window — one within `slackMs` of each end
 * and no gap longer than `slackMs` between them — else null: across a gap (the process was down, then restarted)
 * interpolation would spread the next life's counts over the outage.
 */
export function coveredDelta(rs: readonly Reading[], from: number, to: number, slackMs = 600): number | null {
  const inside = rs.filter((r) => r.at >= from - slackMs && r.at <= to + slackMs)
  if (inside.length === 0 || inside[0].at > from + slackMs || inside[inside.length - 1].at < to - slackMs) return null
  for (let i = 1; i < inside.length; i++) if (inside[i].at - inside[i - 1].at > slackMs) return null
  return counterDelta(rs, from, to)
}

/** Per-second ratio of two per-second series (same seconds only; seconds where the denominator is 0 are left out). */
export function ratioSeries(num: readonly Point[], den: readonly Point[]): Point[] {
  const d = new Map(den.map((p) => [p.t, p.value]))
  const out: Point[] = []
  for (const p of num) {
    const y = d.get(p.t)
    if (y !== undefined && y > 0) out.push({ t: p.t, value: Math.round((p.value / y) * 100) / 100 })
  }
  return out
}

/** Every request a load run sent ends as a response (any status) or a transport error / timeout. */
export const clientRequests = (l: LoadDigest): number => l.completed + Object.values(l.errorKinds).reduce((a, b) => a + b, 0)

export function analyzeStorm(x: StormInput): StormRun {
  const { origin, samples } = x
  const counter = (k: string): Reading[] => monotonic(readings(samples, k))
  const attempts = counter('storm.attempts')
  const stub = counter('stub.storm.requests')
  const phases: StormPhase[] = x.phases.map((p) => {
    const from = p.actionDoneAt, to = origin + p.endS * 1000
    const d = (k: string): number => Math.round(counterDelta(counter(k), from, to))
    const att = Math.round(counterDelta(attempts, from, to))
    const st = coveredDelta(stub, from, to)
    const sent = clientRequests(p.load)
    return {
      id: p.id, startS: p.startS, endS: p.endS, load: p.load, clientSent: sent, attempts: att,
      stubRequests: st === null ? null : Math.round(st), amplification: amplification(att, sent),
      retries: d('storm.retries'), budgetDenied: d('storm.budgetDenied'), breakerRejected: d('storm.breakerRejected'), breakerOpened: d('storm.breakerOpened'),
    }
  })
  const fromS = Math.min(...x.phases.map((p) => p.startS)), toS = Math.max(...x.phases.map((p) => p.endS))
  const clientSent: Point[] = x.phases.flatMap((p) => loadSeriesOnTimeline(p.load.series, p.loadStartedAt, origin)
    .filter((s) => s.t + 1 <= p.endS + 0.05).map((s) => ({ t: Math.round(s.t), value: s.sent })))
  const att = ratePerSecond(attempts, origin, fromS, toS)
  const deadAt = x.phases.find((p) => p.id === 'dead')?.actionAt ?? NaN
  const opened = firstIncrease(readings(samples, 'storm.breakerOpened'), deadAt)
  return {
    variant: x.variant, mode: x.mode, round: x.round, origin, phases,
    breakerOpenedAfterMs: opened === undefined ? null : [Math.round(opened.before - deadAt), Math.round(opened.seen - deadAt)],
    series: { clientSent, attempts: att, stubRequests: x.mode === '503' ? ratePerSecond(stub, origin, fromS, toS) : [], amplification: ratioSeries(att, clientSent) },
  }
}

const phase = (r: StormRun, id: string): StormPhase => r.phases.find((p) => p.id === id)!

export function stormChecks(runs: StormRun[]): Check[] {
  const of = (v: string): StormRun[] => runs.filter((r) => r.variant === v)
  const amp = (rs: StormRun[]): string => rs.map((r) => `${r.mode}: ${phase(r, 'dead').amplification.toFixed(2)}×`).join(', ')
  const safe = of('safe'), naive = of('naive')
  return [
    {
      what: 'safe configuration: amplification while the upstream is dead ≤ 1.1 (retry budget 10%, breaker)',
      verdict: verdict(safe.length === 0 ? null : safe.every((r) => phase(r, 'dead').amplification <= 1.1)),
      measured: amp(safe),
    },
    {
      what: 'naive configuration: the storm happens (amplification ≥ 3 of the 4 attempts allowed)',
      verdict: verdict(naive.length === 0 ? null : naive.every((r) => phase(r, 'dead').amplification >= 3)),
      measured: amp(naive),
    },
    {
      what: 'both: amplification ≈ 1 while the upstream is healthy (≤ 1.05)',
      verdict: verdict(runs.length === 0 ? null : runs.every((r) => phase(r, 'healthy').amplification <= 1.05)),
      measured: runs.map((r) => `${r.variant}/${r.mode}: ${phase(r, 'healthy').amplification.toFixed(2)}×`).join(', '),
    },
  ]
}

export function stormMarkdown(r: StormResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config
  const out = headerMarkdown(r, 'gwp retry storm', [
    `One upstream \`storm\` of 4 stub replicas behind one gw route (timeout 2 s, passive health inert so retries are measured alone). ` +
    `Client load: open model, ${c.rate} req/s, three GETs to one POST (small JSON body), one testkit/load run per phase. Timeline per run: ` +
    `${c.healthyMs / 1000} s healthy, ${c.deadMs / 1000} s dead, ${c.recoveredMs / 1000} s recovered. Dead = every replica answers 503 at once (stub rules), ` +
    'or the stub process is stopped so every connect is refused (then restarted on the same ports).',
    '',
    `Variants: ${r.variants.map((v) => `**${v.id}** = ${v.label}`).join('; ')}. Amplification = upstream attempts gw made ` +
    '(`gw_upstream_requests_total`, every outcome, connect errors included) ÷ client requests in the phase; "upstream received" is the stub\'s own count. ' +
    'The inert passive health (1,000 consecutive failures) still trips after ~5 s of the naive storm (4 attempts × 200 req/s over 4 replicas = 200 ' +
    'failures/s each): a replica out for 100 ms is why a few naive requests get gw\'s own 503 when every replica is out at once.',
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Amplification (healthy → dead → recovered)', '')
  out.push(mdTable(['dead by', 'variant', 'round', 'amplification', 'client req (dead)', 'upstream attempts (dead)', 'upstream received (dead)', 'retries', 'budget denied', 'breaker fast-fails', 'breaker openings', 'breaker opened after', 'client p99 dead ms', 'client statuses (dead)'],
    r.runs.map((x) => {
      const d = phase(x, 'dead')
      return [x.mode === '503' ? '503' : 'conn refused', x.variant, x.round + 1, x.phases.map((p) => `${p.amplification.toFixed(2)}×`).join(' → '),
        d.clientSent, d.attempts, d.stubRequests ?? '— (not listening)', d.retries, d.budgetDenied, d.breakerRejected, d.breakerOpened,
        x.breakerOpenedAfterMs === null ? '—' : `${x.breakerOpenedAfterMs[0]}–${x.breakerOpenedAfterMs[1]} ms`, num(d.load.latencyMs.p99),
        Object.entries(d.load.statuses).map(([k, n]) => `${k}: ${n}`).join(', ') +
        (Object.values(d.load.errorKinds).some((n) => n > 0) ? `; transport errors ${JSON.stringify(d.load.errorKinds)}` : '')]
    })), '')
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function stormCharts(r: StormResult): { name: string; spec: TopLevelSpec }[] {
  const charts: { name: string; spec: TopLevelSpec }[] = []
  for (const mode of r.config.modes) {
    const runs = r.runs.filter((x) => x.mode === mode)
    if (runs.length === 0) continue
    const series = (x: StormRun): string => (x.round === 0 ? x.variant : `${x.variant} (round ${x.round + 1})`)
    const rows: TimelineRow[] = []
    for (const x of runs) {
      rows.push(...toRows('client', series(x), x.series.clientSent), ...toRows('attempts', series(x), x.series.attempts), ...toRows('amp', series(x), x.series.amplification))
      if (mode === '503') rows.push(...toRows('stub', series(x), x.series.stubRequests))
    }
    const first = runs[0]
    charts.push({
      name: `amplification-${mode === '503' ? '503' : 'refused'}`,
      spec: timelineSpec(rows, {
        title: `retry storm, upstream dead by ${mode === '503' ? '503 from every replica' : 'connection refused'}: upstream req/s against client req/s`,
        seriesOrder: runs.map(series),
        events: [{ t: phase(first, 'dead').startS, label: 'upstream dies' }, { t: phase(first, 'recovered').startS, label: 'upstream back' }],
        panels: [
          { id: 'client', title: 'client req/s' },
          { id: 'attempts', title: 'upstream attempts/s (gw)' },
          ...(mode === '503' ? [{ id: 'stub', title: 'requests/s the upstream received' }] : []),
          { id: 'amp', title: 'amplification (attempts ÷ client)' },
        ],
        xTitle: 'seconds since the run\'s load started',
      }),
    })
  }
  return charts
}
