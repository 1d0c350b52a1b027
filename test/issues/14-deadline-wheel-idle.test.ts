// Issue 14 (mutation target, upstream area): a deadline wheel that is not ticking (nothing pending) judges the
// horizon from the caller's `now`, at any clock value: a deadline past it goes to a Node timer and the tick
// stays off, also after days of uptime and after an idle period.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeadlineWheel, type Timed } from '../../runtime/upstream/deadlines.js'
import { ManualClock } from '../helpers/clock.js'

const item = (): Timed => ({ wheelSlot: -1, wheelPos: 0, onDeadline: () => undefined })

test('an idle wheel refuses a deadline past its horizon and stays off, whatever the clock reads', () => {
  for (const now of [0, 1000, 86_400_000.5, 123_456_789]) {
    const clock = new ManualClock(now)
    const w = new DeadlineWheel(clock.now)
    for (const ms of [41_000, 60_000, 3_600_000]) assert.equal(w.add(item(), now + ms, now), false, `now ${now}: ${ms} ms ahead`)
    assert.equal(w.ticking, false)
    assert.equal(w.pending, 0)
    // after a busy period and an idle one, the same
    assert.ok(w.add(item(), now + 30, now))
    clock.advance(40)
    w.tick()
    assert.equal(w.ticking, false)
    const later = clock.advance(500_000)
    assert.equal(w.add(item(), later + 41_000, later), false, `now ${later}, after an idle period`)
    assert.equal(w.add(item(), later + 40_000, later), true)
  }
})
