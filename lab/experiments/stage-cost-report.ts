// lab/experiments/stage-cost-report.ts: the per-stage table — p50/p99, CPU µs and heap bytes per request, and
// each one's difference over passthrough paired within a round (both ran on the same machine minutes apart) — the
// JWT figures of the micro-benchmarks, the same differences read from the newest tax run for comparison, and
// the checks, markdown and bar charts.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TopLevelSpec } from 'vega-lite'
import { barsSpec, type BarRow } from '../harness/charts.js'
import { bytes, mdTable, num, signed } from '../harness/markdown.js'
import { RESULTS_DIR } from '../harness/paths.js'
import { diff, median, paired, quantile } from '../harness/stats.js'
import type { FileResult } from '../../bench/runtime/kit/suite.js'
import { byRound, METRICS, type RunRecord } from '../harness/measure.js'
import { chartsMarkdown, headerMarkdown, verdict, type Check } from './report.js'
import type { StageCostResult } from './stage-cost.js'

export interface StageRow {
  stage: string
  /** The row the differences are taken over (passthrough unless the stage says otherwise). */
  base: string
  rounds: number
  rps: number
  p50: number
  p99: number
  cpuUsPerRequest: number
  heapBytesPerRequest: number
  /** Differences over passthrough, paired per round (median), and the per-round values behind them. */
  addedP99: number
  addedP99Rounds: number[]
  addedCpuUs: number
  addedHeapBytes: number
  errors: number
}

const heapOf = (r: RunRecord): number | null => r.proxy?.heapBytesPerRequest ?? null

/** A row's baseline: one for all, or per stage. */
export type Baseline = string | ((stage: string) => string)
const baseFor = (b: Baseline, stage: string): string => (typeof b === 'string' ? b : b(stage))

export function summarizeStages(runs: RunRecord[], order: string[], baseline: Baseline = 'pass'): StageRow[] {
  const sc = 'stage-cost'
  return order.filter((s) => runs.some((r) => r.target === s)).map((stage) => {
    const base = baseFor(baseline, stage)
    const rs = runs.filter((r) => r.target === stage)
    const d = (f: (r: RunRecord) => number | null) => paired(byRound(runs, sc, stage, f), byRound(runs, sc, base, f), diff)
    const p99 = d(METRICS.p99)
    return {
      stage, base, rounds: rs.length,
      rps: median(rs.map(METRICS.rps)), p50: median(rs.map(METRICS.p50)), p99: median(rs.map(METRICS.p99)),
      cpuUsPerRequest: median(rs.map((r) => METRICS.cpu(r) ?? NaN)), heapBytesPerRequest: median(rs.map((r) => heapOf(r) ?? NaN)),
      addedP99: p99.median, addedP99Rounds: p99.perRound, addedCpuUs: d(METRICS.cpu).median, addedHeapBytes: d(heapOf).median,
      errors: rs.reduce((n, r) => n + r.load.errors, 0),
    }
  })
}

/** One access-log line, the fields used here: when it was written, the route, gw's time and the upstream's. */
export interface AccessLine { time: number; route: string; ms: number; upstreamMs: number | null }

/** Parses gw's access log (JSON lines; other log lines and partial lines are skipped). */
export function parseAccessLog(text: string): AccessLine[] {
  const out: AccessLine[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"msg":"access"')) continue
    try {
      const o = JSON.parse(line) as { time: number; route: string | null; ms: number; upstreamMs?: number }
      if (o.route !== null) out.push({ time: o.time, route: o.route, ms: o.ms, upstreamMs: o.upstreamMs ?? null })
    } catch { /* a line cut by the end of the file */ }
  }
  return out
}

/** A measured run's window on the wall clock, and the route it loaded. */
export interface RunWindow { stage: string; route: string; round: number; from: number; to: number }

/**
 * gw's own view per stage and round: p99 of the access log's `ms` (arrival → end of response) and of `ms −
 * upstreamMs` (gw's share: everything but waiting for the upstream's headers), over the lines of the run's route
 * written inside its window; then the median over rounds and the difference over `base` paired per round.
 */
export function gwSideLatency(lines: readonly AccessLine[], windows: readonly RunWindow[], order: string[], baseline: Baseline = 'pass'):
  { stage: string; p99: number; ownP99: number; addedP99: number; addedOwnP99: number; lines: number }[] {
  const per = new Map<string, Map<number, { p99: number; own: number; n: number }>>()
  for (const w of windows) {
    const mine = lines.filter((l) => l.route === w.route && l.time >= w.from && l.time <= w.to)
    if (mine.length === 0) continue
    const ms = mine.map((l) => l.ms)
    const own = mine.map((l) => (l.upstreamMs === null ? l.ms : l.ms - l.upstreamMs))
    let m = per.get(w.stage)
    if (m === undefined) per.set(w.stage, m = new Map())
    m.set(w.round, { p99: quantile(ms, 0.99), own: quantile(own, 0.99), n: mine.length })
  }
  const pick = (m: Map<number, { p99: number; own: number }>, k: 'p99' | 'own'): Map<number, number> => new Map([...m].map(([r, v]) => [r, v[k]]))
  return order.filter((st) => per.has(st)).map((stage) => {
    const m = per.get(stage)!
    const b = per.get(baseFor(baseline, stage))
    return {
      stage, p99: median([...m.values()].map((v) => v.p99)), ownP99: median([...m.values()].map((v) => v.own)),
      addedP99: b === undefined ? NaN : paired(pick(m, 'p99'), pick(b, 'p99'), diff).median,
      addedOwnP99: b === undefined ? NaN : paired(pick(m, 'own'), pick(b, 'own'), diff).median,
      lines: [...m.values()].reduce((n, v) => n + v.n, 0),
    }
  })
}

export interface MicroFigure { file: string; name: string; nsPerOp: number; p99Ns: number; bytesPerOp: number }

export function microFigures(f: FileResult, file: string): MicroFigure[] {
  return f.cases.map((c) => ({ file, name: c.name, nsPerOp: c.nsPerOp, p99Ns: c.p99Ns, bytesPerOp: c.bytesPerOp }))
}

export interface TaxFigures {
  file: string
  scenario: string
  rows: { target: string; p99: number; cpu: number | null; heap: number | null; addedP99OverPass: number; addedCpuOverPass: number | null; addedHeapOverPass: number | null }[]
}

interface TaxSummaryRow { target: string; p99: number; cpuUsPerRequest: number | null; heapBytesPerRequest: number | null }

/** The newest tax result in lab/results (its 2,500 req/s scenario, else its half-ceiling one), gw targets over gw passthrough. */
export function latestTaxFigures(dir = RESULTS_DIR): TaxFigures | null {
  let files: string[]
  try { files = readdirSync(dir).filter((f) => /-tax-[a-z0-9-]*\.json$/.test(f)).sort() } catch { return null }
  for (const file of files.reverse()) {
    try {
      const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { kind?: string; scenarios?: { id: string; summary: TaxSummaryRow[] }[] }
      if (doc.kind !== 'gwp-bench-tax') continue
      const s = doc.scenarios?.find((x) => x.id === 'rate-2500') ?? doc.scenarios?.find((x) => x.id === 'half-ceiling')
      // Tax results since both engines ran name gw targets by engine (`gw-pass@node`); stage-cost's gw runs the default engine.
      const engine = process.env.GW_ENGINE === 'http1' ? '@http1' : '@node'
      const pass = s?.summary.find((x) => x.target === `gw-pass${engine}`) ?? s?.summary.find((x) => x.target === 'gw-pass')
      if (s === undefined || pass === undefined) continue
      const suffix = pass.target.includes('@') ? engine : ''
      const sub = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b)
      return {
        file, scenario: s.id,
        rows: s.summary.filter((x) => x.target.startsWith('gw-') && (suffix === '' ? !x.target.includes('@') : x.target.endsWith(suffix))).map((x) => ({
          target: x.target, p99: x.p99, cpu: x.cpuUsPerRequest, heap: x.heapBytesPerRequest, addedP99OverPass: x.p99 - pass.p99,
          addedCpuOverPass: sub(x.cpuUsPerRequest, pass.cpuUsPerRequest), addedHeapOverPass: sub(x.heapBytesPerRequest, pass.heapBytesPerRequest),
        })),
      }
    } catch { /* not a readable tax result: try the previous one */ }
  }
  return null
}

export type GwSide = ReturnType<typeof gwSideLatency>

export function stageChecks(rows: StageRow[], micro: MicroFigure[], gwSide: GwSide): Check[] {
  const hit = micro.find((m) => m.file === 'limits' && m.name.startsWith('token cache: hit'))
  const handler = micro.find((m) => m.file === 'handler' && m.name.includes('auth'))
  const auth = rows.find((r) => r.stage === 'auth')
  const authGw = gwSide.find((g) => g.stage === 'auth')
  return [
    {
      what: 'JWT verify with a warm cache, micro-benchmark p99 < 100 µs (token cache hit; the whole auth handler)',
      verdict: verdict(hit === undefined ? null : hit.p99Ns < 100_000 && (handler === undefined || handler.p99Ns < 100_000)),
      measured: `${hit === undefined ? '—' : `cache hit ${num(hit.nsPerOp)} ns/op, p99 ${num(hit.p99Ns)} ns`}; ` +
        `${handler === undefined ? '—' : `auth handler ${num(handler.nsPerOp)} ns/op, p99 ${num(handler.p99Ns)} ns`}`,
    },
    {
      what: 'JWT verify with a warm cache, under load: auth\'s added p99 of gw\'s own time (access log, ms − upstreamMs) over passthrough < 100 µs',
      verdict: verdict(authGw === undefined || !Number.isFinite(authGw.addedOwnP99) ? null : authGw.addedOwnP99 < 0.1),
      measured: `${authGw === undefined ? '—' : `${signed(authGw.addedOwnP99 * 1000)} µs`}; seen by the client: ` +
        `${auth === undefined ? '—' : `${signed(auth.addedP99 * 1000)} µs (rounds: ${auth.addedP99Rounds.map((x) => `${Math.round(x * 1000)}`).join(', ')} µs)`}`,
    },
  ]
}

export function stageMarkdown(r: StageCostResult, charts: { name: string; file: string; error?: string }[]): string {
  const c = r.config
  const label = (id: string): string => r.stages.find((s) => s.id === id)?.label ?? id
  const out = headerMarkdown(r, 'gwp marginal cost per stage', [
    `One gw, one route per stage, all to the same 3 stub replicas (answering at once). Open model at ${c.rate} req/s, ${c.durationMs / 1000} s per run after ` +
    `${c.warmupMs / 1000} s of unrecorded warm-up, routes interleaved over ${c.rounds} rounds (lab/harness/measure with the probe preloaded in gw). Figures are medians ` +
    'over rounds; "added" is the difference from passthrough (for a row that names another baseline, from that row) paired within each round, then the median. CPU and heap are gw\'s, per request. ' +
    `Auth uses ${c.tokens} pre-signed ES256/RS256/EdDSA tokens, each verified once while priming, so every timed request is a verified-token cache hit. ` +
    'The API-key row presents one key made for the run with `gwc keys add` (X-Api-Key). The redis limiter talks to a redis-server started for the run. Every request carries a traceparent and an `X-Debug` header (removed by the headers stage).',
  ])
  out.push('## Checks', '', mdTable(['check', 'result', 'measured'], r.checks.map((k) => [k.what, k.verdict, k.measured]), ['l', 'l', 'l']), '')
  out.push('## Per stage', '')
  out.push(mdTable(['stage', 'req/s', 'p50 ms', 'p99 ms', 'added p99 µs', 'CPU µs/req', 'added CPU µs/req', 'heap B/req', 'added heap B/req', 'errors'],
    r.rows.map((x) => [label(x.stage), num(x.rps), num(x.p50), num(x.p99), x.stage === 'pass' ? '—' : `${signed(x.addedP99 * 1000)} (${x.addedP99Rounds.map((v) => Math.round(v * 1000)).join(', ')})`,
      num(x.cpuUsPerRequest), x.stage === 'pass' ? '—' : signed(x.addedCpuUs), bytes(x.heapBytesPerRequest), x.stage === 'pass' ? '—' : signed(x.addedHeapBytes), x.errors])), '')
  out.push('Per-round values of the added p99 are in brackets: seen from the client, p99 at 2,000 req/s on a shared 2-core machine moves by ' +
    'milliseconds between rounds (the load generator, the stub and Redis share one core), far more than any stage adds; gw\'s own view below, and the ' +
    'CPU and heap columns (a whole window\'s cost divided by its requests), are the steadier measures of a stage\'s price.', '')
  if (r.gwSide.length > 0) {
    out.push('### The same runs from gw\'s access log', '')
    out.push('`ms` is gw\'s time from a request\'s arrival to the end of its response; "own" is `ms − upstreamMs` (everything but waiting for ' +
      'the upstream\'s response headers: the stages, routing, forwarding, writing the answer). p99 per run over the route\'s lines written in its ' +
      'measured window, median over rounds; "added" paired per round with passthrough.', '')
    out.push(mdTable(['stage', 'access-log lines', 'gw p99 ms', 'added µs', 'gw own p99 µs', 'added own µs'],
      r.gwSide.map((g) => [label(g.stage), g.lines, num(g.p99), g.stage === 'pass' ? '—' : signed(g.addedP99 * 1000), num(g.ownP99 * 1000), g.stage === 'pass' ? '—' : signed(g.addedOwnP99 * 1000)])), '')
  }
  if (r.micro.length > 0) {
    out.push('## JWT verify with a warm cache (micro-benchmarks)', '')
    out.push(mdTable(['file', 'case', 'ns/op', 'p99 ns', 'B/op'], r.micro.map((m) => [m.file, m.name, num(m.nsPerOp), num(m.p99Ns), num(m.bytesPerOp)]), ['l', 'l', 'r', 'r', 'r']), '')
    out.push('`p99 ns` is the 99th percentile of batch means (bench/README.md, "Reading a file\'s table"). A token-cache miss verifies the signature (jose); ' +
      'it happens once per token and is not in these cases.', '')
  }
  if (r.tax !== null) {
    out.push(`## The same differences in the newest tax run (\`${r.tax.file}\`, scenario ${r.tax.scenario})`, '')
    out.push(mdTable(['target', 'p99 ms', 'p99 over gw-pass µs', 'CPU µs/req', 'over gw-pass', 'heap B/req', 'over gw-pass'],
      r.tax.rows.map((x) => [x.target, num(x.p99), signed(x.addedP99OverPass * 1000), num(x.cpu), signed(x.addedCpuOverPass), bytes(x.heap), signed(x.addedHeapOverPass)])), '')
    out.push('The tax targets use the topology\'s routes (their ratelimit and full-chain routes carry more stages than one), medians over that run\'s rounds, not paired differences.', '')
  }
  out.push(...chartsMarkdown(charts))
  return out.join('\n')
}

export function stageCharts(r: StageCostResult): { name: string; spec: TopLevelSpec }[] {
  const rows: BarRow[] = []
  for (const x of r.rows) {
    if (x.stage === 'pass') continue
    const g = r.gwSide.find((y) => y.stage === x.stage)
    rows.push({ group: x.stage, measure: 'added gw own p99 (µs)', value: (g?.addedOwnP99 ?? NaN) * 1000 }, { group: x.stage, measure: 'added CPU (µs/req)', value: x.addedCpuUs },
      { group: x.stage, measure: 'added heap (B/req)', value: x.addedHeapBytes })
  }
  const order = r.rows.map((x) => x.stage).filter((s) => s !== 'pass')
  return [{ name: 'stages', spec: barsSpec(rows, `marginal cost per stage over its baseline, passthrough unless labelled (${r.config.rate} req/s, paired per round)`, order, ['added gw own p99 (µs)', 'added CPU (µs/req)', 'added heap (B/req)']) }]
}
