// test/policies/breaker-window.test.ts: the breaker's decision rule on a simulated clock, where a whole sweep of
// phases runs in milliseconds: an upstream that goes bad at any point of a second opens the breaker well
// within a second under load; a healthy upstream's ordinary error share never opens it; sparse traffic is
// judged over the window; a window shorter than a second is honoured. (The same breaker through real sockets:
// breaker.test.ts.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { BreakerIR } from '../../config/ir.js'
import { Breaker, BreakerState } from '../../runtime/upstream/breaker.js'
import type { UpstreamMetrics } from '../../runtime/metrics.js'

const noop = { inc() {}, set() {} }
const metrics = { breakerState: noop, breakerRejected: noop, breakerTransitions: { open: noop, half_open: noop, closed: noop } } as unknown as UpstreamMetrics

const cfg = (over: Partial<BreakerIR> = {}): BreakerIR => ({ errorRatio: 0.25, minRequests: 20, windowMs: 10_000, openMs: 2000, halfOpenProbes: 3, ...over })

/**
 * Drive a breaker with `rate` outcomes per second for `ms` from `from`: outcome i fails when `fails(i)`.
 * Returns the time it opened, or -1.
 */
function drive(b: Breaker, clock: { t: number }, from: number, ms: number, rate: number, fails: (i: number) => boolean): number {
  const step = 1000 / rate
  for (let i = 0; clock.t < from + ms; i++) {
    clock.t = from + i * step
    if (!b.allow()) continue
    b.record(!fails(i))
    if (b.state === BreakerState.Open) return clock.t
  }
  return -1
}

// 30% failures, spread evenly: 3 of every 10 outcomes.
const thirtyPercent = (i: number) => i % 10 === 2 || i % 10 === 5 || i % 10 === 8
const healthy = () => false

test('an upstream going bad at any phase of a second opens it within 400 ms at 100 req/s (30% failures, ratio 25%)', () => {
  const worst = { phase: 0, ms: 0 }
  for (let phase = 0; phase < 1000; phase += 25) {
    const clock = { t: 0 }
    const b = new Breaker(cfg(), metrics, () => clock.t)
    assert.equal(drive(b, clock, 0, 5000 + phase, 100, healthy), -1)
    const badAt = 5000 + phase
    const openedAt = drive(b, clock, badAt, 5000, 100, thirtyPercent)
    assert.ok(openedAt >= 0, `phase ${phase}: never opened`)
    if (openedAt - badAt > worst.ms) { worst.ms = openedAt - badAt; worst.phase = phase }
  }
  // 20 outcomes at 100 req/s take 200 ms; the short span may still hold some healthy ones from before.
  assert.ok(worst.ms <= 400, `worst: ${worst.ms} ms after going bad at phase ${worst.phase} ms`)
})

test('a hard failure (every request fails) opens it after min_requests outcomes, wherever it starts', () => {
  for (let phase = 0; phase < 1000; phase += 100) {
    const clock = { t: 0 }
    const b = new Breaker(cfg({ errorRatio: 0.5 }), metrics, () => clock.t)
    drive(b, clock, 0, 3000 + phase, 200, healthy)
    const badAt = 3000 + phase
    const openedAt = drive(b, clock, badAt, 2000, 200, () => true)
    // 50% of a span holding ≥ 20: at most 20 failures at 200 req/s = 100 ms, plus one step
    assert.ok(openedAt >= 0 && openedAt - badAt <= 105, `phase ${phase}: opened ${openedAt - badAt} ms after`)
  }
})

test('a healthy upstream with a steady 10% error share never opens it (ratio 25%, a minute at 200 req/s)', () => {
  const clock = { t: 0 }
  const b = new Breaker(cfg(), metrics, () => clock.t)
  assert.equal(drive(b, clock, 0, 60_000, 200, i => i % 10 === 3), -1)
})

test('below min_requests in the last second the window decides: sparse failures open it once the window has enough', () => {
  const clock = { t: 0 }
  const b = new Breaker(cfg({ errorRatio: 0.5, minRequests: 20 }), metrics, () => clock.t)
  // 5 req/s, all failing: the last second never holds 20, the 10 s window reaches 20 after 4 s
  const openedAt = drive(b, clock, 0, 10_000, 5, () => true)
  assert.ok(openedAt >= 3800 && openedAt <= 4000, `opened at ${openedAt} ms`)
})

test('a window shorter than a second bounds the short span too: old failures age out', () => {
  const clock = { t: 0 }
  const b = new Breaker(cfg({ errorRatio: 0.5, minRequests: 4, windowMs: 200 }), metrics, () => clock.t)
  // 3 failures, then a pause longer than the window, then 1 failure and 3 successes: never 50% of 4 within 200 ms
  for (const [at, ok] of [[0, false], [10, false], [20, false], [500, false], [510, true], [520, true], [530, true]] as const) {
    clock.t = at
    b.record(ok)
  }
  assert.equal(b.state, BreakerState.Closed)
  clock.t = 540; b.record(false); clock.t = 550; b.record(false)
  assert.equal(b.state, BreakerState.Open, '3 of the last 6 within 200 ms failed')
})

test('closing after successful probes starts from a clean slate', () => {
  const clock = { t: 0 }
  const b = new Breaker(cfg({ errorRatio: 0.5, minRequests: 4, openMs: 1000, halfOpenProbes: 2 }), metrics, () => clock.t)
  drive(b, clock, 0, 1000, 100, () => true)
  assert.equal(b.state, BreakerState.Open)
  clock.t += 1000
  assert.ok(b.allow()); b.record(true)
  assert.ok(b.allow()); b.record(true)
  assert.equal(b.state, BreakerState.Closed)
  // the failures from before the open are forgotten: one more failure among successes does not reopen it
  clock.t += 10; b.record(false)
  for (let i = 0; i < 3; i++) { clock.t += 10; b.record(true) }
  assert.equal(b.state, BreakerState.Closed)
})
