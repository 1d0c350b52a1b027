// test/policies/jwks-outage.test.ts: the JWKS cache while the IdP misbehaves: cached keys keep serving while
// refreshes fail (503, connection closed, no answer), stale-while-revalidate with failures counted; `max_stale`
// bounds how long keys are trusted without a successful fetch (fresh and cached tokens alike), and they are
// trusted again once the IdP is back, and past it tokens get 503 auth_unavailable (their keys cannot be known),
// not 401; an IdP down at start answers 503, then recovers; a hung JWKS fetch
// never holds a request past its route timeout.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startIdp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { closeAll, metricOf, sleep, tally, waitFor } from './fixtures.js'
import { startJwtRig, type JwtRig } from './jwt-rig.js'

let stub: Stub
const rigs: JwtRig[] = []
before(async () => { stub = await startStub({ name: 'web', count: 1 }) })
after(async () => { await closeAll(...rigs); await stub.close() })

const rig = async (jwks: string, o: Parameters<typeof startJwtRig>[2] = {}) => { const r = await startJwtRig(stub, jwks, o); rigs.push(r); return r }

test('IdP failing (503, closed connection, no answer): cached keys keep serving, fast, and failures are counted', async () => {
  const r = await rig('refresh 1s refresh_ahead 0s max_stale 1h timeout 300ms')
  for (const mode of ['error', 'refuse', 'hang'] as const) {
    const failed0 = await metricOf(r.gw, 'gw_jwks_fetches_total', { provider: 'idp', result: 'error' })
    r.idp.setDown(mode)
    // a background refresh (every ~1 s, and 300 ms for a hung one to time out) fails while we watch
    await waitFor(async () => await metricOf(r.gw, 'gw_jwks_fetches_total', { provider: 'idp', result: 'error' }) > failed0, 3000, `${mode}: a failed fetch to be counted`)
    const t0 = performance.now()
    const answers = []
    while (performance.now() - t0 < 400) { answers.push(await r.call(await r.token())); await sleep(20) }
    assert.deepEqual(tally(answers.map(a => a.status)), { 200: answers.length }, `${mode}: every fresh token verified with the cached keys`)
    assert.ok(Math.max(...answers.map(a => a.ms)) < 250, `${mode}: no request waited on the failing IdP (${Math.round(Math.max(...answers.map(a => a.ms)))} ms)`)
    r.idp.setDown(false)
  }
})

test('max_stale: a key removed while the IdP is unreachable stops being accepted within max_stale; the IdP back, its new key is', async () => {
  // refresh 1s, max_stale 2s: the last good fetch was at most ~1 s before the outage began, so the cached
  // keys are dropped at most ~2 s into it, whatever the IdP did with them meanwhile.
  const r = await rig('refresh 1s refresh_ahead 0s max_stale 2s timeout 200ms')
  const oldKid = r.idp.keys()[0].kid
  let n = 0
  const fromOld = () => r.idp.sign({}, { kid: oldKid, subject: `old-${++n}` })
  assert.equal((await r.call(await fromOld())).status, 200)
  r.idp.setDown('error')
  const t0 = performance.now()
  // the IdP rotates and removes the old key while the gateway cannot see it
  await r.idp.rotate('ES256')
  r.idp.retire(oldKid)
  assert.equal((await r.call(await fromOld())).status, 200, 'just after the outage began the cached keys still serve (stale)')
  // the keys are no longer trusted and cannot be fetched: the token cannot be judged (503, not 401)
  await waitFor(async () => (await r.call(await fromOld())).status === 503, 4000, 'the removed key to be refused once the cache is older than max_stale')
  const refusedAfter = performance.now() - t0
  assert.ok(refusedAfter >= 900, `keys were trusted for ${Math.round(refusedAfter)} ms of the outage: max_stale is 2 s after the last good fetch (≥ 1 s into the outage)`)
  assert.equal(await metricOf(r.gw, 'gw_jwks_keys', { provider: 'idp' }), 0, 'the stale key set is dropped')
  r.idp.setDown(false)
  // failed fetches are retried every max(1 s, refresh/10); r.token() signs with the new key
  await waitFor(async () => (await r.call(await r.token())).status === 200, 4000, 'the new key to be accepted after the IdP recovered')
  assert.equal((await r.call(await fromOld())).status, 401, 'the removed key stays refused')
})

test('max_stale applies to verified tokens in the cache too (a hot token is not trusted past max_stale)', async () => {
  const r = await rig('refresh 1s refresh_ahead 0s max_stale 2s timeout 200ms')
  const hot = await r.token()
  assert.equal((await r.call(hot)).status, 200)
  r.idp.setDown('error')
  // only the cached token is used during the outage (no fresh token triggers the key-set lookup)
  const t0 = performance.now()
  let last = 200
  while (performance.now() - t0 < 3500 && last === 200) { last = (await r.call(hot)).status; await sleep(50) }
  assert.equal(last, 503, 'a cached token must be refused (503 auth_unavailable) once its key is older than max_stale (max_stale 2s, refresh 1s: it must be refused within ~3 s of the outage)')
})

test('an IdP down when the gateway starts: tokens get 503 auth_unavailable (never 401), then are accepted once it is back', async () => {
  const idp = await startIdp({ algorithms: ['ES256'] })
  idp.setDown('error')
  // with no keys every kid is unknown: the unknown-kid refresh (cooldown 300ms) is what recovers quickly
  const r = await rig('refresh 5m unknown_kid_cooldown 300ms timeout 300ms', { idp })
  const early = await r.call(await r.token())
  assert.equal(early.status, 503)
  assert.equal(JSON.parse(early.text).error, 'auth_unavailable')
  assert.ok(Number(early.headers['retry-after']) >= 1, 'Retry-After names the seconds to the next fetch')
  idp.setDown(false)
  await waitFor(async () => (await r.call(await r.token())).status === 200, 3000, 'tokens to be accepted after the IdP came up')
})

test('a hung JWKS fetch for an unknown kid never holds the request past its route timeout', async () => {
  const r = await rig('refresh 5m unknown_kid_cooldown 100ms timeout 1500ms', { timeout: '500ms' })
  r.idp.setDown('hang')
  await r.idp.rotate('ES256')
  const known = r.idp.keys()[0].kid
  const a = await r.call(await r.token())
  // the token cannot be checked in time: 503 auth_unavailable (Retry-After: 1), not a 401 the client would
  // take as "your token is bad"
  assert.equal(a.status, 503, `status ${a.status}`)
  assert.equal(JSON.parse(a.text).error, 'auth_unavailable')
  assert.equal(a.headers['retry-after'], '1')
  // route timeout 500 ms; 1 s leaves room for a loaded machine and is under the 1.5 s fetch timeout
  assert.ok(a.ms < 1000, `a request with a new kid took ${Math.round(a.ms)} ms against a route timeout of 500 ms`)
  const k = await r.call(await r.idp.sign({}, { kid: known, subject: 'k' }))
  assert.equal(k.status, 200)
  assert.ok(k.ms < 250, 'a known kid does not wait on the hung fetch')
})
