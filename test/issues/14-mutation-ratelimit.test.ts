// test/issues/14-mutation-ratelimit.test.ts: the in-memory limiter's memory bounds, which the mutation run
// (lab/mutation, area policies) found untested: keys whose arrival time has passed are swept on the
// configured period (at least 1 s, at most 60 s) and not after stop(); at the one-million-key cap a new key
// first drops the expired keys (arrival time at or before now), then the oldest ones down to 90% of the cap;
// a key already counted is updated in place without a sweep.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gcraParams, type Decision } from '../../policies/ratelimit/gcra.js'
import { LocalLimiter } from '../../policies/ratelimit/local.js'

const out: Decision = { allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0 }
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

test('expired keys are swept on the configured period, not sooner, and never after stop()', async () => {
  const p = gcraParams(10, 1000, 0)
  const past = Date.now() - 60_000                 // arrival times a minute old: expired at once
  const every1s = new LocalLimiter(p, 1000)
  const every5s = new LocalLimiter(p, 5000)
  const stopped = new LocalLimiter(p, 1000)
  for (const l of [every1s, every5s, stopped]) for (const k of ['a', 'b', 'c']) l.take(k, past, out)
  stopped.stop()
  assert.equal(every1s.size, 3)
  await sleep(1500)
  assert.equal(every1s.size, 0, 'swept after 1 s')
  assert.equal(every5s.size, 3, 'a 5 s period does not sweep at 1.5 s')
  assert.equal(stopped.size, 3, 'a stopped limiter no longer sweeps')
  every1s.stop(); every5s.stop()
})

test('keys still limiting are kept by the sweep', async () => {
  const l = new LocalLimiter(gcraParams(1, 60_000, 0), 1000)
  l.take('busy', Date.now(), out)                  // next arrival a minute from now
  await sleep(1300)
  assert.equal(l.size, 1)
  l.stop()
})

test('at one million keys a new key drops the expired ones first, then the oldest down to 90%', () => {
  const p = gcraParams(1, 60_000, 0)
  const now = Date.now()
  const l = new LocalLimiter(p, 60_000)
  for (let i = 0; i < 999_990; i++) l.take('k' + i, now, out)     // live keys (next arrival in a minute)
  for (let i = 0; i < 9; i++) l.take('old' + i, now - 120_000, out)  // expired
  l.take('edge', now - 60_000, out)                                   // arrival time exactly now: a full bucket, expired too
  assert.equal(l.size, 1_000_000)
  l.take('new', now, out)
  assert.equal(l.size, 999_991, 'the 10 expired keys went, nothing else')
  for (let i = 0; i < 9; i++) l.take('more' + i, now, out)
  assert.equal(l.size, 1_000_000)
  // a key already counted is updated in place at the cap: nothing is swept or dropped for it
  l.take('k5', now + 60_000, out)
  assert.equal(out.allowed, true)
  assert.equal(l.size, 1_000_000, 'updating a known key at the cap drops nothing')
  l.take('over', now, out)
  assert.equal(l.size, 900_000, 'then the oldest keys go down to 90% of the cap, and the new key is added')
  // the oldest went, the newest stayed: a key limited a moment ago is still limited
  l.take('over', now, out)
  assert.equal(out.allowed, false)
  l.take('k0', now, out)
  assert.equal(out.allowed, true, 'k0 (the oldest) was dropped, so it starts afresh')
  l.stop()
})
