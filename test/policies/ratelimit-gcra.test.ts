// test/policies/ratelimit-gcra.test.ts: the GCRA decision with exact numbers (the function takes `now`, so no
// clock is needed): which request of a full bucket is the last one allowed, how long a refused one must wait
// (the gateway's Retry-After), and the remaining / reset figures a Decision carries. The mutation run (issue 14)
// found that the local limiter's tests only checked allowed / refused; these pin the arithmetic.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gcra, gcraParams, type Decision } from '../../policies/ratelimit/gcra.js'

const fresh = (): Decision => ({ allowed: false, remaining: -1, retryAfterMs: -1, resetMs: -1 })

test('gcraParams: emission = window / limit, capacity = limit + burst, tolerance = (capacity - 1) × emission', () => {
  assert.deepEqual(gcraParams(4, 1000, 0), { emissionMs: 250, toleranceMs: 750, capacity: 4 })
  assert.deepEqual(gcraParams(10, 60_000, 5), { emissionMs: 6000, toleranceMs: 84_000, capacity: 15 })
})

test('4 per second: a full bucket allows exactly 4 at once, counting remaining down and reset up', () => {
  const p = gcraParams(4, 1000, 0)
  const now = 10_000
  let tat = 0
  const seen: Decision[] = []
  for (let i = 0; i < 4; i++) { const d = fresh(); tat = gcra(tat, now, p, d); seen.push(d) }
  assert.deepEqual(seen, [
    { allowed: true, remaining: 3, retryAfterMs: 0, resetMs: 250 },
    { allowed: true, remaining: 2, retryAfterMs: 0, resetMs: 500 },
    { allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 750 },
    { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1000 },   // allowed exactly at the tolerance
  ])
  assert.equal(tat, 11_000, 'the arrival time moved one emission per request')
  // the fifth is refused: the next slot opens in 250 ms, the bucket is full again in 1000 ms; tat is unchanged
  const d = fresh()
  assert.equal(gcra(tat, now, p, d), 11_000)
  assert.deepEqual(d, { allowed: false, remaining: 0, retryAfterMs: 250, resetMs: 1000 })
  // 1 ms before the slot opens: still refused, 1 ms to wait
  const early = fresh()
  assert.equal(gcra(tat, now + 249, p, early), 11_000)
  assert.deepEqual(early, { allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 751 })
  // exactly when it opens: allowed, and the bucket is empty again
  const onTime = fresh()
  assert.equal(gcra(tat, now + 250, p, onTime), 11_250)
  assert.deepEqual(onTime, { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1000 })
})

test('an arrival time in the past counts as a full bucket; one in the future as that much used', () => {
  const p = gcraParams(10, 60_000, 5)               // 6 s per request, 15 in the bucket
  const idle = fresh()
  assert.equal(gcra(1000, 100_000, p, idle), 106_000)
  assert.deepEqual(idle, { allowed: true, remaining: 14, retryAfterMs: 0, resetMs: 6000 })
  // 30 s of requests already ahead of now: 5 used, this one makes 6, 9 remain
  const busy = fresh()
  assert.equal(gcra(130_000, 100_000, p, busy), 136_000)
  assert.deepEqual(busy, { allowed: true, remaining: 9, retryAfterMs: 0, resetMs: 36_000 })
})
