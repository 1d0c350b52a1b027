// lab/probe/types.ts: what a probe reports (in-process for Node servers, from /proc for anything else),
// and the per-request division the tax table uses.

/** The cost of one Node process over a start→stop window (see process-probe.ts for how each is measured). */
export interface ProbeResult {
  pid: number
  wallMs: number
  /** CPU of the whole process (all threads: JS, GC helpers, libuv pool). `share` is of one core. */
  cpu: { userUs: number; systemUs: number; totalUs: number; share: number }
  /** V8 heap bytes allocated in the window (GC-freed + used delta); off-heap Buffers are not included. */
  heap: { allocatedBytes: number; freedByGcBytes: number; usedStartBytes: number; usedEndBytes: number }
  /** GCs in the window, their summed pause/cost time and its share of the wall time, count by V8 GC type. */
  gc: { count: number; timeMs: number; share: number; byType: Record<string, number> }
  /** Event-loop lateness (monitorEventLoopDelay at 10 ms resolution, the resolution subtracted), ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number }
  fds: { start: number; end: number }
  rssBytes: { start: number; end: number }
  /** Requests node:http started in the window, only when counting was asked for. */
  requests?: number
  /** Highest RSS and V8 used heap seen over the window (sampled), only when asked for (`peakEveryMs`). */
  peak?: { rssBytes: number; heapUsedBytes: number; samples: number }
}

/** The cost of a tree of (non-Node) processes read from /proc, e.g. nginx master + workers. */
export interface TreeProbeResult {
  rootPid: number
  /** Every pid of the tree seen at start or stop. */
  pids: number[]
  wallMs: number
  /** utime + stime summed over the tree, converted with the clock tick rate (`clkTck`). */
  cpu: { userUs: number; systemUs: number; totalUs: number; share: number; clkTck: number }
  fds: { start: number; end: number }
  rssBytes: { start: number; end: number }
  /** Highest summed RSS of the tree seen over the window (sampled), only when asked for. */
  peak?: { rssBytes: number; samples: number }
}

/** What the tax table wants per request. */
export interface PerRequestCost {
  requests: number
  cpuUsPerRequest: number
  heapBytesPerRequest?: number
}

/** Divides a probe window's cost by the requests served in it (from the load result's completed count). */
export function perRequest(r: ProbeResult | TreeProbeResult, requests: number): PerRequestCost {
  const n = Math.max(1, requests)
  const out: PerRequestCost = { requests, cpuUsPerRequest: Math.round((r.cpu.totalUs / n) * 10) / 10 }
  if ('heap' in r) out.heapBytesPerRequest = Math.round(r.heap.allocatedBytes / n)
  return out
}
