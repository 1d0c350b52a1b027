// Load-balancing policies over an upstream's replicas. Each skips replicas out of rotation and those already
// tried by this request (a bitmask), and returns null when none is left.
import type { BalanceKind } from '../../config/ir.js'
import type { Replica } from './replica.js'

export type Pick = (replicas: readonly Replica[], tried: number, now: number) => Replica | null

const usable = (r: Replica, tried: number, now: number): boolean => (r.index > 30 || (tried & (1 << r.index)) === 0) && r.available(now)

export function createBalancer(kind: BalanceKind): Pick {
  switch (kind) {
    case 'round_robin': {
      let next = 0
      return (rs, tried, now) => { // HOT PATH
        for (let i = 0; i < rs.length; i++) {
          const r = rs[(next + i) % rs.length]
          // a retry (tried ≠ 0) does not move the cursor, so first attempts keep their even spread
          if (usable(r, tried, now)) { if (tried === 0) next = (r.index + 1) % rs.length; return r }
        }
        return null
      }
    }
    case 'least_conn': {
      let start = 0
      return (rs, tried, now) => { // HOT PATH: ties rotate so equal replicas share the load
        let best: Replica | null = null
        const n = rs.length
        for (let i = 0; i < n; i++) {
          const r = rs[(start + i) % n]
          if (usable(r, tried, now) && (best === null || r.inFlight < best.inFlight)) best = r
        }
        start = (start + 1) % n
        return best
      }
    }
    case 'random':
      return (rs, tried, now) => {
        const n = rs.length
        const s = (Math.random() * n) | 0
        for (let i = 0; i < n; i++) { const r = rs[(s + i) % n]; if (usable(r, tried, now)) return r }
        return null
      }
    case 'p2c_ewma':
      // Power of two choices: sample two usable replicas, keep the one with the lower expected wait
      // (latency EWMA × outstanding requests). Near-best choices at O(1) cost, no herd on one replica.
      return (rs, tried, now) => { // HOT PATH
        const n = rs.length
        const s = (Math.random() * n) | 0
        let a: Replica | null = null
        let b: Replica | null = null
        for (let i = 0; i < n && b === null; i++) {
          const r = rs[(s + i) % n]
          if (!usable(r, tried, now)) continue
          if (a === null) a = r
          else b = r
        }
        if (b === null) return a
        // the second pick is random among the rest, not always a's neighbour
        const off = 1 + ((Math.random() * (n - 1)) | 0)
        const c = rs[(a!.index + off) % n]
        if (c !== a && usable(c, tried, now)) b = c
        const cost = (r: Replica) => (r.ewma + 1) * (r.inFlight + 1)
        return cost(a!) <= cost(b) ? a : b
      }
  }
}
