// bench/runtime/upstream.bench.ts: per-attempt work in runtime/upstream/ that needs no socket — picking a
// replica (balancer.ts, three replicas as in the bench topology) and arming/cancelling an attempt deadline
// on the timing wheel (deadlines.ts). Replicas are stand-ins with the fields a balancer reads (a real
// Replica owns an undici Pool); the wheel is a private DeadlineWheel, not the process's.
// Run: npm run build && node --expose-gc dist/bench/runtime/upstream.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { createBalancer } from '../../runtime/upstream/balancer.js'
import { DeadlineWheel, type Timed } from '../../runtime/upstream/deadlines.js'
import type { Replica } from '../../runtime/upstream/replica.js'
import { createSuite } from './kit/suite.js'

class StandIn { inFlight = 0; ewma = 0; constructor(readonly index: number) {} available(_now: number): boolean { return true } }
const replicas = [0, 1, 2].map(i => Object.assign(new StandIn(i), { ewma: 2 + i, inFlight: i })) as unknown as Replica[]

const suite = createSuite(import.meta.url, 'replica choice and attempt deadlines (runtime/upstream/)')
for (const kind of ['round_robin', 'least_conn', 'random', 'p2c_ewma'] as const) {
  const pick = createBalancer(kind)
  assert.ok(pick(replicas, 0, 0) !== null)
  const note = kind === 'random' ? 'a boxed Math.random() double' : kind === 'p2c_ewma' ? 'two boxed Math.random() doubles' : 'nothing'
  suite.add(`balancer: ${kind}, 3 replicas`, note, () => pick(replicas, 0, 1000))
}
const rr = createBalancer('round_robin')
suite.add('balancer: round_robin, retry (first replica tried)', 'nothing', () => rr(replicas, 1, 1000))

const timed = (): Timed => ({ wheelSlot: -1, wheelPos: 0, onDeadline() {} })
const idle = new DeadlineWheel()
const t1 = timed()
suite.add('deadline: add + cancel, no other attempt pending', 'a slot-array push; the tick (started once) stops itself only when a tick finds nothing pending',
  () => { const now = performance.now(); idle.add(t1, now + 1000, now); idle.cancel(t1) })
// a loaded gateway: 1,000 attempts in flight keep the tick running (their deadlines far off, never firing)
const busy = new DeadlineWheel()
const others = Array.from({ length: 1000 }, timed)
for (const o of others) busy.add(o, performance.now() + 30_000, performance.now())
const t2 = timed()
suite.add('deadline: add + cancel, 1,000 attempts pending', 'nothing per op but a slot-array push (the tick splices slots as they come due)',
  () => { const now = performance.now(); busy.add(t2, now + 1000, now); busy.cancel(t2) }, { yields: true })

// what the wheel replaced: a Node timer per attempt
suite.add('Node setTimeout + clearTimeout (replaced by the wheel)', 'a Timeout object, a timer-list insert and removal',
  () => clearTimeout(setTimeout(() => undefined, 1000)))

await suite.run()
for (const o of others) busy.cancel(o)
await new Promise(r => setTimeout(r, 40)) // the next tick finds nothing pending and stops
assert.equal(idle.ticking || busy.ticking, false)
