// Issue 14 (mutation target, upstream area): the deadline wheel's slot arithmetic on a manual clock. Which
// deadlines go on the wheel (from two ticks to the horizon, at any clock value), that each fires at its due
// tick and not a wheel turn early (also when the tick runs late), that a cancelled one never fires (in any
// slot, also while its slot is firing), and that the tick runs exactly while something is pending. Each test
// is synchronous: the wheel's own interval (unref'd) cannot run in between, so only `tick()` moves it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DeadlineWheel, type Timed } from '../../runtime/upstream/deadlines.js'
import { ManualClock } from '../helpers/clock.js'

const TICK = 10
const SLOTS = 4096

/** A deadline that records when it fired (the clock's time), once. */
function deadline(clock: ManualClock, fired: Map<string, number>, name: string, then?: () => void): Timed {
  return {
    wheelSlot: -1, wheelPos: 0,
    onDeadline: () => { assert.ok(!fired.has(name), `${name} fired twice`); fired.set(name, clock.now()); then?.() },
  }
}

/** Tick every `step` ms up to `until` (inclusive). */
function runTo(clock: ManualClock, w: DeadlineWheel, until: number, step = TICK): void {
  while (clock.now() + step <= until) { clock.advance(step); w.tick() }
  if (clock.now() < until) { clock.set(until); w.tick() }
}

test('the wheel takes deadlines from two ticks ahead up to its ~41 s horizon, at any clock value; shorter and longer ones are refused', () => {
  for (const start of [1000, 1004, 123_456_789.5]) { // early in a process, and after days of uptime
    const clock = new ManualClock(start)
    const w = new DeadlineWheel(clock.now)
    const t = () => deadline(clock, new Map(), 'x')
    assert.equal(w.add(t(), start + 19.99, start), false, `${start}: under two ticks: a Node timer`)
    assert.equal(w.ticking, false, 'a refused deadline does not start the tick')
    assert.equal(w.add(t(), start + 20, start), true, `${start}: exactly two ticks: on the wheel`)
    assert.equal(w.ticking, true, 'the tick runs while a deadline is pending')
    for (const ms of [30, 500, 1000, 5000, 30_000, 40_000, 40_900]) assert.equal(w.add(t(), start + ms, start), true, `${start}: ${ms} ms`)
    assert.equal(w.add(t(), start + 41_000, start), false, `${start}: past the horizon`)
    assert.equal(w.add(t(), start + 3_600_000, start), false, `${start}: an hour`)
    assert.equal(w.pending, 8)
  }
})

test('the horizon is exact: a deadline one wheel turn after the last tick fires on time; one tick more is refused', () => {
  const clock = new ManualClock(5000) // tick 500, on a boundary
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  // the tick after next is the first one it may fire at; SLOTS ticks after the current one is the last slot
  // that is not visited again before its time (it is the current tick's own slot, just passed)
  assert.equal(w.add(deadline(clock, fired, 'near'), 5000 + 2 * TICK, 5000), true)
  const last = (500 + SLOTS) * TICK
  assert.equal(w.add(deadline(clock, fired, 'last'), last, 5000), true, 'exactly one turn ahead')
  assert.equal(w.add(deadline(clock, fired, 'over'), last + 0.001, 5000), false, 'into the next tick: a Node timer')
  w.tick() // same tick: nothing
  runTo(clock, w, 5000 + 2 * TICK)
  assert.deepEqual([...fired], [['near', 5020]])
  runTo(clock, w, last - TICK)
  assert.equal(fired.has('last'), false, 'not a tick early')
  runTo(clock, w, last)
  assert.equal(fired.get('last'), last)
  assert.equal(w.pending, 0)
  assert.equal(w.ticking, false)
})

test('a tick running late (a busy event loop) never fires a deadline near the horizon a wheel turn early', () => {
  // The tick visits the slots after the last one it visited; when it is several ticks late, "41 s from now"
  // can be the slot of a tick it has not visited yet. Such a deadline must fire when due, not at that tick.
  for (const lag of [2, 3, 5, 20]) {
    for (const ahead of [40_900, 40_935, 40_939.9]) {
      const clock = new ManualClock(10_000)
      const w = new DeadlineWheel(clock.now)
      const fired = new Map<string, number>()
      assert.ok(w.add(deadline(clock, fired, 'keep'), 15_000, 10_000)) // keeps the tick running
      w.tick()
      clock.advance(lag * TICK + 7) // the interval is late by `lag` ticks
      const now = clock.now()
      const onWheel = w.add(deadline(clock, fired, 'far'), now + ahead, now)
      w.tick() // the late tick catches up
      assert.equal(fired.has('far'), false, `lag ${lag} ticks, ${ahead} ms ahead: fired at once (on the wheel: ${onWheel})`)
      if (onWheel) {
        runTo(clock, w, now + ahead + TICK)
        assert.ok(fired.get('far')! >= now + ahead, `lag ${lag}, ${ahead} ms: fired ${now + ahead - fired.get('far')!} ms early`)
      }
    }
  }
})

test('a deadline fires at its own tick, never earlier, whatever the clock reads when the wheel starts', () => {
  for (const start of [1000, 1009.5, 987_654.3]) {
    const clock = new ManualClock(start)
    const w = new DeadlineWheel(clock.now)
    const fired = new Map<string, number>()
    assert.ok(w.add(deadline(clock, fired, 'a'), start + 30, start))
    // nothing ticked for a while (the first tick comes late): the first tick still fires what is due
    clock.advance(100)
    w.tick()
    assert.equal(fired.get('a'), start + 100, `${start}: the first tick, late, fires the overdue deadline`)
    assert.equal(w.ticking, false, 'nothing pending: the tick stops')
  }
})

test('a deadline added while another is pending keeps the tick\'s place: earlier deadlines still fire', () => {
  const clock = new ManualClock(1000)
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  assert.ok(w.add(deadline(clock, fired, 'a'), 1030, 1000))
  clock.set(1050) // the tick is late; a new request arrives first
  assert.ok(w.add(deadline(clock, fired, 'b'), 1100, 1050))
  w.tick()
  assert.equal(fired.get('a'), 1050, 'a (due 1030) fires at the next tick')
  runTo(clock, w, 1100)
  assert.equal(fired.get('b'), 1100)
})

test('the catch-up after a gap longer than the horizon fires what is overdue once, and nothing scheduled meanwhile', () => {
  const clock = new ManualClock(1009)
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  // a, when it fires, schedules b as far ahead as the wheel allows (a retry with a long deadline)
  let bOnWheel: boolean | null = null
  assert.ok(w.add(deadline(clock, fired, 'a', () => {
    const now = clock.now()
    bOnWheel = w.add(deadline(clock, fired, 'b'), now + 40_936, now)
  }), 1039, 1009))
  clock.advance(50_000) // the process was suspended for 50 s
  w.tick()
  assert.equal(fired.get('a'), 51_009)
  assert.equal(fired.has('b'), false, `b, due 40.9 s after a fired, fired in the same catch-up (on the wheel: ${bOnWheel})`)
  if (bOnWheel === true) {
    runTo(clock, w, 51_009 + 40_936 + TICK)
    assert.ok(fired.get('b')! >= 51_009 + 40_936)
  }
})

test('cancel: a cancelled deadline never fires, in any slot (slot 0 too), and pending counts only live ones', () => {
  const clock = new ManualClock(40_900)
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  const zero = deadline(clock, fired, 'zero')
  assert.ok(w.add(zero, SLOTS * TICK, 40_900)) // tick 4096: slot 0
  assert.equal(zero.wheelSlot, 0)
  const other = deadline(clock, fired, 'other')
  assert.ok(w.add(other, SLOTS * TICK + 30, 40_900))
  assert.equal(w.pending, 2)
  w.cancel(zero)
  assert.equal(w.pending, 1)
  w.cancel(zero) // twice: no effect
  assert.equal(w.pending, 1)
  runTo(clock, w, SLOTS * TICK + 100)
  assert.deepEqual([...fired.keys()], ['other'])
  assert.equal(w.pending, 0)
  assert.equal(w.ticking, false)
})

test('cancel while its slot is firing (another deadline of the same tick ends it): it does not fire, and the count stays right', () => {
  const clock = new ManualClock(2000)
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  const b = deadline(clock, fired, 'b')
  assert.ok(w.add(deadline(clock, fired, 'a', () => w.cancel(b)), 2031, 2000)) // same tick (204) as b
  assert.ok(w.add(b, 2035, 2000))
  assert.ok(w.add(deadline(clock, fired, 'c'), 2100, 2000))
  runTo(clock, w, 2040)
  assert.deepEqual([...fired.keys()], ['a'], 'b was cancelled by a before its turn')
  assert.equal(w.pending, 1, 'c is still pending')
  assert.equal(w.ticking, true)
  runTo(clock, w, 2100)
  assert.deepEqual([...fired.keys()], ['a', 'c'])
  assert.equal(w.pending, 0)
})

test('an idle period frees the cancelled entries: lone requests do not pile up in the slots', () => {
  const clock = new ManualClock(3000)
  const w = new DeadlineWheel(clock.now)
  const fired = new Map<string, number>()
  // a lone request at a time: its deadline added, the request ends (cancel), the next tick finds nothing pending
  let last: Timed | null = null
  for (let i = 0; i < 100; i++) {
    const now = clock.now()
    const t = deadline(clock, fired, `r${i}`)
    assert.ok(w.add(t, now + 1000, now))
    assert.equal(t.wheelPos, 0, `request ${i}: its slot holds only its own entry`)
    w.cancel(t)
    clock.advance(TICK)
    w.tick()
    assert.equal(w.ticking, false)
    clock.advance(SLOTS * TICK - TICK) // one wheel turn later: the same slot again
    last = t
  }
  assert.equal(last!.wheelSlot, -1)
  assert.equal(fired.size, 0)
})
