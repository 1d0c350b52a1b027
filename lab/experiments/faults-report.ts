// lab/experiments/faults-report.ts: what the faults experiment saw — per scenario and stream, the requests sent,
// answered, by status, and the transport errors (resets, refused connections, timeouts); the checks each
// scenario is held to; the markdown report.
import { mdTable, num } from '../harness/markdown.js'
import type { FaultsResult, ScenarioRun } from './faults.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import type { TraceRecord } from './tracer.js'

export interface Stream {
  name: string
  /** Requests due in the window (the open model sends each on time, whatever the answers do). */
  sent: number
  /** Requests that got an HTTP status. */
  answered: number
  byStatus: Record<string, number>
  /** Transport errors, by kind: connection reset (or closed mid-response), connection refused, no answer in 5 s. */
  resets: number
  refused: number
  timeouts: number
  other: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  /** Statuses of the requests due in the last second of the window (has it recovered?). */
  lastSecond: Record<string, number>
  /** p99 latency (ms) of the answered requests due in each second of the window, from its first request. */
  p99BySecond: (number | null)[]
  /** Up to 3 distinct transport error messages. */
  samples: string[]
}

const pctl = (sorted: number[], p: number): number | null => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))])

export function summarize(s: { name: string; records: TraceRecord[] }): Stream {
  const byStatus: Record<string, number> = {}
  const lastSecond: Record<string, number> = {}
  const lastDue = s.records.reduce((m, r) => Math.max(m, r.due), 0)
  let resets = 0, refused = 0, timeouts = 0, other = 0
  const samples = new Set<string>()
  for (const r of s.records) {
    const key = r.status === 0 ? (r.error ?? 'other') : String(r.status)
    if (r.due > lastDue - 1000) lastSecond[key] = (lastSecond[key] ?? 0) + 1
    if (r.status > 0) { byStatus[key] = (byStatus[key] ?? 0) + 1; continue }
    if (r.error === 'reset') resets++
    else if (r.error === 'connect_refused') refused++
    else if (r.error === 'timeout') timeouts++
    else other++
    if (samples.size < 3 && r.message !== undefined) samples.add(r.message)
  }
  const ms = s.records.filter((r) => r.status > 0).map((r) => r.ms).sort((a, b) => a - b)
  const firstDue = s.records.reduce((m, r) => Math.min(m, r.due), Infinity)
  const secs: number[][] = []
  for (const r of s.records) if (r.status > 0) (secs[Math.floor((r.due - firstDue) / 1000)] ??= []).push(r.ms)
  const p99BySecond = Array.from(secs, (x) => (x === undefined ? null : pctl(x.sort((a, b) => a - b), 0.99)))
  return {
    name: s.name, sent: s.records.length, answered: ms.length, byStatus, resets, refused, timeouts, other,
    p50Ms: pctl(ms, 0.5), p99Ms: pctl(ms, 0.99), maxMs: ms.length === 0 ? null : ms[ms.length - 1], lastSecond, p99BySecond, samples: [...samples],
  }
}

const only = (st: Stream, allowed: string[]): boolean => Object.keys(st.byStatus).every((k) => allowed.includes(k))
const errors = (st: Stream): number => st.resets + st.refused + st.timeouts + st.other
const statuses = (x: Record<string, number>): string => Object.entries(x).map(([k, n]) => `${k}: ${n}`).join(', ') || '—'

/** The checks, one or more per scenario that ran. */
export function faultChecks(scenarios: ScenarioRun[]): Check[] {
  const out: Check[] = []
  const by = (id: string) => scenarios.find((s) => s.id === id)
  for (const id of ['sighup-reload', 'sighup-reload-workers-2']) {
    const s = by(id)
    if (s === undefined) continue
    const st = s.streams[0]
    out.push({ what: `${id}: every request answered 200, no resets`, verdict: verdict(st.answered === st.sent && only(st, ['200']) && errors(st) === 0), measured: `${st.answered}/${st.sent} answered (${statuses(st.byStatus)}), resets ${st.resets}, other errors ${errors(st) - st.resets}; gw alive after: ${s.facts['gw alive after']}` })
  }
  const sc = by('stalled-clients')
  if (sc !== undefined) {
    const st = sc.streams[0]
    out.push({ what: 'stalled-clients: the other route gets only 200 or 503 (pool exhausted), never 504; no resets', verdict: verdict(only(st, ['200', '503']) && errors(st) === 0), measured: `${statuses(st.byStatus)}; transport errors ${errors(st)}` })
    out.push({ what: 'stalled-clients: the replica stays healthy; no upstream timeouts charged', verdict: verdict(sc.facts['dl replica healthy (gauge)'] === 1 && sc.facts['upstream timeouts'] === 0), measured: `healthy gauge ${sc.facts['dl replica healthy (gauge)']}, pool_exhausted ${sc.facts['pool_exhausted attempts']}, upstream timeouts ${sc.facts['upstream timeouts']}` })
    out.push({ what: 'stalled-clients: send_timeout cuts the stalled downloads and the pool recovers (last second all 200)', verdict: verdict(Number(sc.facts['send_timeout cuts']) >= 1 && only({ byStatus: st.lastSecond } as Stream, ['200'])), measured: `send_timeout cuts ${sc.facts['send_timeout cuts']}; last second ${statuses(st.lastSecond)}` })
  }
  for (const id of ['redis-frozen', 'redis-killed']) {
    const s = by(id)
    if (s === undefined) continue
    const [open, closed] = s.streams
    // Latency is reported, not judged: on the shared 2-core machine it measures the neighbours as much as gw.
    out.push({ what: `${id}: fail_open answers 200 throughout, fail_closed 200 or 503 (never 504), no transport errors`, verdict: verdict(only(open, ['200']) && only(closed, ['200', '503']) && errors(open) + errors(closed) === 0),
      measured: `open ${statuses(open.byStatus)}, closed ${statuses(closed.byStatus)}; transport errors ${errors(open) + errors(closed)}; max ${num(Math.max(open.maxMs ?? 0, closed.maxMs ?? 0))} ms` })
  }
  for (const id of ['idp-refused', 'idp-503', 'idp-slow']) {
    const s = by(id)
    if (s === undefined) continue
    const st = s.streams[0]
    out.push({ what: `${id}: valid tokens never get 401 (503 auth_unavailable while keys cannot be fetched)`, verdict: verdict((st.byStatus['401'] ?? 0) === 0 && errors(st) === 0), measured: `${statuses(st.byStatus)}; transport errors ${errors(st)}` })
  }
  const rec = by('idp-recovered')
  if (rec !== undefined) {
    const st = rec.streams[0]
    out.push({ what: 'idp-recovered: the same tokens get 200 again (last second all 200), never 401', verdict: verdict((st.byStatus['401'] ?? 0) === 0 && only({ byStatus: st.lastSecond } as Stream, ['200'])), measured: `${statuses(st.byStatus)}; last second ${statuses(st.lastSecond)}` })
  }
  for (const id of ['sigterm-drain', 'sigterm-drain-workers-2']) {
    const s = by(id)
    if (s === undefined) continue
    const before = s.streams[0]
    out.push({ what: `${id}: every request sent before SIGTERM answered (none reset), exit 0`, verdict: verdict(before.answered === before.sent && errors(before) === 0 && s.facts['exit code'] === 0),
      measured: `before: ${before.answered}/${before.sent} answered (${statuses(before.byStatus)}), resets ${before.resets}; exit ${s.facts['exit code']} after ${s.facts['exit after ms']} ms; gw drained ${s.facts['gw drained']}, aborted ${s.facts['gw aborted']}` })
  }
  const one = by('replica-killed')
  if (one !== undefined) {
    const st = one.streams[0]
    out.push({ what: 'replica-killed: retries and passive health hide it (only 200s, no transport errors)', verdict: verdict(only(st, ['200']) && errors(st) === 0), measured: `${statuses(st.byStatus)}; transport errors ${errors(st)}; healthy replicas after ${one.facts['replicas healthy after']}` })
  }
  const all = by('all-replicas-dead')
  if (all !== undefined) {
    const st = all.streams[0]
    out.push({ what: 'all-replicas-dead: every request answered (502/503), none hangs or is reset; gw stays up', verdict: verdict(st.answered === st.sent && errors(st) === 0 && all.facts['gw alive after'] === 'yes'), measured: `${statuses(st.byStatus)}; transport errors ${errors(st)}; max ${num(st.maxMs)} ms; gw alive ${all.facts['gw alive after']}` })
  }
  return out
}

export function faultsMarkdown(r: FaultsResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config
  const out = headerMarkdown(r, 'gwp faults under load', [
    `One scenario at a time, each under a steady open-model stream of ${c.rate} req/s per stream (lab/experiments/tracer.ts: every request is due ` +
    'on schedule whatever the answers do, and every answer or transport error is kept). The fault lands about a third of the way into a ' +
    `${c.phaseS} s window (IdP phases: ${c.idpPhaseS} s each). gw runs \`examples\`-style policies written by lab/experiments/faults.ts: ` +
    `three api replicas (one stub process each, so one can be killed), \`retry 1 idempotent_only\`, passive health; a download upstream with ` +
    `\`pool connections ${c.poolConnections} send_timeout ${c.sendTimeout}\`; Redis rate limits \`fail_open\` and \`fail_closed\`; a jwt provider ` +
    '(`refresh 10s timeout 300ms`) whose IdP is down when gw starts.',
    '',
    '"sent" counts requests due in the window; "answered" those that got any HTTP status; resets are connections reset or closed under a ' +
    'request, refused are connection refusals (gw not listening), timeouts are requests with no answer within 5 s.',
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Scenarios', '')
  out.push(mdTable(['scenario', 'fault', 'stream', 'sent', 'answered', 'by status', 'resets', 'refused', 'timeouts', 'other', 'p50 ms', 'p99 ms', 'max ms'],
    r.scenarios.flatMap((s) => s.streams.map((st, i) => [i === 0 ? s.id : '', i === 0 ? s.fault : '', st.name, st.sent, st.answered, statuses(st.byStatus), st.resets, st.refused, st.timeouts, st.other,
      num(st.p50Ms), num(st.p99Ms), num(st.maxMs)])), ['l', 'l', 'l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']), '')
  out.push('p99 (ms) of the answered requests due in each second of the window, to tell the fault from the shared machine\'s noise:', '')
  out.push(mdTable(['scenario', 'stream', 'p99 by second'], r.scenarios.flatMap((s) => s.streams.map((st) => [s.id, st.name, st.p99BySecond.map((x) => num(x)).join(', ') || '—'])), ['l', 'l', 'l']), '')
  out.push('## What gw reported', '')
  for (const s of r.scenarios) {
    const facts = Object.entries(s.facts).map(([k, v]) => `${k} ${v === null ? '—' : v}`).join('; ')
    const samples = [...new Set(s.streams.flatMap((st) => st.samples))].slice(0, 3)
    out.push(`- **${s.id}**: ${facts || '—'}${samples.length > 0 ? `; transport errors seen: ${samples.map((m) => `\`${m}\``).join(', ')}` : ''}`)
  }
  out.push('', ...chartsMarkdown(charts))
  return out.join('\n') + '\n'
}
