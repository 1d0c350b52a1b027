// The in-memory limiter: GCRA arrival times in a Map, per process. With several worker processes each
// keeps its own counts, so a limit of N allows up to N × workers in total; use `redis` for an exact shared
// limit. Keys whose arrival time has passed hold no information and are swept periodically.
import { gcra, type Decision, type GcraParams } from './gcra.js'

const MAX_KEYS = 1_000_000

export class LocalLimiter {
  private readonly tats = new Map<string, number>()
  private readonly sweeper: NodeJS.Timeout

  constructor(readonly params: GcraParams, sweepMs: number) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(1000, Math.min(sweepMs, 60_000))).unref()
  }

  take(key: string, now: number, out: Decision): void { // HOT PATH
    const tat = this.tats.get(key) ?? 0
    const next = gcra(tat, now, this.params, out)
    if (next !== tat) {
      if (tat === 0 && this.tats.size >= MAX_KEYS) this.sweep(now)
      this.tats.set(key, next)
    }
  }

  private sweep(now: number): void {
    for (const [k, t] of this.tats) if (t <= now) this.tats.delete(k)
    // still over the cap after dropping expired keys: drop the oldest entries (they are the nearest to expiry)
    if (this.tats.size >= MAX_KEYS) for (const k of this.tats.keys()) { this.tats.delete(k); if (this.tats.size < MAX_KEYS * 0.9) break }
  }

  get size(): number { return this.tats.size }
  stop(): void { clearInterval(this.sweeper) }
}
