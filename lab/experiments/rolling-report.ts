// lab/experiments/rolling-report.ts: what the shutdown and rolling runs show — (A) requests sent before and after
// the SIGTERM and how they ended, against gw's own drained/aborted counts; (B) per restart, how long the drain, the
// restart and the return to healthy took, and what the clients behind the balancer saw — checks, markdown, charts.
import type { TopLevelSpec } from 'vega-lite'
import type { LoadDigest } from '../harness/measure.js'
import { mdTable, num } from '../harness/markdown.js'
import { timelineSpec, toRows, type TimelineRow } from './charts.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import type { RollingResult } from './rolling.js'
import { loadSeriesOnTimeline, secondsSince, type Point } from './timeline.js'
import type { TraceRecord } from './tracer.js'

export interface Outcomes { ok: number; failed: number; kinds: Record<string, number> }

export interface DrainRun {
  id: string
  deadline: string
  termS: number
  code: number | null
  exitMs: number
  /** gw's own counts ("gw: drained N, aborted M, late L"): in flight at the signal and completed; cut at the deadline; arrived during the drain and completed. */
  drained: number | null
  aborted: number | null
  gwLate: number | null
  /** Client requests sent before the SIGTERM and not finished at it. */
  inFlightAtTerm: number
  /** Of those: answered, and cut (any failure). gw's own counts should match these (its metric: "in flight at shutdown"). */
  atTerm: { answered: number; cut: number }
  /** Sent after the SIGTERM: refused (never reached gw: the listener was closed), answered on a kept-alive
   *  connection, or cut at the deadline (reached gw, did not finish). */
  late: { refused: number; answered: number; cut: number }
  before: Outcomes
  after: Outcomes
  /** Per 100 ms of end time. */
  series: { ok: Point[]; failed: Point[] }
}

export interface DrainInput {
  id: string
  deadline: string
  origin: number
  termAt: number
  records: TraceRecord[]
  code: number | null
  drained: number | null
  aborted: number | null
  late: number | null
  exitMs: number
}

export function outcomes(rs: readonly TraceRecord[]): Outcomes {
  const kinds: Record<string, number> = {}
  let ok = 0
  for (const r of rs) {
    if (r.status > 0 && r.status < 400) { ok++; continue }
    const k = r.status === 0 ? (r.error ?? 'error') : String(r.status)
    kinds[k] = (kinds[k] ?? 0) + 1
  }
  return { ok, failed: rs.length - ok, kinds }
}

/** Records that satisfy `pred` per `binMs` bin of their end time (t = the bin's start, seconds since the origin). */
export function perBin(rs: readonly TraceRecord[], origin: number, pred: (r: TraceRecord) => boolean, binMs = 100): Point[] {
  const bins = new Map<number, number>()
  for (const r of rs) { const b = Math.floor((r.end - origin) / binMs); bins.set(b, (bins.get(b) ?? 0) + (pred(r) ? 1 : 0)) }
  return [...bins].sort((a, b) => a[0] - b[0]).map(([b, value]) => ({ t: Math.round(b * binMs) / 1000, value }))
}

export function analyzeDrain(x: DrainInput): DrainRun {
  const before = x.records.filter((r) => r.due < x.termAt)
  const after = x.records.filter((r) => r.due >= x.termAt)
  const ok = (r: TraceRecord): boolean => r.status > 0 && r.status < 400
  const atTerm = before.filter((r) => r.end >= x.termAt)
  const refused = after.filter((r) => r.status === 0 && r.error === 'connect_refused').length
  return {
    id: x.id, deadline: x.deadline, termS: secondsSince(x.origin, x.termAt), code: x.code, exitMs: x.exitMs, drained: x.drained, aborted: x.aborted, gwLate: x.late,
    inFlightAtTerm: atTerm.length,
    atTerm: { answered: atTerm.filter(ok).length, cut: atTerm.filter((r) => !ok(r)).length },
    late: { refused, answered: after.filter(ok).length, cut: after.length - refused - after.filter(ok).length },
    before: outcomes(before), after: outcomes(after),
    series: { ok: perBin(x.records, x.origin, ok), failed: perBin(x.records, x.origin, (r) => !ok(r)) },
  }
}

export interface Restart {
  replica: number
  termAt: number
  exitAt: number
  startedAt: number
  healthyAt: number
  code: number | null
  drained: number | null
  aborted: number | null
  late: number | null
  exitMs: number
}

export interface RollingRun {
  mode: string
  label: string
  restarts: (Restart & { termS: number; healthyS: number })[]
  lbStats: Record<string, unknown>
  load: LoadDigest
  series: { answered: Point[]; errors: Point[] }
}

export function analyzeRolling(x: { mode: string; label: string; origin: number; restarts: Restart[]; lbStats: Record<string, unknown>; loadStartedAt: string; load: LoadDigest }): RollingRun {
  const s = loadSeriesOnTimeline(x.load.series, x.loadStartedAt, x.origin)
  return {
    mode: x.mode, label: x.label, lbStats: x.lbStats, load: x.load,
    restarts: x.restarts.map((r) => ({ ...r, termS: secondsSince(x.origin, r.termAt), healthyS: secondsSince(x.origin, r.healthyAt) })),
    series: { answered: s.map((p) => ({ t: p.t, value: p.completed - p.errors })), errors: s.map((p) => ({ t: p.t, value: p.errors })) },
  }
}

export function rollingChecks(drains: DrainRun[], rolls: RollingRun[]): Check[] {
  const ample = drains.find((d) => d.id === 'deadline-10s')
  const short = drains.find((d) => d.id !== 'deadline-10s')
  const aware = rolls.find((r) => r.mode === 'aware')
  const naive = rolls.find((r) => r.mode === 'naive')
  const out: Check[] = []
  if (ample !== undefined) {
    out.push({
      what: 'SIGTERM within the deadline: 0 aborted, every request sent before it answered, exit 0',
      verdict: verdict(ample.aborted === 0 && ample.before.failed === 0 && ample.code === 0),
      measured: `gw: drained ${ample.drained}, aborted ${ample.aborted}, exit ${ample.code} after ${ample.exitMs} ms; client: ${ample.inFlightAtTerm} in flight at SIGTERM, ${ample.before.failed} of ${ample.before.ok + ample.before.failed} sent before it failed`,
    })
  }
  if (short !== undefined) {
    out.push({
      what: `a deadline too short (${short.deadline}) cuts what is left: gw's aborted = every request the clients saw cut (in flight at the SIGTERM, or arrived on a kept-alive connection during the drain; ±2 in transit)`,
      // ±2: a request still in transit at the deadline is cut with its connection before gw has parsed it (never "running" in gw).
      verdict: verdict(short.aborted !== null && short.aborted > 0 && Math.abs(short.aborted - (short.atTerm.cut + short.late.cut)) <= 2),
      measured: `gw aborted ${short.aborted}; clients: ${short.atTerm.cut} in flight at the SIGTERM + ${short.late.cut} late arrivals cut`,
    })
  }
  for (const d of drains) {
    // ±1: a request the client had sent an instant before the SIGTERM may reach gw an instant after it; ±2 for the cut
    // ones: a request in transit at the deadline is cut with its connection before gw ever parsed it.
    const near = (a: number | null, b: number, tol = 1): boolean => a !== null && Math.abs(a - b) <= tol
    out.push({
      what: `deadline ${d.deadline}: gw's drained / late / aborted (docs/operations.md) match what the clients saw (±1, aborted ±2)`,
      verdict: verdict(near(d.drained, d.atTerm.answered) && near(d.gwLate, d.late.answered) && near(d.aborted, d.atTerm.cut + d.late.cut, 2)),
      measured: `gw: drained ${d.drained}, late ${d.gwLate ?? '—'}, aborted ${d.aborted}; clients: of ${d.inFlightAtTerm} in flight at the SIGTERM ${d.atTerm.answered} answered and ${d.atTerm.cut} cut; ` +
        `${d.late.answered + d.late.cut} more arrived during the drain on kept-alive connections (${d.late.answered} answered, ${d.late.cut} cut)`,
    })
  }
  if (aware !== undefined) {
    out.push({
      what: 'rolling restart behind a balancer that health-checks and retries refused connections: zero client-visible errors',
      verdict: verdict(aware.load.errors === 0 && aware.restarts.length === 2 && aware.restarts.every((r) => r.code === 0 && r.aborted === 0)),
      measured: `${aware.load.errors} errors of ${aware.load.completed + Object.values(aware.load.errorKinds).reduce((a, b) => a + b, 0)} requests; restarts: ` +
        aware.restarts.map((r) => `r${r.replica} exit ${r.code}, drained ${r.drained}, aborted ${r.aborted}`).join('; ') + `; balancer retries ${String(aware.lbStats.retries)}`,
    })
  }
  if (naive !== undefined) {
    out.push({
      what: 'for comparison, a naive round-robin balancer (no health checks, no retry): the errors a real LB must avoid',
      verdict: 'n/a',
      measured: `${naive.load.errors} errors (${JSON.stringify(naive.load.statuses)}; transport ${JSON.stringify(naive.load.errorKinds)})`,
    })
  }
  return out
}

const fmt = (o: Outcomes): string => `${o.ok} ok, ${o.failed} failed${o.failed > 0 ? ` (${Object.entries(o.kinds).map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`

export function rollingMarkdown(r: RollingResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config
  const out = headerMarkdown(r, 'gwp graceful shutdown and rolling replicas', [
    `(A) One gw in front of 2 stub replicas answering in ${c.drainLatency[0]}–${c.drainLatency[1]} ms; a tracer sends ${c.drainRate} req/s straight to gw ` +
    `and keeps every response; SIGTERM at ${c.termS} s. The first deadline leaves room to drain everything, the second is shorter than many requests. ` +
    'Requests sent after the SIGTERM have nowhere to go (one replica, its listener closed): they fail by design, which is what part (B) is for.',
    '',
    `(B) Two gw replicas (\`--drain-timeout 10s\`) behind lab/experiments/lb.js, ${c.rollRate} req/s through it (testkit/load, open model). Each replica in turn: ` +
    'SIGTERM, wait for it to exit, start it again on the same ports, wait until its /healthz answers 200, then wait before the next. Balancer modes: ' +
    c.lbModes.map((m) => `**${m.id}** = ${m.label}`).join('; ') + '.',
    '',
    'What a real load balancer must do to roll gw replicas without errors: take a replica out of rotation as soon as its admin `/healthz` answers 503 ' +
    '(gw turns it to 503 the moment it gets SIGTERM, before it closes its listener), keep in-flight requests on it running (gw drains them), and retry a ' +
    'request on another replica when the connection is refused or reset before any response byte (gw closes idle keep-alive connections on SIGTERM, so a ' +
    'request racing that close sees a reset; for non-idempotent requests only a connect refusal is safe to retry). Health-check only, or retry only, each leaves a window.',
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## (A) SIGTERM under load', '')
  out.push(mdTable(['deadline', 'exit code', 'exit after ms', 'gw drained', 'gw late', 'gw aborted', 'client: in flight at SIGTERM (answered / cut)', 'client: late arrivals on kept-alive connections (answered / cut)', 'client: refused after SIGTERM', 'sent before SIGTERM', 'sent after SIGTERM'],
    r.drains.map((d) => [d.deadline, String(d.code), d.exitMs, String(d.drained), String(d.gwLate), String(d.aborted), `${d.inFlightAtTerm} (${d.atTerm.answered} / ${d.atTerm.cut})`,
      `${d.late.answered + d.late.cut} (${d.late.answered} / ${d.late.cut})`, d.late.refused, fmt(d.before), fmt(d.after)])), '')
  out.push('gw reports `drained` (in flight at the signal, completed), `late` (arrived during the drain on a kept-alive connection, completed) ' +
    'and `aborted` (still running at the deadline, cut); the client columns are the same three groups as the tracer saw them. (Before commit ' +
    '3a1db7a gw computed `drained` as "in flight at the signal − in flight at the deadline", which came out short whenever late arrivals were cut.)', '')
  out.push('## (B) Rolling restarts', '')
  out.push(mdTable(['balancer', 'requests', 'errors', 'p99 ms', 'max ms', 'statuses', 'transport errors', 'balancer retries', 'replicas marked down'],
    r.rolls.map((x) => [x.mode, x.load.completed, x.load.errors, num(x.load.latencyMs.p99), num(x.load.latencyMs.max),
      Object.entries(x.load.statuses).map(([k, n]) => `${k}: ${n}`).join(', '), JSON.stringify(x.load.errorKinds), String(x.lbStats.retries),
      String(((x.lbStats.backends ?? []) as { markedDown: number }[]).map((b) => b.markedDown).join(' / '))])), '')
  out.push(mdTable(['balancer', 'replica', 'SIGTERM at', 'exit code', 'drain + exit ms', 'gw drained / late / aborted', 'restart ms', 'healthy after start ms'],
    r.rolls.flatMap((x) => x.restarts.map((q) => [x.mode, q.replica, `${q.termS.toFixed(1)} s`, String(q.code), q.exitAt - q.termAt, `${q.drained} / ${q.late ?? '—'} / ${q.aborted}`,
      q.startedAt - q.exitAt, q.healthyAt - q.startedAt]))), '')
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function rollingCharts(r: RollingResult): { name: string; spec: TopLevelSpec }[] {
  const rows: TimelineRow[] = []
  for (const x of r.rolls) rows.push(...toRows('answered', x.mode, x.series.answered), ...toRows('errors', x.mode, x.series.errors))
  const first = r.rolls[0]
  const events = first === undefined ? [] : first.restarts.flatMap((q) => [{ t: q.termS, label: `SIGTERM r${q.replica}` }, { t: q.healthyS, label: `r${q.replica} healthy` }])
  const drows: TimelineRow[] = []
  for (const d of r.drains) drows.push(...toRows('ok', d.deadline, d.series.ok), ...toRows('failed', d.deadline, d.series.failed))
  return [
    {
      name: 'rolling',
      spec: timelineSpec(rows, {
        title: 'rolling restart of 2 gw replicas behind a balancer: answers and errors per second',
        seriesOrder: r.rolls.map((x) => x.mode), events,
        panels: [{ id: 'answered', title: 'answered OK /s' }, { id: 'errors', title: 'client-visible errors /s' }],
        xTitle: 'seconds since the load started (events of the first mode)',
      }),
    },
    {
      name: 'drain',
      spec: timelineSpec(drows, {
        title: 'SIGTERM under load (one replica): responses per 100 ms by how they ended',
        seriesOrder: r.drains.map((d) => d.deadline),
        events: r.drains.length === 0 ? [] : [{ t: r.drains[0].termS, label: 'SIGTERM' }],
        panels: [{ id: 'ok', title: 'answered per 100 ms' }, { id: 'failed', title: 'failed per 100 ms (after the SIGTERM: refused, or cut at the deadline)' }],
        xTitle: 'seconds since the stream started',
      }),
    },
  ]
}
