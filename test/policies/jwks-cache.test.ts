// test/policies/jwks-cache.test.ts: the JWKS cache with a reachable IdP: fetched at load and never on the
// request path for a known kid, refreshed in the background every `refresh` − `refresh_ahead`, single-flight
// under a flood of unknown kids (50 concurrent → at most 2 fetches), the unknown-kid cooldown (and a rotated
// key found through it), key rotation under load without any known-key request waiting on a slow IdP, and a
// retired key refused after the next refresh, cached tokens included.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { unknownKid } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { closeAll, metricOf, sleep, steady, tally, waitFor } from './fixtures.js'
import { startJwtRig, type JwtRig } from './jwt-rig.js'

let stub: Stub
const rigs: JwtRig[] = []
before(async () => { stub = await startStub({ name: 'web', count: 1 }) })
after(async () => { await closeAll(...rigs); await stub.close() })

const rig = async (jwks: string, o: Parameters<typeof startJwtRig>[2] = {}) => { const r = await startJwtRig(stub, jwks, o); rigs.push(r); return r }

test('the JWKS is fetched once at load; requests with known kids never fetch it', async () => {
  const r = await rig('refresh 5m')
  assert.equal(r.idp.fetches, 1, 'one fetch while the bundle loaded')
  const tokens = await Promise.all(Array.from({ length: 50 }, () => r.token()))
  const answers = await Promise.all(tokens.map(t => r.call(t)))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 50 })
  for (const t of tokens.slice(0, 10)) assert.equal((await r.call(t)).status, 200)
  assert.equal(r.idp.fetches, 1, '60 verifications (50 distinct tokens) and not one JWKS fetch')
  assert.equal(await metricOf(r.gw, 'gw_jwks_fetches_total', { provider: 'idp', result: 'ok' }), 1)
  assert.equal(await metricOf(r.gw, 'gw_jwks_keys', { provider: 'idp' }), 1)
})

test('background refresh runs every refresh − refresh_ahead, without any request', async () => {
  // refresh 3s, refresh_ahead 2s → a fetch about every second; a cache that ignored refresh_ahead would
  // fetch once in this window, one that refreshed on requests would not fetch at all (none are sent).
  const r = await rig('refresh 3s refresh_ahead 2s')
  const start = r.idp.fetches
  const times: number[] = []
  const t0 = performance.now()
  let seen = start
  while (performance.now() - t0 < 3600) {
    if (r.idp.fetches !== seen) { seen = r.idp.fetches; times.push(performance.now() - t0) }
    await sleep(20)
  }
  const n = r.idp.fetches - start
  assert.ok(n >= 2 && n <= 5, `expected about 3 background fetches in 3.6 s (one per ~1 s), saw ${n} at ${times.map(Math.round)} ms`)
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1]
    assert.ok(gap > 500 && gap < 2500, `fetches ~1 s apart, got ${Math.round(gap)} ms`)
  }
  assert.equal((await r.call(await r.token())).status, 200)
})

test('50 concurrent requests with unknown kids cause at most 2 JWKS fetches (single-flight, cooldown)', async () => {
  const r = await rig('refresh 5m unknown_kid_cooldown 30s')
  // a slow JWKS keeps the first fetch in flight while the rest of the flood arrives
  r.idp.setDelay(300)
  const forged = await Promise.all(Array.from({ length: 50 }, () => unknownKid({ sub: 'mallory', iss: r.idp.issuer }, { alg: 'ES256' })))
  assert.equal(new Set(forged).size, 50)
  r.idp.resetFetches()
  const answers = await Promise.all(forged.map(t => r.call(t)))
  assert.deepEqual(tally(answers.map(a => a.status)), { 401: 50 })
  const first = r.idp.fetches
  assert.ok(first >= 1 && first <= 2, `expected 1 (at most 2) JWKS fetches for 50 concurrent unknown kids, saw ${first}`)
  // a second flood inside the cooldown does not reach the IdP at all, and is answered without waiting on it:
  // the IdP now takes 3 s, so a request that waited on it would take that long; 50 concurrent requests on a
  // loaded machine take longer than the old 300 ms bound by themselves, never 1.5 s
  const more = await Promise.all(Array.from({ length: 50 }, () => unknownKid({ sub: 'mallory', iss: r.idp.issuer }, { alg: 'ES256' })))
  r.idp.setDelay(3000)
  let again: Awaited<ReturnType<typeof r.call>>[]
  try { again = await Promise.all(more.map(t => r.call(t))) } finally { r.idp.setDelay(300) }
  assert.deepEqual(tally(again.map(a => a.status)), { 401: 50 })
  assert.equal(r.idp.fetches, first, 'no fetch within the unknown-kid cooldown')
  assert.ok(Math.max(...again.map(a => a.ms)) < 1500, 'inside the cooldown an unknown kid is refused without waiting for the (slow) IdP')
})

test('an unknown kid refreshes at most once per cooldown: a rotated key is found, a second one waits for the cooldown', async () => {
  const r = await rig('refresh 5m unknown_kid_cooldown 1s')
  r.idp.resetFetches()
  await r.idp.rotate('ES256')
  assert.equal((await r.call(await r.token())).status, 200, 'a key rotated in after the last refresh is found by the unknown-kid refresh')
  assert.equal(r.idp.fetches, 1)
  await r.idp.rotate('ES256')
  const t2 = await r.token()
  assert.equal((await r.call(t2)).status, 401, 'within the cooldown the new kid is unknown and refused')
  assert.equal(r.idp.fetches, 1, 'no second fetch within the cooldown')
  await sleep(1200)
  assert.equal((await r.call(t2)).status, 200, 'after the cooldown an unknown kid may refresh again')
  assert.equal(r.idp.fetches, 2)
})

test('key rotation under load: no request with a known key waits on the (slow) IdP', async () => {
  // refresh 1s and a JWKS that takes 1.5 s to answer: from the rotation on, a fetch is nearly always in flight
  const r = await rig('refresh 1s refresh_ahead 0s unknown_kid_cooldown 500ms timeout 5s')
  const oldKid = r.idp.keys()[0].kid
  const known = await Promise.all(Array.from({ length: 300 }, () => r.token()))
  r.idp.setDelay(1500)
  r.idp.resetFetches()
  const rotated: Promise<{ status: number; ms: number }>[] = []
  let rotatedAt = -1
  let k = 0
  // when each JWKS fetch reached the IdP (seen within a 10 ms tick): it is pending for the next 1.5 s
  const fetchArrivals: number[] = []
  let fetchesSeen = 0
  const shots = await steady(100, 3000, async () => (await r.call(known[k++ % known.length])).status, ms => {
    if (r.idp.fetches > fetchesSeen) { fetchesSeen = r.idp.fetches; fetchArrivals.push(ms) }
    if (ms > 500 && rotatedAt < 0) { rotatedAt = ms; void r.idp.rotate('ES256') }
    // tokens from the new key (unknown until a fetch lands) trickle in alongside: those may wait
    if (rotatedAt > 0 && ms > rotatedAt + 100 && rotated.length < (ms - rotatedAt) / 200) rotated.push(r.token().then(t => r.call(t)))
  })
  const newKey = await Promise.all(rotated)
  assert.deepEqual(tally(shots.map(s => s.status)), { 200: shots.length }, 'every known-key request succeeded')
  const worst = Math.max(...shots.map(s => s.ms))
  // The IdP answers after 1.5 s: a known-key request that waited for any fetch would take ≥ 1.5 s. 1 s leaves
  // room for a loaded 2-core machine without letting a waiting request through.
  assert.ok(worst < 1000, `slowest known-key request took ${Math.round(worst)} ms`)
  // A fetch reaches the IdP at least every 2.5 s (1.5 s answer + 1 s refresh), so in a 3 s run at least
  // 0.5 s of requests (~50) were sent while one was pending.
  const overlapping = shots.filter(s => fetchArrivals.some(f => s.at >= f && s.at < f + 1400)).length
  assert.ok(overlapping >= 20, `known-key requests sent while a JWKS fetch was pending: ${overlapping} (fetches at ${fetchArrivals.map(Math.round)} ms)`)
  assert.ok(newKey.length >= 5 && newKey.some(a => a.status === 200), `the rotated key was picked up during the run: ${JSON.stringify(tally(newKey.map(a => a.status)))}`)
  assert.ok(r.idp.keys().some(x => x.kid === oldKid && x.published), 'control: the old key stayed published (overlap)')
  r.idp.setDelay(0)
})

test('a key retired from the JWKS is refused after the next refresh, including tokens already verified and cached', async () => {
  const r = await rig('refresh 1s refresh_ahead 0s')
  const oldKid = r.idp.keys()[0].kid
  const cached = await r.token()
  assert.equal((await r.call(cached)).status, 200)
  assert.equal((await r.call(cached)).status, 200, 'now a verified-token cache hit')
  await r.idp.rotate('ES256')
  r.idp.retire(oldKid)
  const fresh = await r.idp.sign({}, { kid: oldKid, subject: 'late' })
  // refresh every 1 s: allow three intervals on a busy machine
  await waitFor(async () => (await r.call(cached)).status === 401, 3000, 'the cached token of a retired key to be refused')
  assert.equal((await r.call(fresh)).status, 401, 'a new token signed by the retired key')
  assert.equal((await r.call(await r.token())).status, 200, 'the current key still works')
})
