// Per-replica counters (plain numbers bumped in place on the request path) and the JSON-ready snapshots that
// `stub.stats()` and `GET /__stub/stats` return, summed over any set of replicas.

/** Live counters of one replica. Gauges (`connectionsOpen`, `inFlight`) survive `resetCounters`. */
export interface Counters {
  requests: number
  byPath: Map<string, number>
  connectionsOpened: number
  connectionsOpen: number
  inFlight: number
  /** Responses the client abandoned: the response closed before it finished (excludes the stub's own resets). */
  aborted: number
  /** Connections the stub reset on purpose (/reset, `mode: reset`, `error.action: reset`). */
  resets: number
  /** Index = status code; counted when a response closes with its head sent. */
  statuses: Uint32Array
}

/** Distinct paths tracked per replica before the rest are lumped under OTHER_PATHS: bounded memory. */
export const MAX_PATHS = 1000
export const OTHER_PATHS = '(other)'

export function createCounters(): Counters {
  return { requests: 0, byPath: new Map(), connectionsOpened: 0, connectionsOpen: 0, inFlight: 0, aborted: 0, resets: 0, statuses: new Uint32Array(600) }
}

/** HOT PATH: one Map get/set keyed by the path string the router already sliced. */
export function countRequest(c: Counters, path: string): void {
  c.requests++
  c.inFlight++
  const n = c.byPath.get(path)
  if (n !== undefined) c.byPath.set(path, n + 1)
  else if (c.byPath.size < MAX_PATHS) c.byPath.set(path, 1)
  else c.byPath.set(OTHER_PATHS, (c.byPath.get(OTHER_PATHS) ?? 0) + 1)
}

/** Zero the cumulative counters; open connections and in-flight requests are facts, not history, and stay. */
export function resetCounters(c: Counters): void {
  c.requests = 0
  c.byPath.clear()
  c.connectionsOpened = 0
  c.aborted = 0
  c.resets = 0
  c.statuses.fill(0)
}

export interface CounterValues {
  requests: number
  byPath: Record<string, number>
  connectionsOpened: number
  connectionsOpen: number
  inFlight: number
  aborted: number
  resets: number
  /** Status code (as a string key) → responses sent with it. */
  statuses: Record<string, number>
}
export interface ReplicaStats extends CounterValues { name: string; group: string; healthy: boolean }
/** Totals over the selected replicas, plus each of them. */
export interface StubStats extends CounterValues { replicas: ReplicaStats[] }

export interface CountedReplica { name: string; group: string; healthy: boolean; counters: Counters }

export function snapshot(list: readonly CountedReplica[]): StubStats {
  const replicas = list.map((r) => ({ name: r.name, group: r.group, healthy: r.healthy, ...values(r.counters) }))
  const total: StubStats = { requests: 0, byPath: {}, connectionsOpened: 0, connectionsOpen: 0, inFlight: 0, aborted: 0, resets: 0, statuses: {}, replicas }
  for (const r of replicas) {
    total.requests += r.requests
    total.connectionsOpened += r.connectionsOpened
    total.connectionsOpen += r.connectionsOpen
    total.inFlight += r.inFlight
    total.aborted += r.aborted
    total.resets += r.resets
    for (const [k, v] of Object.entries(r.byPath)) total.byPath[k] = (total.byPath[k] ?? 0) + v
    for (const [k, v] of Object.entries(r.statuses)) total.statuses[k] = (total.statuses[k] ?? 0) + v
  }
  return total
}

function values(c: Counters): CounterValues {
  const statuses: Record<string, number> = {}
  c.statuses.forEach((n, code) => { if (n > 0) statuses[code] = n })
  return {
    requests: c.requests, byPath: Object.fromEntries(c.byPath), connectionsOpened: c.connectionsOpened,
    connectionsOpen: c.connectionsOpen, inFlight: c.inFlight, aborted: c.aborted, resets: c.resets, statuses,
  }
}
