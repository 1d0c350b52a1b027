// lab/test/experiments-timeline.test.ts: the arithmetic the resilience experiments' results rest on — load
// series moved onto one time line, counters interpolated, made monotonic across restarts and turned into per-second
// rates, gauges binned, events bracketed between scrapes, amplification and spikes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  amplification, counterAt, counterDelta, firstIncrease, gaugePerSecond, increases, loadSeriesOnTimeline, monotonic,
  ratePerSecond, readings, secondsSince, spikeAround, type Reading,
} from '../experiments/timeline.js'

const T0 = 1_800_000_000_000 // a wall-clock origin (ms)

test('a load run\'s per-second series lands on the experiment\'s time line at its window start', () => {
  const series = [0, 1, 2].map((t) => ({ t, sent: 10, completed: 9, errors: 0, p99Ms: 1 + t }))
  const moved = loadSeriesOnTimeline(series, new Date(T0 + 5250).toISOString(), T0)
  assert.deepEqual(moved.map((s) => s.t), [5.25, 6.25, 7.25])
  assert.deepEqual(moved.map((s) => s.p99Ms), [1, 2, 3], 'the values travel unchanged')
  // A wall-clock number works as well as an ISO string; a run that began before the origin has negative seconds.
  assert.deepEqual(loadSeriesOnTimeline(series.slice(0, 1), T0 - 1500, T0).map((s) => s.t), [-1.5])
  assert.equal(secondsSince(T0, T0 + 1234.4), 1.234)
})

test('poll samples become readings of one key; samples without it are skipped', () => {
  const rs = readings([{ at: 1, values: { a: 1 } }, { at: 2, values: { b: 5 } }, { at: 3, values: { a: 4, b: 6 } }, { at: 4, values: { a: NaN } }], 'a')
  assert.deepEqual(rs, [{ at: 1, value: 1 }, { at: 3, value: 4 }])
})

test('counters interpolate linearly between readings and clamp at the ends', () => {
  const rs: Reading[] = [{ at: 1000, value: 0 }, { at: 2000, value: 100 }, { at: 4000, value: 100 }, { at: 5000, value: 400 }]
  assert.equal(counterAt(rs, 500), 0)
  assert.equal(counterAt(rs, 1500), 50)
  assert.equal(counterAt(rs, 3000), 100)
  assert.equal(counterAt(rs, 4500), 250)
  assert.equal(counterAt(rs, 9000), 400)
  assert.equal(counterDelta(rs, 1500, 4500), 200)
  assert.ok(Number.isNaN(counterAt([], 1)))
})

test('a counter that drops (its process restarted) continues from where it was', () => {
  const rs = monotonic([{ at: 1, value: 5 }, { at: 2, value: 8 }, { at: 3, value: 1 }, { at: 4, value: 3 }, { at: 5, value: 0 }, { at: 6, value: 2 }])
  assert.deepEqual(rs.map((r) => r.value), [5, 8, 9, 11, 11, 13])
})

test('per-second rates cover whole seconds inside the readings, never extrapolated', () => {
  // 200 events/s from t = 0 to t = 3.5 s, read every 250 ms
  const rs: Reading[] = []
  for (let ms = 0; ms <= 3500; ms += 250) rs.push({ at: T0 + ms, value: ms / 5 })
  const rates = ratePerSecond(rs, T0, 0, 10)
  assert.deepEqual(rates, [{ t: 0, value: 200 }, { t: 1, value: 200 }, { t: 2, value: 200 }], 'second 3 ends after the last reading')
  assert.deepEqual(ratePerSecond(rs.slice(0, 1), T0, 0, 10), [], 'one reading has no rate')
})

test('gauges are binned per second by max, mean or last', () => {
  const rs: Reading[] = [{ at: T0 + 100, value: 3 }, { at: T0 + 600, value: 9 }, { at: T0 + 900, value: 6 }, { at: T0 + 2100, value: 1 }]
  assert.deepEqual(gaugePerSecond(rs, T0, 'max'), [{ t: 0, value: 9 }, { t: 2, value: 1 }])
  assert.deepEqual(gaugePerSecond(rs, T0, 'mean'), [{ t: 0, value: 6 }, { t: 2, value: 1 }])
  assert.deepEqual(gaugePerSecond(rs, T0, 'last'), [{ t: 0, value: 6 }, { t: 2, value: 1 }])
})

test('an event is bracketed by the last scrape without it and the first with it', () => {
  const rs: Reading[] = [{ at: 100, value: 1 }, { at: 200, value: 1 }, { at: 300, value: 1 }, { at: 400, value: 2 }, { at: 500, value: 3 }]
  assert.deepEqual(firstIncrease(rs, 250), { before: 300, seen: 400 }, 'the value at the switch is the baseline')
  assert.deepEqual(firstIncrease(rs, 150), { before: 300, seen: 400 })
  assert.deepEqual(firstIncrease(rs, 350), { before: 350, seen: 400 }, 'never earlier than the switch itself')
  assert.deepEqual(firstIncrease(rs, 450), { before: 450, seen: 500 })
  assert.equal(firstIncrease([...rs, { at: 600, value: 3 }], 550), undefined, 'no later increase')
  assert.equal(firstIncrease(rs, 900), undefined, 'no reading after the switch')
  assert.deepEqual(increases(rs), [{ before: 300, seen: 400, by: 1 }, { before: 400, seen: 500, by: 1 }])
})

test('amplification is upstream attempts per client request', () => {
  assert.equal(amplification(800, 200), 4)
  assert.equal(amplification(0, 200), 0)
  assert.ok(Number.isNaN(amplification(5, 0)))
})

test('a spike compares the worst second near an event with the median of the others', () => {
  const pts = [1, 1.2, 0.9, 1.1, 8, 1, 1.05, 1].map((value, t) => ({ t, value }))
  const s = spikeAround(pts, 4, 1)
  assert.equal(s.nearMs, 8)
  assert.equal(s.steadyMs, 1)
  assert.equal(s.ratio, 8)
  const calm = spikeAround(pts, 1, 1)
  assert.equal(calm.nearMs, 1.2)
})
