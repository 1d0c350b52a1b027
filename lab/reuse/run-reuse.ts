// lab/reuse/run-reuse.ts: the connection-reuse experiment — the same gw route over three upstream pools:
// keep-alive on (the default), keep-alive off (the upstream answers `Connection: close`, so every request opens a
// connection) and a pool too small for the load (`pool connections 2` under 50 concurrent requests) — measuring
// new upstream connections per second, p99, req/s and open fds, and the reuse ratio over a soak.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { interleave } from '../harness/interleave.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { measure, type LoadSpec, type MeasureContext, type MeasureTarget, type RunRecord } from '../harness/measure.js'
import { gwUpstreamCounters, scrapeGw } from '../harness/metrics-text.js'
import type { WrittenFiles } from '../harness/results-io.js'
import { startGw, startStubProcess, type GwProcess } from '../harness/rig.js'
import { tinyGwp } from '../harness/topology.js'
import { countProcFds } from '../probe/tree-reader.js'
import { reuseCharts, reuseMarkdown } from './report.js'
import { summarizeVariants, type VariantSummary } from './summary.js'

export type ReuseFlavour = Flavour

export interface Variant {
  id: 'keepalive' | 'no-keepalive' | 'small-pool'
  label: string
  /** Stub service the variant's upstream is. */
  upstream: 'ka' | 'close'
  connections: number
}

export const VARIANTS: readonly Variant[] = [
  { id: 'keepalive', label: 'keep-alive on (pool 64)', upstream: 'ka', connections: 64 },
  { id: 'no-keepalive', label: 'keep-alive off (upstream Connection: close)', upstream: 'close', connections: 64 },
  { id: 'small-pool', label: 'pool of 2 for 50 concurrent', upstream: 'ka', connections: 2 },
]

export interface ReuseConfig {
  rounds: number
  warmupMs: number
  durationMs: number
  concurrency: number
  /** The open-model rate: below the small pool's ceiling, so the variants compare at the same load. */
  rate: number
  soakMs: number
  /** Upstream service time (fixed, ms): makes a pool of 2 a real constraint. */
  upstreamLatencyMs: number
}

const CONFIGS: Record<ReuseFlavour, ReuseConfig> = {
  quick: { rounds: 2, warmupMs: 1000, durationMs: 3000, concurrency: 50, rate: 600, soakMs: 10_000, upstreamLatencyMs: 1 },
  full: { rounds: 4, warmupMs: 2000, durationMs: 10_000, concurrency: 50, rate: 600, soakMs: 120_000, upstreamLatencyMs: 1 },
}

export interface SoakReuse {
  variant: string
  durationS: number
  requests: number
  /** Δdispatched / Δopened over the soak (steady state; Infinity when no connection was opened). */
  steadyRatio: number
  newConnectionsPerS: number
  /** gw_upstream_dispatched_total / gw_upstream_connections_opened_total since gw started (the metric's definition). */
  cumulativeRatio: number
  opened: number
  dispatched: number
  fdsMedian: number
  fdsMax: number
  rps: number
  p99: number
}

export interface ReuseResult extends ResultHeader {
  config: ReuseConfig
  variants: readonly Variant[]
  scenarios: { id: string; title: string; spec: LoadSpec; summary: VariantSummary[] }[]
  soak: SoakReuse[]
  runs: (RunRecord & { fds: { median: number; max: number } })[]
}

export interface ReuseRunOptions extends ExperimentOptions { durationMs?: number; soakMs?: number }

/** Counts a process's open fds every 100 ms while `work` runs: churning connections show in the max, not at the ends. */
async function withFdSampler<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; median: number; max: number }> {
  const seen: number[] = []
  const timer = setInterval(() => { const n = countProcFds(pid); if (n >= 0) seen.push(n) }, 100)
  try {
    const value = await work()
    seen.sort((a, b) => a - b)
    return { value, median: seen.length === 0 ? NaN : seen[seen.length >> 1], max: seen.length === 0 ? NaN : seen[seen.length - 1] }
  } finally { clearInterval(timer) }
}

export async function runReuse(o: ReuseRunOptions): Promise<{ files: WrittenFiles; result: ReuseResult }> {
  const c: ReuseConfig = { ...CONFIGS[o.flavour], ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}), ...(o.soakMs !== undefined ? { soakMs: o.soakMs } : {}) }
  const { header, value } = await runExperiment('reuse', { maxWaitMs: 30 * 60_000, ...o }, 'gwp connection reuse', async ({ sup, dir, log, clock0, mark }) => {
    const runs: ReuseResult['runs'] = []
    const soak: SoakReuse[] = []
    const scenarios: ReuseResult['scenarios'] = []
    const rule = { path: '/', latency: c.upstreamLatencyMs }
    const stub = await startStubProcess(sup, dir, {
      seed: 1,
      services: [
        { name: 'ka', ports: [0], rules: [rule] },
        { name: 'close', ports: [0], rules: [{ ...rule, headers: { connection: 'close' } }] },
      ],
    })
    const gws = new Map<string, GwProcess>()
    for (const v of VARIANTS) {
      const file = join(dir, `${v.id}.gwp`)
      writeFileSync(file, tinyGwp({ replicas: [`127.0.0.1:${stub.ports.get(`${v.upstream}-1`)}`], connections: v.connections, idle: '30s', timeout: '30s' }))
      gws.set(v.id, await startGw(sup, file, { name: `gw-${v.id}` }))
      log(`started gw for ${v.label}`)
    }
    const ctx: MeasureContext = { stubControlUrl: stub.url('ka-1'), upstreamProbe: stub.probe, clock0 }
    const target = (v: Variant): MeasureTarget => {
      const gw = gws.get(v.id)!
      return { name: v.id, url: gw.url, mix: [{ method: 'GET', path: '/api/item/1' }], probe: gw.probe, gwAdminUrl: gw.adminUrl }
    }
    const plans: { id: string; title: string; spec: LoadSpec }[] = [
      { id: 'closed-50', title: `closed model, ${c.concurrency} concurrent requests (upstream answers in ${c.upstreamLatencyMs} ms)`,
        spec: { model: 'closed', concurrency: c.concurrency, durationMs: c.durationMs, warmupMs: c.warmupMs } },
      { id: `open-${c.rate}`, title: `open model, ${c.rate} req/s (every variant at the same load)`,
        spec: { model: 'open', rate: c.rate, connections: c.concurrency, durationMs: c.durationMs, warmupMs: c.warmupMs } },
    ]
    for (const p of plans) {
      log(`\n${p.title}`)
      mark(p.id)
      for (const slot of interleave(VARIANTS, c.rounds)) {
        const gw = gws.get(slot.target.id)!
        const s = await withFdSampler(gw.child.pid, () => measure(p.id, slot.round, target(slot.target), p.spec, ctx))
        runs.push({ ...s.value, fds: { median: s.median, max: s.max } })
        const r = s.value
        const perS = (r.gw?.opened ?? 0) / (r.load.durationMs / 1000)
        log(`  [round ${slot.round + 1}/${c.rounds}] ${slot.target.id.padEnd(13)} ${Math.round(r.load.rps)} req/s, p99 ${r.load.latencyMs.p99} ms, ` +
          `${perS.toFixed(1)} new upstream conns/s, fds median ${s.median} max ${s.max}${r.load.errors > 0 ? `, ${r.load.errors} errors` : ''}`)
      }
      scenarios.push({ ...p, summary: summarizeVariants(runs.filter((r) => r.scenario === p.id), VARIANTS.map((v) => v.id)) })
    }

    log(`\nsoak: ${c.soakMs / 1000} s per variant at ${c.concurrency} concurrent, reuse ratio = dispatched / opened`)
    mark('soak')
    for (const v of VARIANTS) {
      const gw = gws.get(v.id)!
      const spec: LoadSpec = { model: 'closed', concurrency: c.concurrency, durationMs: c.soakMs, warmupMs: c.warmupMs }
      const s = await withFdSampler(gw.child.pid, () => measure('soak', 0, target(v), spec, ctx))
      const r = s.value
      runs.push({ ...r, fds: { median: s.median, max: s.max } })
      const total = gwUpstreamCounters(await scrapeGw(gw.adminUrl))
      const opened = r.gw?.opened ?? 0
      const dispatched = r.gw?.dispatched ?? 0
      const row: SoakReuse = {
        variant: v.id, durationS: c.soakMs / 1000, requests: r.load.completed,
        steadyRatio: opened === 0 ? Infinity : dispatched / opened,
        newConnectionsPerS: opened / (c.soakMs / 1000),
        cumulativeRatio: total.opened === 0 ? Infinity : total.dispatched / total.opened,
        opened, dispatched, fdsMedian: s.median, fdsMax: s.max, rps: r.load.rps, p99: r.load.latencyMs.p99,
      }
      soak.push(row)
      log(`  ${v.id.padEnd(13)} ${dispatched} dispatched over ${opened} new connections: ${Number.isFinite(row.steadyRatio) ? row.steadyRatio.toFixed(1) : '∞'} requests/connection ` +
        `(cumulative since start ${Number.isFinite(row.cumulativeRatio) ? row.cumulativeRatio.toFixed(1) : '∞'}), ${row.newConnectionsPerS.toFixed(1)} new conns/s, fds max ${s.max}`)
    }
    return { scenarios, soak, runs }
  })
  const result: ReuseResult = { ...header, config: c, variants: VARIANTS, ...value }
  const files = await writeExperiment(result, (charts) => reuseMarkdown(result, charts), reuseCharts(result), o)
  return { files, result }
}
