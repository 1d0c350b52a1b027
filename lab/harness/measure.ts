// lab/harness/measure.ts: one measured run of one target — warm up, open the cost windows (proxy probe, stub
// probe, connection counters), drive the load, close them — and the record the reports are built from.
import { performance } from 'node:perf_hooks'
import { runClosed, runOpen, type LoadResult, type MixEntry } from '../../testkit/load/index.js'
import type { LatencySummary } from '../../testkit/load/histogram.js'
import type { SecondSample } from '../../testkit/load/result.js'
import type { ProbeResult, TreeProbeResult } from '../probe/types.js'
import { gwUpstreamCounters, scrapeGw, stubTotals } from './metrics-text.js'
import type { ByRound } from './stats.js'
import type { ProbeDriver } from './rig.js'

export interface LoadSpec {
  model: 'open' | 'closed'
  /** Open model: arrival rate, req/s. */
  rate?: number
  /** Closed model: concurrent workers. */
  concurrency?: number
  /** Client connections (open default 64; closed default = concurrency). */
  connections?: number
  durationMs: number
  /** A separate, unrecorded run at the same load before the cost windows open. */
  warmupMs: number
  timeoutMs?: number
  /** Sample the proxy's RSS (and V8 heap) every this many ms in the window and record their peaks (transfers). */
  peakEveryMs?: number
}

export interface MeasureTarget {
  name: string
  /** Origin the load generator sends to. */
  url: string
  mix: MixEntry[]
  /** The proxy process's cost window; null for direct-to-upstream. */
  probe: ProbeDriver | null
  /** gw's admin origin: its upstream connection counters are read around the run too. */
  gwAdminUrl?: string
}

export interface MeasureContext {
  /** Any replica of the stub process (its control plane answers for all of them). */
  stubControlUrl: string
  /** The stub process's own cost (to show the upstream is not the bottleneck); optional. */
  upstreamProbe: ProbeDriver | null
  /** performance.now() when the whole benchmark started: runs are placed on one time line. */
  clock0: number
}

/** What a load run says, without the request mix (which can be 1,000 token entries long). */
export interface LoadDigest {
  model: 'open' | 'closed'
  description: string
  /** The measured window (the series may run past it while in-flight requests drain). */
  durationMs: number
  requestedRps: number | null
  sentRps: number
  rps: number
  completed: number
  ok: number
  errors: number
  errorKinds: Record<string, number>
  errorSamples: string[]
  statuses: Record<string, number>
  latencyMs: LatencySummary
  serviceTimeMs: LatencySummary | null
  generatorCpuShare: number
  /** Open model: p99 of how late the generator sent against its schedule (its own stalls, not the target's). */
  scheduleLagP99Ms: number | null
  clientConnectionsOpened: number
  /** Body bytes the generator sent and received in the measured window (older records: absent). */
  bytes?: { sent: number; received: number }
  warnings: string[]
  series: SecondSample[]
}

/** Cost of the proxy process over the window, per request where it divides. */
export interface ProxyCost {
  kind: 'node' | 'tree'
  cpuUsPerRequest: number
  cpuShare: number
  heapBytesPerRequest: number | null
  gcShare: number | null
  gcCount: number | null
  eventLoopDelayP99Ms: number | null
  /** The longest event-loop stall in the window: a stall every few seconds hides below the p99 but not here. */
  eventLoopDelayMaxMs?: number | null
  fdsStart: number
  fdsEnd: number
  rssEndBytes: number
  /** V8 used heap at the end of the window (soak checks). */
  heapUsedEndBytes: number | null
  /** RSS at the start of the window, and the peaks of RSS and V8 used heap over it (sampled runs only). */
  rssStartBytes?: number
  rssPeakBytes?: number | null
  heapPeakBytes?: number | null
}

export interface RunRecord {
  scenario: string
  target: string
  round: number
  /** Start of the measured window, seconds since the benchmark began. */
  startS: number
  load: LoadDigest
  proxy: ProxyCost | null
  upstream: {
    /** New TCP connections the stub accepted during the window (from any client: the proxy, or the generator for direct). */
    connectionsOpened: number
    cpuUsPerRequest: number | null
    cpuShare: number | null
  }
  /** gw's own counters over the window (gw targets only). */
  gw: { opened: number; dispatched: number } | null
  /** A second load stream run alongside (the small-request latency probe of the topology mix). */
  companion?: LoadDigest
}

/** A second, concurrent load stream against the same target: its latency is reported apart from the main mix's. */
export interface Companion { mix: MixEntry[]; spec: LoadSpec }

export function digestLoad(r: LoadResult): LoadDigest {
  return {
    model: r.model,
    description: r.description,
    durationMs: r.config.durationMs,
    requestedRps: r.rate.requested ?? null,
    sentRps: r.rate.sent,
    rps: r.rate.completed,
    completed: r.requests.completed,
    ok: r.requests.ok,
    errors: r.requests.errors,
    errorKinds: { ...r.errors.byKind },
    errorSamples: r.errors.samples,
    statuses: r.status,
    latencyMs: r.latencyMs,
    serviceTimeMs: r.serviceTimeMs ?? null,
    generatorCpuShare: r.generator.cpuShare,
    scheduleLagP99Ms: r.schedule?.lagMs.p99 ?? null,
    clientConnectionsOpened: r.connections.opened,
    bytes: { sent: r.bytes.sent, received: r.bytes.received },
    warnings: r.warnings,
    series: r.series,
  }
}

/** Divides a probe window by the requests completed in it. */
export function proxyCost(p: ProbeResult | TreeProbeResult, completed: number): ProxyCost {
  const n = Math.max(1, completed)
  const r1 = (x: number): number => Math.round(x * 10) / 10
  if ('heap' in p) {
    return {
      kind: 'node', cpuUsPerRequest: r1(p.cpu.totalUs / n), cpuShare: p.cpu.share,
      heapBytesPerRequest: Math.round(p.heap.allocatedBytes / n), gcShare: p.gc.share, gcCount: p.gc.count,
      eventLoopDelayP99Ms: p.eventLoopDelayMs.p99, eventLoopDelayMaxMs: p.eventLoopDelayMs.max, fdsStart: p.fds.start, fdsEnd: p.fds.end, rssEndBytes: p.rssBytes.end,
      heapUsedEndBytes: p.heap.usedEndBytes, rssStartBytes: p.rssBytes.start,
      ...(p.peak === undefined ? {} : { rssPeakBytes: p.peak.rssBytes, heapPeakBytes: p.peak.heapUsedBytes }),
    }
  }
  return {
    kind: 'tree', cpuUsPerRequest: r1(p.cpu.totalUs / n), cpuShare: p.cpu.share, heapBytesPerRequest: null, gcShare: null, gcCount: null,
    eventLoopDelayP99Ms: null, eventLoopDelayMaxMs: null, fdsStart: p.fds.start, fdsEnd: p.fds.end, rssEndBytes: p.rssBytes.end, heapUsedEndBytes: null,
    rssStartBytes: p.rssBytes.start, ...(p.peak === undefined ? {} : { rssPeakBytes: p.peak.rssBytes, heapPeakBytes: null }),
  }
}

/**
 * Runs the load generator once (this process) against `url`: `warmupMs` of unrecorded load on the same client
 * connections, then `durationMs` measured.
 */
export function drive(url: string, mix: MixEntry[], spec: LoadSpec, durationMs: number, warmupMs = 0): Promise<LoadResult> {
  const common = { url, mix, durationMs, warmupMs, timeoutMs: spec.timeoutMs ?? 5000 }
  if (spec.model === 'open') {
    if (spec.rate === undefined) throw new Error('measure: open model needs a rate')
    return runOpen({ ...common, rate: spec.rate, connections: spec.connections ?? 64 })
  }
  if (spec.concurrency === undefined) throw new Error('measure: closed model needs a concurrency')
  return runClosed({ ...common, concurrency: spec.concurrency, connections: spec.connections ?? spec.concurrency })
}

interface WindowStart { stub: { connectionsOpened: number }; gw: { opened: number; dispatched: number } | null; at: number }

/**
 * One run: the load starts with `warmupMs` of unrecorded load, and when the generator's measured window opens the
 * cost windows open too (proxy probe, stub probe, connection counters) — so the measured requests ride on warm
 * client connections, never paying for a connect storm at their start. The probe windows end after the drain and
 * are divided by every response of the measured window, so numerator and denominator cover the same requests.
 */
export async function measure(scenario: string, round: number, target: MeasureTarget, spec: LoadSpec, ctx: MeasureContext, companion?: Companion): Promise<RunRecord> {
  let opened = false
  const openWindow = async (): Promise<WindowStart> => {
    const [stub, gw] = await Promise.all([
      stubTotals(ctx.stubControlUrl),
      target.gwAdminUrl === undefined ? null : scrapeGw(target.gwAdminUrl).then((s) => gwUpstreamCounters(s)),
      target.probe?.start(spec.peakEveryMs === undefined ? undefined : { peakEveryMs: spec.peakEveryMs }),
      ctx.upstreamProbe?.start(),
    ])
    opened = true
    return { stub, gw, at: performance.now() }
  }
  // The generator begins its measured window `warmupMs` after it starts (both models); open ours on the same tick.
  let timer: NodeJS.Timeout | undefined
  const windowStart: Promise<WindowStart> = spec.warmupMs > 0
    ? new Promise((resolve, reject) => { timer = setTimeout(() => { openWindow().then(resolve, reject) }, spec.warmupMs) })
    : openWindow()
  if (spec.warmupMs === 0) await windowStart
  let load: LoadResult
  let side: LoadResult | null
  let w0: WindowStart
  let up: ProbeResult | TreeProbeResult | undefined
  let px: ProbeResult | TreeProbeResult | undefined
  try {
    [load, side] = await Promise.all([
      drive(target.url, target.mix, spec, spec.durationMs, spec.warmupMs),
      companion === undefined ? null : drive(target.url, companion.mix, companion.spec, spec.durationMs, spec.warmupMs),
    ])
    w0 = await windowStart
  } finally {
    clearTimeout(timer)
    // Close the windows even when the run threw, so the next run can open them again.
    if (!opened) await windowStart.catch(() => undefined)
    up = await ctx.upstreamProbe?.stop().catch(() => undefined)
    px = await target.probe?.stop().catch(() => undefined)
  }
  const [stub1, gw1] = await Promise.all([
    stubTotals(ctx.stubControlUrl),
    target.gwAdminUrl === undefined ? null : scrapeGw(target.gwAdminUrl).then((s) => gwUpstreamCounters(s)),
  ])
  const digest = digestLoad(load)
  const sideDigest = side === null ? undefined : digestLoad(side)
  // Costs are per request of everything the process served in the window, companion stream included.
  const served = digest.completed + (sideDigest?.completed ?? 0)
  const upCost = up === undefined ? null : proxyCost(up, served)
  const startS = (w0.at - ctx.clock0) / 1000
  return {
    scenario, target: target.name, round, startS: Math.round(startS * 1000) / 1000,
    load: digest,
    proxy: px === undefined ? null : proxyCost(px, served),
    upstream: { connectionsOpened: stub1.connectionsOpened - w0.stub.connectionsOpened, cpuUsPerRequest: upCost?.cpuUsPerRequest ?? null, cpuShare: upCost?.cpuShare ?? null },
    gw: w0.gw === null || gw1 === null ? null : { opened: gw1.opened - w0.gw.opened, dispatched: gw1.dispatched - w0.gw.dispatched },
    ...(sideDigest === undefined ? {} : { companion: sideDigest }),
  }
}

/** One number of a run (null when the run did not measure it). */
export type Metric = (r: RunRecord) => number | null

export const METRICS = {
  rps: (r: RunRecord) => r.load.rps,
  p50: (r: RunRecord) => r.load.latencyMs.p50,
  p99: (r: RunRecord) => r.load.latencyMs.p99,
  p999: (r: RunRecord) => r.load.latencyMs.p999,
  cpu: (r: RunRecord) => r.proxy?.cpuUsPerRequest ?? null,
  heap: (r: RunRecord) => r.proxy?.heapBytesPerRequest ?? null,
  perCore: (r: RunRecord) => (r.proxy === null || r.proxy.cpuShare <= 0 ? null : r.load.rps / r.proxy.cpuShare),
  cpuShare: (r: RunRecord) => r.proxy?.cpuShare ?? null,
} satisfies Record<string, Metric>

/** round → metric for one target of one scenario. */
export function byRound(records: RunRecord[], scenario: string, target: string, f: Metric): ByRound {
  const m: ByRound = new Map()
  for (const r of records) {
    if (r.scenario !== scenario || r.target !== target) continue
    const v = f(r)
    if (v !== null && Number.isFinite(v)) m.set(r.round, v)
  }
  return m
}
