// Attempt deadlines on a timing wheel: one shared 10 ms tick instead of a Node timer per attempt. A Node timer
// costs an allocation, a timer-list insert and a removal per request (~1.5 µs and ~200 bytes measured on the
// hot path); here an attempt is an array slot, cleared when it ends so a finished request is never kept alive
// by the wheel. Deadlines fire up to one tick late, which is fine for route timeouts (short ones, under two
// ticks, still use a precise Node timer). The tick only runs while deadlines are pending.

export interface Timed {
  /** Where the wheel put it (-1: not on the wheel). */
  wheelSlot: number
  wheelPos: number
  onDeadline(): void
}

const TICK_MS = 10
const SLOTS = 4096 // a turn of the wheel: the ~41 s horizon; longer deadlines use a Node timer

export class DeadlineWheel {
  private readonly slots: (Timed | null)[][] = Array.from({ length: SLOTS }, () => [])
  private timer: NodeJS.Timeout | null = null
  private lastTick = 0
  private live = 0

  /**
   * `now` is the clock the tick reads (callers of `add` pass their own `now`, so the hot path never calls it);
   * tests inject a manual clock and call `tick()` themselves.
   */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Schedule `t` to expire at `fireAt`; returns false when the caller should use a Node timer instead. */
  add(t: Timed, fireAt: number, now: number): boolean { // HOT PATH
    const dueTick = Math.ceil(fireAt / TICK_MS)
    // The horizon counts from the last tick the wheel visited, not from `now`: while the event loop is busy the
    // interval runs late, and its catch-up visits every slot after that tick, so a slot more than a turn past
    // it would be visited (and fired) a whole turn early.
    if (fireAt - now < 2 * TICK_MS || dueTick - (this.timer === null ? Math.floor(now / TICK_MS) : this.lastTick) > SLOTS) return false
    if (this.timer === null) this.start(now)
    const slot = dueTick % SLOTS
    const list = this.slots[slot]
    t.wheelSlot = slot
    t.wheelPos = list.length
    list.push(t)
    this.live++
    return true
  }

  /** Deadlines waiting (the tick runs only while this is above zero). */
  get pending(): number { return this.live }
  get ticking(): boolean { return this.timer !== null }

  /** Take `t` off the wheel (it finished first). */
  cancel(t: Timed): void { // HOT PATH
    if (t.wheelSlot < 0) return
    const list = this.slots[t.wheelSlot]
    if (list[t.wheelPos] === t) { list[t.wheelPos] = null; this.live-- }
    t.wheelSlot = -1
    // The tick itself stops the timer once nothing is pending: stopping here would make a lone request pay
    // for a timer restart on every exchange.
  }

  private start(now: number): void {
    this.lastTick = Math.floor(now / TICK_MS)
    this.timer = setInterval(() => this.tick(), TICK_MS).unref()
  }

  private stop(): void {
    if (this.timer !== null) { clearInterval(this.timer); this.timer = null }
    // whatever is left in the slots is cancelled (null) entries; this runs once per idle period, from tick()
    for (const l of this.slots) if (l.length > 0) l.length = 0
  }

  /** Fire every deadline due by now. Runs on the shared interval; tests with an injected clock call it. */
  tick(): void {
    const now = this.now()
    const nowTick = Math.floor(now / TICK_MS)
    const from = Math.max(this.lastTick + 1, nowTick - SLOTS + 1)
    for (let tk = from; tk <= nowTick; tk++) {
      const list = this.slots[tk % SLOTS]
      if (list.length === 0) continue
      // entries can be appended while firing (a retry scheduled by an expiry): walk a detached copy
      const due = list.splice(0, list.length)
      for (const t of due) {
        if (t === null) continue
        this.live--
        if (t.wheelSlot < 0) continue // cancelled by a deadline fired before it in this same slot
        t.wheelSlot = -1
        t.onDeadline()
      }
    }
    this.lastTick = nowTick
    if (this.live === 0) this.stop()
  }
}

/** The process's wheel (deadlines are process-wide; bundles come and go). */
export const deadlines = new DeadlineWheel()
