// test/issues/14-mutation-breaker.test.ts: the breaker's state machine on a simulated clock, pinned where the
// mutation run (lab/mutation, area policies) found it untested: failures anywhere in the window count and
// expire with it, min_requests is reached at exactly that many outcomes (window and short span), open_for is
// measured from the opening, half-open admits exactly `half_open` probes and needs them all to succeed, a
// closed breaker starts from a clean slate, outcomes of requests in flight while open do not extend it,
// only a failure opens it, isOpen() for "never retry when open", and the state/transition metrics.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { BreakerIR } from '../../config/ir.js'
import { Breaker, BreakerState } from '../../runtime/upstream/breaker.js'
import type { UpstreamMetrics } from '../../runtime/metrics.js'

/** Metrics that count what the breaker reports. */
function countingMetrics() {
  const seen = { state: [] as number[], open: 0, half_open: 0, closed: 0, rejected: 0 }
  const counter = (k: 'open' | 'half_open' | 'closed') => ({ inc() { seen[k]++ } })
  const metrics = {
    breakerState: { set(v: number) { seen.state.push(v) } },
    breakerRejected: { inc() { seen.rejected++ } },
    breakerTransitions: { open: counter('open'), half_open: counter('half_open'), closed: counter('closed') },
  } as unknown as UpstreamMetrics
  return { seen, metrics }
}

function rig(over: Partial<BreakerIR> = {}) {
  const clock = { t: 0 }
  const { seen, metrics } = countingMetrics()
  const cfg: BreakerIR = { errorRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 2000, halfOpenProbes: 3, ...over }
  const b = new Breaker(cfg, metrics, () => clock.t)
  /** `n` outcomes, `gapMs` apart, starting at `at`; returns the index (1-based) of the one that opened it, or 0. */
  const run = (at: number, n: number, gapMs: number, ok: boolean | ((i: number) => boolean)): number => {
    for (let i = 0; i < n; i++) {
      clock.t = at + i * gapMs
      b.record(typeof ok === 'boolean' ? ok : ok(i))
      if (b.state === BreakerState.Open) return i + 1
    }
    return 0
  }
  return { b, clock, seen, run }
}

test('sparse failures over the whole window open it at exactly min_requests', () => {
  // 2 per second: the short span (1 s) never holds 20, so this is the window's verdict alone
  const a = rig()
  assert.equal(a.run(0, 20, 450, false), 20, 'opens at the 20th failure over 8.6 s')
  // 10 failures in the first second, 10 more at 9.5 s: all 20 inside the 10 s window
  const c = rig()
  assert.equal(c.run(0, 10, 90, false), 0)
  assert.equal(c.run(9500, 10, 40, false), 10, 'the first second still counts at 9.9 s')
})

test('failures in the first and the last second of the window are judged together', () => {
  const r = rig({ minRequests: 15 })
  assert.equal(r.run(0, 8, 100, false), 0)         // t 0–0.7 s, bucket 0
  assert.equal(r.run(9300, 7, 100, false), 7, 'the 15th failure in 10 s opens it (the first second still counts)')
  const late = rig({ minRequests: 15 })
  late.run(0, 8, 100, false)
  assert.equal(late.run(10_300, 7, 100, false), 0, 'a second later the first 8 have left the window')
})

test('successes that left the window no longer dilute the ratio', () => {
  const r = rig()
  r.run(0, 100, 9, true)                            // 100 successes in the first second
  // from 11 s on, 1 in 2 fails at 10/s: the short span never holds 20, the window does after 2 s
  assert.equal(r.run(11_000, 40, 100, i => i % 2 === 0), 20)
})

test('the short span opens it at exactly min_requests failures even when the window is diluted', () => {
  const r = rig()
  r.run(0, 100, 50, true)                           // 100 successes over 0–5 s: the window is at 17% after
  assert.equal(r.run(6000, 25, 10, false), 20, 'the 20th failure within the last second opens it')
})

test('open_for is counted from the opening; then exactly `half_open` probes go through', () => {
  const r = rig()
  r.run(1000, 20, 10, false)
  const openedAt = r.clock.t
  assert.equal(r.b.state, BreakerState.Open)
  r.clock.t = openedAt + 1
  assert.equal(r.b.allow(), false)
  assert.equal(r.b.isOpen(), true)
  r.clock.t = openedAt + 1999
  assert.equal(r.b.allow(), false)
  assert.equal(r.b.isOpen(), true)
  r.clock.t = openedAt + 2000
  assert.equal(r.b.isOpen(), false, 'isOpen turns false at open_for, before any request')
  assert.deepEqual([r.b.allow(), r.b.allow(), r.b.allow(), r.b.allow()], [true, true, true, false])
  assert.equal(r.b.state, BreakerState.HalfOpen)
  assert.equal(r.b.isOpen(), false, 'half-open is not open')
  assert.equal(r.seen.rejected, 3)
})

test('half-open closes only when every probe succeeded, reopens on a failed one', () => {
  const r = rig()
  r.run(0, 20, 10, false)
  r.clock.t += 2000
  r.b.allow(); r.b.allow(); r.b.allow()
  r.b.record(true)
  assert.equal(r.b.state, BreakerState.HalfOpen, 'one of three probes is not enough')
  r.b.record(true)
  assert.equal(r.b.state, BreakerState.HalfOpen)
  r.b.record(true)
  assert.equal(r.b.state, BreakerState.Closed)
  const f = rig()
  f.run(0, 20, 10, false)
  f.clock.t += 2000
  f.b.allow()
  f.b.record(false)
  assert.equal(f.b.state, BreakerState.Open)
  assert.equal(f.b.allow(), false, 'a failed probe opens it for open_for again')
})

test('a breaker that closed again starts from a clean slate', () => {
  const r = rig()
  r.run(0, 20, 10, false)
  r.clock.t += 2000
  for (let i = 0; i < 3; i++) { r.b.allow(); r.b.record(true) }
  assert.equal(r.b.state, BreakerState.Closed)
  assert.equal(r.run(r.clock.t + 10, 1, 0, false), 0, 'one failure after recovery does not reopen it')
  assert.equal(r.b.state, BreakerState.Closed)
})

test('outcomes of requests that were in flight when it opened do not extend open_for', () => {
  const r = rig()
  r.run(0, 20, 10, false)
  const openedAt = r.clock.t
  r.clock.t = openedAt + 1500
  r.b.record(false)
  r.b.record(false)
  r.clock.t = openedAt + 2000
  assert.equal(r.b.allow(), true)
  assert.equal(r.seen.open, 1)
})

test('only a failure opens it: a success that completes a failing span leaves it closed', () => {
  const r = rig()
  assert.equal(r.run(0, 19, 10, false), 0)
  r.clock.t += 10
  r.b.record(true)
  assert.equal(r.b.state, BreakerState.Closed)
})

test('state gauge and transition counters follow open → half_open → closed', () => {
  const r = rig()
  const counts = () => [r.seen.open, r.seen.half_open, r.seen.closed]
  r.run(0, 20, 10, false)
  assert.deepEqual(counts(), [1, 0, 0])
  r.clock.t += 2000
  r.b.allow()
  assert.deepEqual(counts(), [1, 1, 0])
  for (let i = 0; i < 3; i++) r.b.record(true)
  assert.deepEqual(r.seen.state, [BreakerState.Open, BreakerState.HalfOpen, BreakerState.Closed])
  assert.deepEqual([r.seen.open, r.seen.half_open, r.seen.closed], [1, 1, 1])
})

test('isOpen() is false for a closed breaker, also right after a recovery', () => {
  const r = rig()
  assert.equal(r.b.isOpen(), false, 'a new breaker is closed')
  r.run(0, 20, 10, false)
  r.clock.t += 2000
  for (let i = 0; i < 3; i++) { r.b.allow(); r.b.record(true) }
  assert.equal(r.b.state, BreakerState.Closed)
  assert.equal(r.b.isOpen(), false)
})

test('with its default (real) clock an open breaker refuses at once', () => {
  const b = new Breaker({ errorRatio: 0.5, minRequests: 5, windowMs: 10_000, openMs: 60_000, halfOpenProbes: 1 }, countingMetrics().metrics)
  for (let i = 0; i < 5; i++) b.record(false)
  assert.equal(b.state, BreakerState.Open)
  assert.equal(b.allow(), false)
  assert.equal(b.isOpen(), true)
})
