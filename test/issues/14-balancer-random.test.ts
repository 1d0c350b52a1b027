// Issue 14 (mutation target, upstream area), balancer.ts survivor: `random` ignores load. It takes the replica
// Math.random points at (or the next usable one) however loaded or slow it is, where p2c_ewma would compare it
// with a second sample and take the cheaper.
import assert from 'node:assert/strict'
import { afterEach, test } from 'node:test'
import { createBalancer } from '../../runtime/upstream/balancer.js'
import type { Replica } from '../../runtime/upstream/replica.js'

const realRandom = Math.random
afterEach(() => { Math.random = realRandom })

test('random picks where Math.random points, however loaded that replica is', () => {
  const rs = [{ ewma: 0, inFlight: 0 }, { ewma: 0, inFlight: 0 }, { ewma: 900, inFlight: 50 }, { ewma: 0, inFlight: 0 }]
    .map((f, index) => ({ index, ...f, available: () => true })) as unknown as Replica[]
  const random = createBalancer('random')
  const p2c = createBalancer('p2c_ewma')
  for (const [r, want] of [[0.5, 2], [0.6, 2], [0.74, 2]] as const) {
    Math.random = () => r
    assert.equal(random(rs, 0, 0)?.index, want, `random ${r}`)
    assert.notEqual(p2c(rs, 0, 0)?.index, 2, `p2c_ewma ${r} would not take the loaded one`)
  }
})
