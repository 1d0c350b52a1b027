// The deadline wheel: fires each deadline once, no earlier than due and at most about a tick late; cancelled
// ones never fire; the tick stops when nothing is pending (an idle gateway does not wake up).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DeadlineWheel, type Timed } from '../../runtime/upstream/deadlines.js'

const item = (onDeadline: () => void): Timed => ({ wheelSlot: -1, wheelPos: 0, onDeadline })

test('deadlines fire once, not early, at most ~one tick late; cancelled ones never fire', async () => {
  const w = new DeadlineWheel()
  const fired: { due: number; at: number }[] = []
  const t0 = performance.now()
  const dues = [30, 55, 80, 120]
  for (const d of dues) {
    const due = t0 + d
    assert.ok(w.add(item(() => fired.push({ due, at: performance.now() })), due, t0))
  }
  const cancelled = item(() => assert.fail('a cancelled deadline fired'))
  assert.ok(w.add(cancelled, t0 + 60, t0))
  w.cancel(cancelled)
  assert.equal(w.pending, 4)
  await new Promise(r => setTimeout(r, 250))
  await new Promise(r => setTimeout(r, 30)) // one more tick notices that nothing is pending
  assert.equal(fired.length, 4)
  for (const f of fired) {
    assert.ok(f.at >= f.due - 1, `fired ${(f.due - f.at).toFixed(1)} ms early`)
    assert.ok(f.at - f.due < 60, `fired ${(f.at - f.due).toFixed(1)} ms late (loaded machine bound)`)
  }
  assert.equal(w.pending, 0)
  assert.equal(w.ticking, false, 'the tick stops when nothing is pending')
})

test('very short and very long deadlines are left to Node timers', () => {
  const w = new DeadlineWheel()
  const now = performance.now()
  assert.equal(w.add(item(() => undefined), now + 5, now), false)
  assert.equal(w.add(item(() => undefined), now + 3_600_000, now), false)
  assert.equal(w.ticking, false)
})

test('a deadline added while others fire (a retry scheduled on expiry) is kept', async () => {
  const w = new DeadlineWheel()
  const t0 = performance.now()
  let second = false
  w.add(item(() => { const now = performance.now(); w.add(item(() => { second = true }), now + 40, now) }), t0 + 30, t0)
  await new Promise(r => setTimeout(r, 200))
  assert.ok(second)
  assert.equal(w.ticking, false)
})
