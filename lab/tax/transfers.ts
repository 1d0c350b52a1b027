// lab/tax/transfers.ts: 1 MiB downloads and uploads through every proxy (issue 13's "1 MiB downloads and uploads:
// at least today's MiB/s, with memory bounded under a slow reader"): the two scenarios' load specs and mixes (the
// stub's own `/bytes/N` and `/upload` endpoints, reserved on every replica, so every proxy forwards the same
// request to the same replicas), the slow reader (a raw client that reads a large download at a fixed pace while
// the proxy's RSS and heap are sampled), and the pure summaries the report and the goals read.
import { connect } from 'node:net'
import type { MixEntry } from '../../testkit/load/index.js'
import { byRound, METRICS, type LoadSpec, type RunRecord } from '../harness/measure.js'
import { median, paired, ratio } from '../harness/stats.js'
import { SCENARIO, type ScenarioPlan, type TransferConfig } from './config.js'
import type { TargetId } from './targets.js'

export const MIB = 1024 * 1024

/** Sampling period of the proxy's RSS/heap during transfers (the probe's timer; off in every other scenario). */
export const PEAK_EVERY_MS = 25

/** The two transfer scenarios: closed model, `concurrency` clients, each moving one `bytes` body per request. */
export function transferPlans(t: TransferConfig, targets: TargetId[]): ScenarioPlan[] {
  const spec: LoadSpec = { model: 'closed', concurrency: t.concurrency, durationMs: t.durationMs, warmupMs: t.warmupMs, timeoutMs: 30_000, peakEveryMs: PEAK_EVERY_MS }
  const size = t.bytes === MIB ? '1 MiB' : `${t.bytes} B`
  const how = `closed model, ${t.concurrency} concurrent, ${t.durationMs / 1000} s × ${t.rounds} rounds`
  return [
    { id: SCENARIO.download, title: `${size} downloads (GET /bytes/${t.bytes}): ${how}`, spec, targets },
    { id: SCENARIO.upload, title: `${size} uploads (POST /upload, the stub hashes and drops the body): ${how}`, spec, targets },
  ]
}

/** The request of a transfer scenario. */
export function transferMix(scenario: string, bytes: number): MixEntry[] {
  if (scenario === SCENARIO.download) return [{ method: 'GET', path: `/bytes/${bytes}`, host: 'api.bench.test' }]
  if (scenario === SCENARIO.upload) {
    return [{ method: 'POST', path: '/upload', host: 'api.bench.test', headers: { 'content-type': 'application/octet-stream' }, body: { size: bytes } }]
  }
  throw new Error(`not a transfer scenario: ${scenario}`)
}

export interface TransferRow {
  target: string
  rounds: number
  /** Median over rounds of MiB moved per second (completed transfers × body size ÷ window). */
  mibPerS: number
  /** Median proxy CPU µs per MiB moved; null for direct. */
  cpuUsPerMiB: number | null
  /** Median V8 heap bytes allocated per MiB moved (Node proxies). */
  heapBytesPerMiB: number | null
  /** Highest RSS and V8 used heap of the proxy over any round (sampled every PEAK_EVERY_MS). */
  rssPeakBytes: number | null
  heapPeakBytes: number | null
  errors: number
}

/** One row per target of a transfer scenario, in `order`. Pure: a function of the records. */
export function summarizeTransfers(records: RunRecord[], scenario: string, order: string[], bytes: number): TransferRow[] {
  const perMiB = MIB / bytes
  const out: TransferRow[] = []
  for (const target of order) {
    const rs = records.filter((r) => r.scenario === scenario && r.target === target)
    if (rs.length === 0) continue
    const fin = (xs: (number | null | undefined)[]): number[] => xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
    const cpu = fin(rs.map((r) => r.proxy?.cpuUsPerRequest))
    const heap = fin(rs.map((r) => r.proxy?.heapBytesPerRequest))
    const rss = fin(rs.map((r) => r.proxy?.rssPeakBytes))
    const heapPeak = fin(rs.map((r) => r.proxy?.heapPeakBytes))
    out.push({
      target, rounds: rs.length,
      mibPerS: median(rs.map((r) => r.load.rps / perMiB)),
      cpuUsPerMiB: cpu.length === 0 ? null : median(cpu) * perMiB,
      heapBytesPerMiB: heap.length === 0 ? null : median(heap) * perMiB,
      rssPeakBytes: rss.length === 0 ? null : Math.max(...rss),
      heapPeakBytes: heapPeak.length === 0 ? null : Math.max(...heapPeak),
      errors: rs.reduce((n, r) => n + r.load.errors, 0),
    })
  }
  return out
}

/** a's MiB/s ÷ b's (req/s of equal bodies), paired per round. */
export function transferRatio(records: RunRecord[], scenario: string, a: string, b: string): { median: number; perRound: number[] } {
  return paired(byRound(records, scenario, a, METRICS.rps), byRound(records, scenario, b, METRICS.rps), ratio)
}

// ---- the slow reader ----------------------------------------------------------------------------------------

export interface SlowClientResult {
  /** Status code of the response head (0 when none arrived). */
  status: number
  /** Bytes read (head included) before the client hung up. */
  bytes: number
  ms: number
  error?: string
}

/**
 * A client that downloads `path` from `url` over a raw socket and reads at most `rate` bytes per second (it
 * stops reading — `pause()`, so the kernel's window closes and the proxy sees backpressure — whenever it is ahead
 * of its pace), then hangs up after `ms`.
 */
export function slowRead(url: string, path: string, rate: number, ms: number, host = 'api.bench.test'): Promise<SlowClientResult> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const t0 = Date.now()
    let bytes = 0
    let head = ''
    let status = 0
    let timer: NodeJS.Timeout | undefined
    let done = false
    const sock = connect({ host: u.hostname, port: Number(u.port) })
    const finish = (error?: string): void => {
      if (done) return
      done = true
      clearTimeout(timer); clearTimeout(stop)
      sock.destroy()
      resolve({ status, bytes, ms: Date.now() - t0, ...(error === undefined ? {} : { error }) })
    }
    const stop = setTimeout(() => finish(), ms)
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`))
    sock.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (status === 0 && head.length < 64) {
        head += chunk.subarray(0, 64).toString('latin1')
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head)
        if (m !== null) status = Number(m[1])
      }
      const ahead = t0 + (bytes / rate) * 1000 - Date.now()
      if (ahead > 5) {
        sock.pause()
        timer = setTimeout(() => { if (!done) sock.resume() }, ahead)
      }
    })
    sock.on('end', () => finish())
    sock.on('error', (e) => finish(e.message))
  })
}

export interface SlowReaderResult {
  target: string
  readers: number
  /** Bytes per second each reader allows. */
  rate: number
  bodyBytes: number
  ms: number
  /** Statuses of the readers' responses, and the bytes they read together. */
  statuses: number[]
  bytesRead: number
  errors: string[]
  /** The proxy's RSS at the window's start and its peak, and the V8 used heap's peak (Node proxies). */
  rssStartBytes: number | null
  rssPeakBytes: number | null
  heapPeakBytes: number | null
}

/** RSS growth over the window's start, in MiB (null without a probe). */
export const slowGrowthMiB = (r: SlowReaderResult): number | null =>
  r.rssStartBytes === null || r.rssPeakBytes === null ? null : (r.rssPeakBytes - r.rssStartBytes) / MIB

/**
 * What a proxy would hold if it buffered every slow reader's whole body: the bound the goal's threshold sits far
 * below (the run's readers × the body they ask for).
 */
export const unboundedMiB = (r: Pick<SlowReaderResult, 'readers' | 'bodyBytes'>): number => (r.readers * r.bodyBytes) / MIB
