// bench/runtime/kit/measure.ts: how one micro-benchmark case is measured: time per op (tinybench, over
// batches of calls) and heap bytes allocated per op (V8's heap accounting around a fixed number of ops).
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { Bench } from 'tinybench'

export interface CaseSpec {
  /** Reads well in a table: what is timed, on what input. */
  name: string
  /** One line on what an op allocates (the table's last column). */
  note: string
  fn: () => unknown
  /** Yield to the event loop between batches: the op queues I/O that must drain (the access log). */
  yields?: boolean
}

export interface CaseResult {
  name: string
  note: string
  /** Mean time per op. */
  nsPerOp: number
  /** 99th percentile of the per-op time of a batch (batch mean), not of single calls: see measureCase. */
  p99Ns: number
  /**
   * The fastest batch's per-op time: what the op costs when nothing else takes the CPU. On this shared
   * machine it repeats between runs where the mean moves by a third, so baselines are compared on it.
   */
  minNs: number
  /** tinybench's relative margin of error of the mean, %. */
  rmePct: number
  opsPerSec: number
  /** Heap bytes allocated per op (V8 heap only: Buffer backing stores off the heap are not counted). */
  bytesPerOp: number
  /** Calls per timed batch. */
  batch: number
  /** Timed batches. */
  samples: number
  /** Ops in the allocation window. */
  allocOps: number
  /** GCs that ran inside the allocation window. */
  allocGcs: number
}

export interface MeasureOptions {
  /** tinybench time budget per case, ms. */
  timeMs: number
  /** Ops in the allocation window (rounded to whole batches). */
  allocOps: number
}

/** A batch is timed as one sample: long enough that the clock's own cost (~50 ns a read) is below 0.5 %. */
const TARGET_BATCH_NS = 20_000
const MAX_BATCH = 100_000
const ALLOC_WINDOWS = 3
const ALLOC_WINDOW_MS = 150
const MIN_ALLOC_OPS = 20_000

const hr = process.hrtime.bigint
const immediate = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

type Batch = (k: number) => void

/**
 * A batch loop of its own for each case. `new Function` compiles a fresh function, so each case's call site
 * collects its own type feedback: one loop shared by every case would go megamorphic after a few cases and
 * time the later ones through a slower, non-inlined call. Every result is stored in `sink`, so an op's
 * result escapes (V8 can neither drop the call nor scalar-replace what it allocates).
 */
function compileBatch(fn: () => unknown): Batch {
  const sink = { v: undefined as unknown }
  return new Function('fn', 'sink', 'return function batch(k) { for (let i = 0; i < k; i++) sink.v = fn() }')(fn, sink) as Batch
}

/** Calls per batch so one batch takes about TARGET_BATCH_NS at the current (warmed) speed. */
function calibrate(batch: Batch, start: number): number {
  let k = start
  for (let round = 0; round < 40; round++) {
    const t0 = hr()
    batch(k)
    const ns = Number(hr() - t0)
    if (ns >= TARGET_BATCH_NS || k >= MAX_BATCH) break
    k = Math.min(MAX_BATCH, ns <= 0 ? k * 10 : Math.max(k * 2, Math.ceil((k * TARGET_BATCH_NS) / ns)))
  }
  return k
}

let gcFn: (() => void) | undefined
/** global.gc under --expose-gc (the runner passes it); otherwise the flag is set late and gc fetched from a fresh context. */
function forceGc(): void {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc
    if (typeof g === 'function') gcFn = g
    else { setFlagsFromString('--expose-gc'); gcFn = runInNewContext('gc') as () => void }
  }
  gcFn()
}

/**
 * Heap bytes allocated by `ops` calls. Method (the one lab/probe uses for whole processes): force a full
 * GC so no garbage from before is left, then count conservatively — every byte allocated in the window is
 * either still on the heap at the end (the used-heap delta) or was reclaimed by a GC inside the window (the
 * before-minus-after of each GC, which v8.GCProfiler reports synchronously). A bare heapUsed /
 * getHeapStatistics delta would miss whatever the scavenger reclaims mid-window (100,000 ops of 200 bytes
 * fill the young generation several times over), and a sampling heap profiler is statistical and slows the
 * code it watches. Not counted: Buffer/ArrayBuffer backing stores (off-heap).
 */
async function measureAlloc(batch: Batch, k: number, ops: number, yields: boolean): Promise<{ bytesPerOp: number; ops: number; gcs: number }> {
  const batches = Math.max(1, Math.round(ops / k))
  // Yielding costs an allocation of its own (a promise, an immediate): only every ≥ 1,000 ops.
  const yieldEvery = Math.max(1, Math.ceil(1000 / k))
  forceGc()
  forceGc()
  const profiler = new GCProfiler()
  profiler.start()
  const used0 = getHeapStatistics().used_heap_size
  for (let b = 1; b <= batches; b++) {
    batch(k)
    if (yields && b % yieldEvery === 0) await immediate()
  }
  const used1 = getHeapStatistics().used_heap_size
  const profile = profiler.stop()
  let freed = 0
  for (const s of profile?.statistics ?? []) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
  const total = batches * k
  return { bytesPerOp: Math.max(0, used1 - used0 + freed) / total, ops: total, gcs: profile?.statistics.length ?? 0 }
}

/**
 * Measures one case. Timing: tinybench runs the case for `timeMs`, each sample a batch of calls timed with
 * hrtime and reported as the batch's per-call mean (`overriddenDuration`), because a single call of a 20 ns
 * op is below what two clock reads can resolve. So p99 is the p99 of batch means: it shows GC pauses and
 * other processes on this shared machine, not the spread of single calls; min is the fastest batch.
 */
export async function measureCase(c: CaseSpec, o: MeasureOptions): Promise<CaseResult> {
  const batch = compileBatch(c.fn)
  // Size batches, run them for up to 100 ms so V8 optimises the batch and the op, then size them again at that speed.
  let k = calibrate(batch, 1)
  const warmEnd = performance.now() + Math.min(100, Math.max(10, o.timeMs / 5))
  while (performance.now() < warmEnd) { batch(k); if (c.yields) await immediate() }
  k = calibrate(batch, Math.max(1, k >> 2))

  const timed = (): { overriddenDuration: number; overriddenIterationCost: number } => {
    const t0 = hr()
    batch(k)
    const ms = Number(hr() - t0) / 1e6
    return { overriddenDuration: ms / k, overriddenIterationCost: ms }
  }
  const bench = new Bench({ time: o.timeMs, iterations: 16, warmup: true, warmupTime: Math.min(50, o.timeMs / 4), warmupIterations: 4, throws: true })
  if (c.yields) bench.add(c.name, async () => { const r = timed(); await immediate(); return r })
  else bench.add(c.name, timed)
  await bench.run()
  const r = bench.tasks[0].result
  if (r.state !== 'completed') throw new Error(`case ${JSON.stringify(c.name)} did not complete: ${r.state === 'errored' ? r.error.message : r.state}`)
  const lat = r.latency
  // Noise only ever adds bytes (a JIT job finishing, a timer's allocation landing in the window), while an
  // op's own allocation repeats exactly: the smallest of three windows is the estimate.
  // A window holds `allocOps` ops, fewer for slow cases (≤ ALLOC_WINDOW_MS, never under MIN_ALLOC_OPS).
  const ops = Math.min(o.allocOps, Math.max(MIN_ALLOC_OPS, Math.round(ALLOC_WINDOW_MS / lat.mean)))
  let alloc = await measureAlloc(batch, k, ops, c.yields === true)
  for (let i = 1; i < ALLOC_WINDOWS; i++) {
    const again = await measureAlloc(batch, k, ops, c.yields === true)
    if (again.bytesPerOp < alloc.bytesPerOp) alloc = again
  }
  const nsPerOp = lat.mean * 1e6
  return {
    name: c.name,
    note: c.note,
    nsPerOp: round(nsPerOp, 2),
    p99Ns: round(lat.p99 * 1e6, 2),
    minNs: round(lat.min * 1e6, 2),
    rmePct: round(lat.rme, 2),
    opsPerSec: Math.round(1e9 / nsPerOp),
    bytesPerOp: round(alloc.bytesPerOp, 1),
    batch: k,
    samples: lat.samplesCount,
    allocOps: alloc.ops,
    allocGcs: alloc.gcs,
  }
}

const round = (x: number, digits: number): number => { const f = 10 ** digits; return Math.round(x * f) / f }
