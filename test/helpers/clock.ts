// A manual clock for the components that take one (RetryBudget, Breaker, DeadlineWheel): time moves only when
// the test says so, so a boundary (exactly at a deadline, exactly at a ratio, one bucket later) is hit exactly
// and a test that would otherwise sleep runs in microseconds.

export class ManualClock {
  private t: number

  constructor(start = 0) { this.t = start }

  /** The clock function to inject: `new RetryBudget(clock.now)` (bound, so it can be passed around). */
  readonly now = (): number => this.t

  /** Move forward by `ms` (never backward: the components assume a monotonic clock). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error(`ManualClock: cannot advance by ${ms} ms`)
    this.t += ms
    return this.t
  }

  /** Jump to `t` (at or after the current time). */
  set(t: number): number {
    if (!(t >= this.t)) throw new Error(`ManualClock: cannot go back from ${this.t} to ${t}`)
    this.t = t
    return this.t
  }
}
