// Active health checks: `GET path` on each replica every interval over a connection of its own (so a
// saturated pool cannot fail the check), `unhealthy_after` failures take it out of rotation and
// `healthy_after` successes bring it back.
import type { Client } from 'undici'
import { undici } from '../lazy-require.js'
import type { ActiveHealthIR } from '../../config/ir.js'
import type { Replica } from './replica.js'

export class ActiveHealth {
  private timer: NodeJS.Timeout | null = null
  private readonly clients: Client[]
  private readonly streaks: number[]
  private stopped = false

  constructor(private readonly replicas: readonly Replica[], private readonly cfg: ActiveHealthIR, private readonly onChange?: (r: Replica, ok: boolean) => void) {
    this.clients = replicas.map(r => new (undici().Client)(r.origin, { pipelining: 1, headersTimeout: cfg.timeoutMs, bodyTimeout: cfg.timeoutMs, connect: { timeout: cfg.timeoutMs } }))
    this.streaks = replicas.map(() => 0)
  }

  start(): void {
    const tick = () => { void this.checkAll().finally(() => { if (!this.stopped) this.timer = setTimeout(tick, this.cfg.intervalMs).unref() }) }
    tick()
  }

  async checkAll(): Promise<void> {
    await Promise.all(this.replicas.map((r, i) => this.check(r, i)))
  }

  private async check(r: Replica, i: number): Promise<void> {
    let ok = false
    try {
      const res = await this.clients[i].request({ path: this.cfg.path, method: 'GET', headers: { 'user-agent': 'gwp-health-check' }, signal: AbortSignal.timeout(this.cfg.timeoutMs) })
      await res.body.dump()
      ok = res.statusCode >= 200 && res.statusCode < 400
    } catch { ok = false }
    if (this.stopped) return
    // streak > 0 counts successes, < 0 failures
    const s = this.streaks[i]
    this.streaks[i] = ok ? (s > 0 ? s + 1 : 1) : (s < 0 ? s - 1 : -1)
    if (r.activeHealthy && -this.streaks[i] >= this.cfg.unhealthyAfter) { r.setActiveHealthy(false); this.onChange?.(r, false) }
    else if (!r.activeHealthy && this.streaks[i] >= this.cfg.healthyAfter) { r.setActiveHealthy(true); this.onChange?.(r, true) }
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    await Promise.all(this.clients.map(c => c.destroy().catch(() => undefined)))
  }
}
