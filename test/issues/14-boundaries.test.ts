// Issue 14, survivors 5, 7 and 10: three thresholds pinned exactly on a manual clock, where real timers (a late
// tick, a loaded machine, a loose bound) used to hide an off-by-one. A deadline never fires before it is due,
// wherever it falls within a wheel tick; a retry budget of P% over N requests allows exactly floor(P·N)
// retries (at least the floor of 3), until the window forgets them; a breaker opens at exactly error_ratio,
// judged over the short span and over the window alike.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { BreakerIR } from '../../config/ir.js'
import { Breaker, BreakerState } from '../../runtime/upstream/breaker.js'
import { BUDGET_FLOOR, RetryBudget } from '../../runtime/upstream/retry.js'
import type { UpstreamMetrics } from '../../runtime/metrics.js'
import { DeadlineWheel, type Timed } from '../../runtime/upstream/deadlines.js'
import { ManualClock } from '../helpers/clock.js'

test('deadline wheel: a deadline fires at its due time or up to one tick (10 ms) later, never earlier, at any phase of a tick', () => {
  const STEP = 0.25
  for (const start of [1000, 1003.7, 1009.99]) { // added at a tick boundary, mid-tick, just before the next tick
    const clock = new ManualClock(start)
    const w = new DeadlineWheel(clock.now)
    const fired = new Map<number, number>()
    const offsets = [20, 20.001, 21, 24.5, 25, 29.9, 30, 33.3, 39.999, 40, 57.25, 100]
    for (const off of offsets) {
      const due = start + off
      const t: Timed = { wheelSlot: -1, wheelPos: 0, onDeadline: () => { assert.ok(!fired.has(due), 'fired twice'); fired.set(due, clock.now()) } }
      assert.ok(w.add(t, due, start), `${off} ms goes on the wheel`)
    }
    while (clock.now() < start + 120) { clock.advance(STEP); w.tick() }
    assert.equal(fired.size, offsets.length, 'every deadline fired')
    for (const [due, at] of fired) {
      assert.ok(at >= due, `added at ${start}, due at ${due}: fired ${(due - at).toFixed(3)} ms early`)
      assert.ok(at < due + 10 + STEP, `due at ${due}: fired ${(at - due).toFixed(3)} ms late (more than a tick)`)
    }
    assert.equal(w.pending, 0)
  }
})

test('retry budget: P% of N requests allows exactly floor(P·N) retries, never fewer than the floor of 3', () => {
  const cases: [budget: number, requests: number, allowed: number][] = [
    [0.2, 100, 20], [0.2, 99, 19], [0.2, 101, 20], [0.2, 105, 21], [0.1, 1000, 100],
    [0.2, 0, BUDGET_FLOOR], [0.2, 15, 3], [0.2, 20, 4], [1, 7, 7], [0.5, 3, 3],
  ]
  for (const [budget, requests, allowed] of cases) {
    const clock = new ManualClock(5000)
    const b = new RetryBudget(clock.now)
    for (let i = 0; i < requests; i++) b.request()
    let n = 0
    while (n < 10_000 && b.tryRetry(budget)) n++
    assert.equal(n, allowed, `${budget * 100}% of ${requests} requests`)
  }
  // no_budget: unbounded
  const b = new RetryBudget(new ManualClock().now)
  for (let i = 0; i < 500; i++) assert.ok(b.tryRetry(null))
})

test('retry budget: requests and retries count for exactly ten seconds, then the window forgets them', () => {
  const clock = new ManualClock(0)
  const b = new RetryBudget(clock.now)
  for (let i = 0; i < 100; i++) b.request()
  for (let i = 0; i < 20; i++) assert.ok(b.tryRetry(0.2), `retry ${i + 1} of 20`)
  assert.equal(b.tryRetry(0.2), false, 'the 21st retry is refused')
  clock.set(9999)
  assert.equal(b.tryRetry(0.2), false, 'still within the window at 9.999 s')
  clock.set(10_000)
  let n = 0
  while (n < 100 && b.tryRetry(0.2)) n++
  assert.equal(n, BUDGET_FLOOR, 'at 10 s the first second has left the window: only the floor remains')
})

const noop = { inc() {}, set() {} }
const metrics = { breakerState: noop, breakerRejected: noop, breakerTransitions: { open: noop, half_open: noop, closed: noop } } as unknown as UpstreamMetrics
const cfg: BreakerIR = { errorRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5000, halfOpenProbes: 1 }

/** Records outcomes `every` ms apart from `from`; returns the index of the outcome that opened it, or -1. */
function feed(b: Breaker, clock: ManualClock, from: number, every: number, outcomes: boolean[]): number {
  for (let i = 0; i < outcomes.length; i++) {
    clock.set(from + i * every)
    assert.ok(b.allow(), `outcome ${i} was refused`)
    b.record(outcomes[i])
    if (b.state === BreakerState.Open) return i
  }
  return -1
}

/** `n` outcomes, `bad` of them failures, spread evenly, the last one a failure. */
function mix(n: number, bad: number): boolean[] {
  const out = Array.from({ length: n }, (_, i) => Math.floor((i + 1) * bad / n) === Math.floor(i * bad / n))
  assert.equal(out.filter(x => !x).length, bad)
  return out
}

test('breaker: failing at exactly error_ratio opens it over the short span (100 req/s burst after a healthy past)', () => {
  for (const [bad, opens] of [[10, true], [9, false]] as const) {
    const clock = new ManualClock(0)
    const b = new Breaker(cfg, metrics, clock.now)
    // 60 successes in the first 3 s: the 10 s window stays far below 50% throughout
    assert.equal(feed(b, clock, 0, 50, Array(60).fill(true)), -1)
    // then 20 outcomes in 200 ms, `bad` of them failures
    const at = feed(b, clock, 5000, 10, mix(20, bad))
    if (opens) assert.equal(at, 19, 'opens at the 20th outcome: 10 of 20 is exactly 50%')
    else assert.equal(at, -1, '9 of 20 is below 50%')
  }
})

test('breaker: failing at exactly error_ratio opens it over the window when traffic is sparse (4 req/s)', () => {
  for (const [bad, opens] of [[10, true], [9, false]] as const) {
    const clock = new ManualClock(0)
    const b = new Breaker(cfg, metrics, clock.now)
    // fewer than min_requests in any second: only the window can judge
    const at = feed(b, clock, 0, 250, mix(20, bad))
    if (opens) assert.equal(at, 19, 'opens at the 20th outcome (4.75 s): 10 of 20 in the window is exactly 50%')
    else assert.equal(at, -1)
  }
})
