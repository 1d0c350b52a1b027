// Issue 14 (mutation target, upstream area): the balancing policies of runtime/upstream/balancer.ts, pinned on
// replicas with set load figures (in flight, latency EWMA, in rotation or not) and, for the random policies, a
// scripted Math.random: which replica each pick returns, that replicas out of rotation or already tried by
// this request are skipped (the bitmask covers indexes 0–30; a replica past it is never excluded), that a
// retry does not move round robin's cursor, that least_conn's ties rotate, and that p2c_ewma keeps the
// cheaper of its two samples (ties to the first).
import assert from 'node:assert/strict'
import { afterEach, test } from 'node:test'
import { createBalancer } from '../../runtime/upstream/balancer.js'
import type { Replica } from '../../runtime/upstream/replica.js'

interface Fake { index: number; inFlight: number; ewma: number; up: boolean; asked: number[] }

function replicas(n: number, o: Partial<Omit<Fake, 'index' | 'asked'>>[] = []): Replica[] {
  return Array.from({ length: n }, (_, index) => {
    const f: Fake = { index, inFlight: 0, ewma: 0, up: true, asked: [], ...o[index] }
    return Object.assign(f, { available(now: number) { f.asked.push(now); return f.up } }) as unknown as Replica
  })
}
const fake = (r: Replica) => r as unknown as Fake
const idx = (r: Replica | null) => r === null ? null : r.index

const realRandom = Math.random
afterEach(() => { Math.random = realRandom })
/** Math.random returns these values in turn (then repeats the last). */
function scriptRandom(...values: number[]): void {
  let i = 0
  Math.random = () => values[Math.min(i++, values.length - 1)]
}

test('round_robin: first attempts go round in order; a replica out of rotation is skipped; none left gives null', () => {
  const pick = createBalancer('round_robin')
  const rs = replicas(3)
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(() => idx(pick(rs, 0, 7))), [0, 1, 2, 0, 1, 2, 0])
  assert.deepEqual(fake(rs[0]).asked.slice(0, 1), [7], 'availability is asked with the caller\'s now')
  fake(rs[2]).up = false
  assert.deepEqual([0, 1, 2, 3].map(() => idx(pick(rs, 0, 7))), [1, 0, 1, 0])
  for (const r of rs) fake(r).up = false
  assert.equal(pick(rs, 0, 7), null)
})

test('round_robin: a retry skips the replicas this request tried and does not move the cursor', () => {
  const pick = createBalancer('round_robin')
  const rs = replicas(4)
  assert.equal(idx(pick(rs, 0, 0)), 0) // cursor now at 1
  assert.equal(idx(pick(rs, 0b0011, 0)), 2, 'tried 0 and 1: the next untried after the cursor')
  assert.equal(idx(pick(rs, 0b0010, 0)), 2, 'the retry did not move the cursor')
  assert.equal(idx(pick(rs, 0, 0)), 1, 'first attempts continue where they were')
  assert.equal(idx(pick(rs, 0, 0)), 2)
  assert.equal(pick(rs, 0b1111, 0), null, 'every replica tried')
})

test('the tried bitmask covers replica indexes 0–30; replicas past it are never excluded', () => {
  for (const kind of ['round_robin', 'least_conn', 'random', 'p2c_ewma'] as const) {
    const pick = createBalancer(kind)
    const rs = replicas(33)
    const tried = 0x7fffffff // 0–30 tried
    scriptRandom(0)
    const r = pick(rs, tried, 0)
    assert.ok(r !== null && r.index >= 31, `${kind}: ${idx(r)}`)
    // index 31 would be 1 << 31 (a negative number): with only 31 usable and tried all ones, it is still picked
    for (const x of rs) if (x.index !== 31) fake(x).up = false
    assert.equal(idx(pick(rs, -1, 0)), 31, `${kind}: replica 31 is never excluded by the mask`)
  }
})

test('least_conn: the replica with fewest in flight; ties rotate from one pick to the next', () => {
  const pick = createBalancer('least_conn')
  const rs = replicas(3, [{ inFlight: 2 }, { inFlight: 1 }, { inFlight: 3 }])
  assert.equal(idx(pick(rs, 0, 0)), 1)
  assert.equal(idx(pick(rs, 0, 0)), 1)
  fake(rs[1]).up = false
  assert.equal(idx(pick(rs, 0, 0)), 0, 'the least loaded of those in rotation')
  assert.equal(idx(pick(rs, 0b001, 0)), 2, 'not one this request tried')
  const eq = replicas(3)
  const p2 = createBalancer('least_conn')
  assert.deepEqual([0, 1, 2, 3, 4].map(() => idx(p2(eq, 0, 0))), [0, 1, 2, 0, 1], 'equal replicas share the load')
  for (const r of eq) fake(r).up = false
  assert.equal(p2(eq, 0, 0), null)
})

test('random: starts where Math.random points and walks on past replicas out of rotation or tried', () => {
  const pick = createBalancer('random')
  const rs = replicas(4)
  scriptRandom(0.5) // start at 2
  assert.equal(idx(pick(rs, 0, 0)), 2)
  scriptRandom(0.99) // start at 3
  assert.equal(idx(pick(rs, 0, 0)), 3)
  fake(rs[3]).up = false
  scriptRandom(0.99)
  assert.equal(idx(pick(rs, 0, 0)), 0, 'wraps around')
  scriptRandom(0.5)
  assert.equal(idx(pick(rs, 0b0100, 0)), 0, 'skips the tried replica 2 and the unavailable 3')
  scriptRandom(0)
  assert.equal(pick(rs, 0b0111, 0), null)
})

test('p2c_ewma: of two sampled replicas the one with the lower (ewma + 1) × (in flight + 1) wins, a tie to the first', () => {
  const pick = createBalancer('p2c_ewma')
  // first sample at index 0 (random 0), second at 0 + 1 + floor(r × 3)
  const rs = replicas(4, [{ ewma: 10, inFlight: 0 }, { ewma: 1, inFlight: 4 }, { ewma: 3, inFlight: 1 }, { ewma: 0, inFlight: 12 }])
  // costs: r0 11, r1 10, r2 8, r3 13
  scriptRandom(0, 0.0) // a = r0, c = r1
  assert.equal(idx(pick(rs, 0, 0)), 1)
  scriptRandom(0, 0.4) // c = r2
  assert.equal(idx(pick(rs, 0, 0)), 2)
  scriptRandom(0, 0.9) // c = r3 (13 > 11): a stays
  assert.equal(idx(pick(rs, 0, 0)), 0)
  const tie = replicas(2, [{ ewma: 1, inFlight: 1 }, { ewma: 1, inFlight: 1 }])
  scriptRandom(0.6, 0) // a = r1, c = r0: equal cost, the first sample wins
  assert.equal(idx(pick(tie, 0, 0)), 1)
  scriptRandom(0, 0)
  assert.equal(idx(pick(tie, 0, 0)), 0)
})

test('p2c_ewma: the second sample must be usable; with one usable replica it is returned, with none null', () => {
  const pick = createBalancer('p2c_ewma')
  const rs = replicas(3, [{ ewma: 50 }, { ewma: 0 }, { ewma: 0 }])
  fake(rs[1]).up = false
  scriptRandom(0, 0) // a = r0, the random second pick is r1 (out of rotation): b stays r2, the scanned neighbour
  assert.equal(idx(pick(rs, 0, 0)), 2)
  scriptRandom(0, 0)
  assert.equal(idx(pick(rs, 0b100, 0)), 0, 'r2 tried, r1 out: r0 alone')
  scriptRandom(0, 0)
  assert.equal(pick(rs, 0b101, 0), null)
  const one = replicas(1, [{ ewma: 5 }])
  scriptRandom(0.3, 0.7)
  assert.equal(idx(pick(one, 0, 0)), 0)
})

test('p2c_ewma: the second sample is random among the rest, not a\'s neighbour (and never a itself)', () => {
  const pick = createBalancer('p2c_ewma')
  const rs = replicas(5, [{ ewma: 9 }, { ewma: 9 }, { ewma: 9 }, { ewma: 9 }, { ewma: 1 }])
  scriptRandom(0, 0.99) // a = r0, b (scanned) = r1; c = r0 + 1 + 3 = r4, cheapest
  assert.equal(idx(pick(rs, 0, 0)), 4)
  const two = replicas(2, [{ ewma: 9 }, { ewma: 1 }])
  scriptRandom(0, 0.99) // c = r0 + 1 + 0 = r1 (n - 1 = 1)
  assert.equal(idx(pick(two, 0, 0)), 1)
})

test('p2c_ewma: when the random second pick is unusable, the sample is the first usable replica after a, not a later one', () => {
  const pick = createBalancer('p2c_ewma')
  // a = r0; scanning on, r1 is the second usable replica (r2 is usable too, and cheaper); the random pick is r3, out of rotation
  const rs = replicas(4, [{ ewma: 5 }, { ewma: 3 }, { ewma: 0 }, { ewma: 0 }])
  fake(rs[3]).up = false
  scriptRandom(0, 0.99) // c = r0 + 1 + 2 = r3
  assert.equal(idx(pick(rs, 0, 0)), 1, 'r1 (cost 4) beats r0 (cost 6); r2 was never sampled')
})
