// lab/probe/process-probe.ts: measures the cost of the current Node process between start() and stop():
// CPU, heap bytes allocated, GC time, event-loop delay, open fds, RSS. Used in-process by preload.ts.
import { readdirSync } from 'node:fs'
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks'
import { GCProfiler, getHeapStatistics } from 'node:v8'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { ProbeResult } from './types.js'

export interface ProbeStartOptions {
  /**
   * Count requests served (node:http's `http.server.request.start` diagnostics channel). Off by default: a
   * subscriber makes node:http build one small message object per request, which the heap figure would include.
   */
  countRequests?: boolean
  /**
   * Sample RSS and V8 used heap every this many ms and report their peaks over the window (`peak`). Off by default
   * (the sampling timer wakes the process): the transfer and slow-reader runs of the tax table ask for it.
   */
  peakEveryMs?: number
}

/** Counts the process's open file descriptors (minus the one readdir itself holds). */
export function countFds(): number {
  try { return readdirSync('/proc/self/fd').length - 1 } catch { return -1 }
}

/** Event-loop delay sampling period. 10 ms (Node's default): finer sampling wakes the server more often and adds to its CPU. */
const ELD_RESOLUTION_MS = 10

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/**
 * A probe of this process. start() and stop() may be called any number of times, alternately; stop() without
 * start() throws. Nothing it creates keeps the event loop alive (the delay monitor's timer is unref'd by Node).
 */
export function createProcessProbe(): { start(opts?: ProbeStartOptions): void; stop(): ProbeResult; readonly running: boolean } {
  let running = false
  let t0 = 0
  let cpu0: NodeJS.CpuUsage = { user: 0, system: 0 }
  let used0 = 0
  let fds0 = 0
  let rss0 = 0
  let gc: GCProfiler | null = null
  let eld: IntervalHistogram | null = null
  let requests = -1
  const onRequest = (): void => { requests++ }
  let sampler: NodeJS.Timeout | null = null
  let peakRss = 0
  let peakHeap = 0
  let peakSamples = 0
  const samplePeak = (): void => {
    const rss = process.memoryUsage.rss()
    const heap = getHeapStatistics().used_heap_size
    if (rss > peakRss) peakRss = rss
    if (heap > peakHeap) peakHeap = heap
    peakSamples++
  }

  return {
    get running() { return running },
    start(opts = {}) {
      if (running) throw new Error('probe: already started')
      running = true
      requests = -1
      if (opts.countRequests) { requests = 0; subscribe('http.server.request.start', onRequest) }
      fds0 = countFds()
      rss0 = process.memoryUsage.rss()
      peakRss = 0; peakHeap = 0; peakSamples = 0
      if (opts.peakEveryMs !== undefined && opts.peakEveryMs > 0) {
        samplePeak()
        sampler = setInterval(samplePeak, opts.peakEveryMs)
        sampler.unref()
      }
      eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS })
      eld.enable()
      gc = new GCProfiler()
      gc.start()
      // Baselines last, right before the window opens, so the probe's own setup is outside it.
      used0 = getHeapStatistics().used_heap_size
      cpu0 = process.cpuUsage()
      t0 = performance.now()
    },
    stop() {
      if (!running || gc === null || eld === null) throw new Error('probe: stop() without start()')
      // Readings first, in this order, so the probe's own work below is outside the window.
      const wallMs = performance.now() - t0
      const cpu = process.cpuUsage(cpu0)
      const used1 = getHeapStatistics().used_heap_size
      const profile = gc.stop()
      eld.disable()
      const sampled = sampler !== null
      if (sampler !== null) { clearInterval(sampler); sampler = null; samplePeak() }
      running = false
      if (requests >= 0) unsubscribe('http.server.request.start', onRequest)
      // Heap bytes allocated in the window, by conservation: every byte allocated in the window is either
      // still in the heap at stop (counted by the used-heap delta, garbage included) or was reclaimed by a GC
      // in the window (counted as usedHeapSize before minus after, summed over GCs). The identity is exact
      // for the V8 heap; it leaves out off-heap memory (Buffer/ArrayBuffer backing stores, counted by RSS).
      // Bytes reclaimed that were allocated *before* the window are the one bias: they are matched by garbage
      // allocated in the window and still uncollected at stop in a steady state, and vanish over long windows.
      // v8.GCProfiler reports each GC synchronously with stop() and its cost; PerformanceObserver 'gc' entries
      // arrive asynchronously and can miss the last GCs of a window, so GC time comes from the profiler too.
      let freed = 0
      let gcUs = 0
      const byType: Record<string, number> = {}
      for (const s of profile?.statistics ?? []) {
        freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
        gcUs += s.cost
        byType[s.gcType] = (byType[s.gcType] ?? 0) + 1
      }
      // The delay histogram records the interval between its timer's wake-ups, i.e. resolution + lateness:
      // subtract the resolution to report lateness alone.
      const ns = (x: number): number => round3(Math.max(0, x / 1e6 - ELD_RESOLUTION_MS))
      const result: ProbeResult = {
        pid: process.pid,
        wallMs: round3(wallMs),
        cpu: {
          userUs: cpu.user,
          systemUs: cpu.system,
          totalUs: cpu.user + cpu.system,
          share: round3((cpu.user + cpu.system) / 1000 / Math.max(wallMs, 1e-3)),
        },
        heap: { allocatedBytes: Math.max(0, used1 - used0 + freed), freedByGcBytes: freed, usedStartBytes: used0, usedEndBytes: used1 },
        gc: { count: profile?.statistics.length ?? 0, timeMs: round3(gcUs / 1000), share: round3(gcUs / 1000 / Math.max(wallMs, 1e-3)), byType },
        eventLoopDelayMs: eld.count > 0
          ? { p50: ns(eld.percentile(50)), p99: ns(eld.percentile(99)), max: ns(eld.max), mean: ns(eld.mean) }
          : { p50: 0, p99: 0, max: 0, mean: 0 },
        fds: { start: fds0, end: countFds() },
        rssBytes: { start: rss0, end: process.memoryUsage.rss() },
        ...(requests >= 0 ? { requests } : {}),
        ...(sampled ? { peak: { rssBytes: peakRss, heapUsedBytes: peakHeap, samples: peakSamples } } : {}),
      }
      gc = null
      eld = null
      return result
    },
  }
}
