// lab/tax/findings.ts: the comparisons issue 13 asks docs/FINDINGS.md to carry, as pure functions of a tax run's
// records: before/after (gw on node:http + undici vs gw on its own HTTP/1.1 engine, same run, paired per round),
// what remains between gw and the byte-level limit case, and the markdown of a section that can be pasted into
// FINDINGS as it is.
import { byRound, METRICS, type Metric, type RunRecord } from '../harness/measure.js'
import { bytes as fmtBytes, mdTable, num, pct, rps as fmtRps, signed, times } from '../harness/markdown.js'
import { diff, median, paired, ratio, type ByRound } from '../harness/stats.js'
import { busyShare, type ProfileSummary } from '../harness/cpu-profile.js'
import { MIB, slowGrowthMiB, type SlowReaderResult, type TransferRow } from './transfers.js'
import { gwTarget, TARGETS, type Engine, type GwBaseId } from './targets.js'

const label = (id: string): string => TARGETS.find((t) => t.id === id)?.label ?? id

const med = (m: ByRound): number | null => { const v = median([...m.values()]); return Number.isFinite(v) ? v : null }
const pairedOrNull = (a: ByRound, b: ByRound, f: (x: number, y: number) => number): number | null => {
  const v = paired(a, b, f).median
  return Number.isFinite(v) ? v : null
}

/** Added p99 over direct per round. */
function added(records: RunRecord[], scenario: string, target: string): ByRound {
  const d = byRound(records, scenario, 'direct', METRICS.p99)
  const out: ByRound = new Map()
  for (const [round, v] of byRound(records, scenario, target, METRICS.p99)) { const x = d.get(round); if (x !== undefined) out.set(round, v - x) }
  return out
}

export interface BeforeAfterRow {
  base: GwBaseId
  scenario: string
  before: { rps: number | null; cpu: number | null; heap: number | null; addedP99: number | null }
  after: { rps: number | null; cpu: number | null; heap: number | null; addedP99: number | null }
  /** after ÷ before, paired per round. */
  rpsRatio: number | null
  cpuRatio: number | null
  heapRatio: number | null
}

/**
 * gw@node ("before") against gw@http1 ("after") for each gw target that ran on both engines in `scenario`:
 * medians of each side and after ÷ before paired per round.
 */
export function beforeAfter(records: RunRecord[], scenario: string, bases: readonly GwBaseId[], engines: [Engine, Engine] = ['node', 'http1']): BeforeAfterRow[] {
  const out: BeforeAfterRow[] = []
  for (const base of bases) {
    const b = gwTarget(base, engines[0]), a = gwTarget(base, engines[1])
    const has = (t: string): boolean => records.some((r) => r.scenario === scenario && r.target === t)
    if (!has(a) || !has(b)) continue
    const side = (t: string): BeforeAfterRow['before'] => ({
      rps: med(byRound(records, scenario, t, METRICS.rps)), cpu: med(byRound(records, scenario, t, METRICS.cpu)),
      heap: med(byRound(records, scenario, t, METRICS.heap)), addedP99: med(added(records, scenario, t)),
    })
    const r = (f: Metric): number | null => pairedOrNull(byRound(records, scenario, a, f), byRound(records, scenario, b, f), ratio)
    out.push({ base, scenario, before: side(b), after: side(a), rpsRatio: r(METRICS.rps), cpuRatio: r(METRICS.cpu), heapRatio: r(METRICS.heap) })
  }
  return out
}

export interface LimitGapRow {
  target: string
  scenario: string
  cpu: number | null
  bytesCpu: number | null
  /** gw's CPU/req ÷ the limit case's, and gw's − its (µs), paired per round. */
  cpuRatio: number | null
  cpuGapUs: number | null
  /** gw's req/s ÷ the limit case's, paired. */
  rpsRatio: number | null
  heapGapBytes: number | null
}

/** What remains between each subject (gw targets) and the byte-level limit case (`bytes`) in a scenario. */
export function limitGap(records: RunRecord[], scenario: string, subjects: readonly string[]): LimitGapRow[] {
  const out: LimitGapRow[] = []
  const ref = 'bytes'
  if (!records.some((r) => r.scenario === scenario && r.target === ref)) return out
  for (const t of subjects) {
    if (!records.some((r) => r.scenario === scenario && r.target === t)) continue
    const g = (f: Metric): ByRound => byRound(records, scenario, t, f)
    const b = (f: Metric): ByRound => byRound(records, scenario, ref, f)
    out.push({
      target: t, scenario,
      cpu: med(g(METRICS.cpu)), bytesCpu: med(b(METRICS.cpu)),
      cpuRatio: pairedOrNull(g(METRICS.cpu), b(METRICS.cpu), ratio), cpuGapUs: pairedOrNull(g(METRICS.cpu), b(METRICS.cpu), diff),
      rpsRatio: pairedOrNull(g(METRICS.rps), b(METRICS.rps), ratio), heapGapBytes: pairedOrNull(g(METRICS.heap), b(METRICS.heap), diff),
    })
  }
  return out
}

/** One profile's self time by coarse area, as FINDINGS' "where the CPU goes" rows (shares of all samples). */
export function areaShares(p: ProfileSummary): Map<string, number> {
  const m = new Map<string, number>()
  for (const a of p.byArea) m.set(a.area, a.share)
  return m
}

export interface FindingsInput {
  /** The ceiling and 2,500 req/s scenario ids. */
  ceiling: string
  r2500: string
  records: RunRecord[]
  /** Table order of the ceiling's targets. */
  order: string[]
  transfers: { download: TransferRow[]; upload: TransferRow[] } | null
  slow: SlowReaderResult[]
  profiles: { label: string; summary: ProfileSummary }[]
  commit: string
  resultName: string
}

const GW_BASES: GwBaseId[] = ['gw-pass', 'gw-auth', 'gw-ratelimit', 'gw-breaker', 'gw-full']
const dash = (x: number | null, f: (v: number) => string): string => (x === null ? '—' : f(x))
const mib = (b: number | null): string => (b === null ? '—' : `${num(b / MIB)} MiB`)

/**
 * The section for docs/FINDINGS.md: the before/after tax table at the ceiling (with added p99 at 2,500 req/s),
 * gw@node → gw@http1 per gw target, what remains between gw@http1 and the byte-level limit case, the 1 MiB
 * transfers with the slow reader's memory, and the profiles' areas side by side. Pure.
 */
export function findingsMarkdown(f: FindingsInput): string {
  const out: string[] = []
  const { records, ceiling, r2500 } = f
  const has = (s: string, t: string): boolean => records.some((r) => r.scenario === s && r.target === t)
  out.push('## For docs/FINDINGS.md', '')
  out.push(`Ready to paste (result \`${f.resultName}\`, commit \`${f.commit}\`). Medians over rounds; ratios and differences paired within a round. ` +
    '`@node` is gw on node:http + undici (before), `@http1` gw on its own HTTP/1.1 engine (after).', '')

  // 1. The tax table, before/after, at the ceiling.
  const rows = f.order.filter((t) => has(ceiling, t))
  const refRatio = (t: string, ref: string, m: Metric): string =>
    t === ref || !has(ceiling, ref) ? '' : times(pairedOrNull(byRound(records, ceiling, t, m), byRound(records, ceiling, ref, m), ratio) ?? NaN)
  out.push('**Ceiling** (closed model), with the added p99 over direct at 2,500 req/s:', '')
  out.push(mdTable(['target', 'req/s', 'CPU µs/req', 'heap B/req', 'added p99 ms at 2,500', 'req/s ÷ floor', 'CPU ÷ floor', 'req/s ÷ fastify', 'CPU ÷ bytes'],
    rows.map((t) => {
      const a = med(added(records, r2500, t))
      return [label(t), dash(med(byRound(records, ceiling, t, METRICS.rps)), fmtRps), dash(med(byRound(records, ceiling, t, METRICS.cpu)), num),
        dash(med(byRound(records, ceiling, t, METRICS.heap)), fmtBytes), t === 'direct' ? '—' : dash(a, signed),
        t === 'direct' ? '' : refRatio(t, 'floor', METRICS.rps), t === 'direct' ? '' : refRatio(t, 'floor', METRICS.cpu),
        t === 'direct' ? '' : refRatio(t, 'fastify', METRICS.rps), t === 'direct' ? '' : refRatio(t, 'bytes', METRICS.cpu)]
    })), '')

  // 2. Before/after per gw target.
  const ba = [...beforeAfter(records, ceiling, GW_BASES), ...beforeAfter(records, r2500, GW_BASES)]
  if (ba.length > 0) {
    out.push('**Before/after** (gw@node → gw@http1, same run; after ÷ before paired per round, so it can differ from the ratio of the medians; ' +
      'added p99 over direct at the fixed rate only: a closed-model latency is its own queue):', '')
    out.push(mdTable(['gw target', 'scenario', 'req/s before → after', '×', 'CPU µs/req before → after', '×', 'heap B/req before → after', 'added p99 ms before → after'],
      ba.map((r) => [label(gwTarget(r.base, 'http1')).replace(/ @http1$/, ''), r.scenario,
        `${dash(r.before.rps, fmtRps)} → ${dash(r.after.rps, fmtRps)}`, dash(r.rpsRatio, times),
        `${dash(r.before.cpu, num)} → ${dash(r.after.cpu, num)}`, dash(r.cpuRatio, times),
        `${dash(r.before.heap, fmtBytes)} → ${dash(r.after.heap, fmtBytes)}`,
        r.scenario === ceiling ? '—' : `${dash(r.before.addedP99, signed)} → ${dash(r.after.addedP99, signed)}`]), ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']), '')
  }

  // 3. What remains between gw and the byte-level limit case.
  const subjects = GW_BASES.flatMap((b) => [gwTarget(b, 'http1'), gwTarget(b, 'node')]).filter((t) => t.endsWith('@http1') || t === 'gw-pass@node')
  const gap = limitGap(records, ceiling, subjects)
  if (gap.length > 0) {
    out.push('**What remains between gw and the byte-level limit case** (`bytes`: node:net both sides, no rules; ceiling):', '')
    out.push(mdTable(['target', 'CPU µs/req', "bytes' CPU µs/req", 'CPU ÷ bytes', 'CPU − bytes µs', 'req/s ÷ bytes', 'heap − bytes B/req'],
      gap.map((g) => [label(g.target), dash(g.cpu, num), dash(g.bytesCpu, num), dash(g.cpuRatio, times), dash(g.cpuGapUs, signed), dash(g.rpsRatio, times), dash(g.heapGapBytes, (x) => (x >= 0 ? '+' : '') + fmtBytes(x))])), '')
  }

  // 4. Transfers and the slow reader.
  if (f.transfers !== null && (f.transfers.download.length > 0 || f.transfers.upload.length > 0)) {
    const ids = [...new Set([...f.transfers.download, ...f.transfers.upload].map((r) => r.target))]
    const dl = new Map(f.transfers.download.map((r) => [r.target, r]))
    const ul = new Map(f.transfers.upload.map((r) => [r.target, r]))
    const slow = new Map(f.slow.map((s) => [s.target, s]))
    const one = f.slow[0]
    out.push('**1 MiB transfers** (closed model; CPU per MiB moved; memory: the proxy\'s RSS peak over the transfer rounds' +
      (one === undefined ? ')' : `, and under ${one.readers} slow readers at ${Math.round(one.rate / 1024)} KiB/s for ${one.ms / 1000} s each asking for ${Math.round(one.bodyBytes / MIB)} MiB: RSS peak (growth over the start) and V8 heap peak)`) + ':', '')
    out.push(mdTable(['target', 'download MiB/s', 'CPU µs/MiB', 'upload MiB/s', 'CPU µs/MiB', 'RSS peak', 'slow readers: RSS peak (growth)', 'heap peak'],
      ids.map((t) => {
        const d = dl.get(t), u = ul.get(t), s = slow.get(t)
        const rss = Math.max(d?.rssPeakBytes ?? -1, u?.rssPeakBytes ?? -1)
        const g = s === undefined ? null : slowGrowthMiB(s)
        return [label(t), dash(d?.mibPerS ?? null, num), dash(d?.cpuUsPerMiB ?? null, num), dash(u?.mibPerS ?? null, num), dash(u?.cpuUsPerMiB ?? null, num),
          rss < 0 ? '—' : mib(rss), s === undefined ? '—' : `${mib(s.rssPeakBytes)} (${g === null ? '—' : signed(g)} MiB)`, s === undefined ? '—' : mib(s.heapPeakBytes)]
      })), '')
  }

  // 5. Profiles: where the CPU goes, side by side.
  if (f.profiles.length > 0) {
    const areas = new Map<string, number>()
    for (const p of f.profiles) for (const a of p.summary.byArea) areas.set(a.area, (areas.get(a.area) ?? 0) + a.share)
    const order = [...areas].sort((a, b) => b[1] - a[1]).map(([a]) => a)
    const shares = f.profiles.map((p) => areaShares(p.summary))
    out.push('**Where the CPU goes** (CPU profiles at the ceiling, each proxy in a process of its own; shares of the samples):', '')
    out.push(mdTable(['area', ...f.profiles.map((p) => p.label.replace(/ at the ceiling$/, ''))], order.map((a) => [a, ...shares.map((m) => (m.has(a) ? pct(m.get(a)!) : '—'))])), '')
    const top = f.profiles.filter((p) => /@http1/.test(p.label))
    for (const p of top) {
      const busy = busyShare(p.summary)
      out.push(`Top functions, ${p.label} (self time; ${pct(1 - busy)} of the samples idle):`, '')
      out.push(mdTable(['function', 'where', 'self', 'of busy'], p.summary.top.filter((t) => t.fn !== '(idle)').slice(0, 10)
        .map((t) => [`\`${t.fn}\``, t.where, pct(t.selfShare), busy > 0 ? pct(t.selfShare / busy) : '—']), ['l', 'l', 'r', 'r']), '')
    }
  }
  return out.join('\n')
}
