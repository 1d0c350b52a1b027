// test/policies/jwks-unit.test.ts: the JWKS cache (policies/auth/jwks.ts) in-process against a JWKS server whose
// document and status the test sets: which published keys are offered for which algorithm (by `alg`, or by key
// type and curve), what is never accepted (encryption keys, private or symmetric material, keys without a kid,
// keys that do not import), the fetch metrics and key gauge, the failure logs and retry interval, max_stale,
// the unknown-kid cooldown and single-flight fetches. jwks-cache and jwks-outage test the same through a gateway
// on wall-clock timing; this is what the mutation run (area policies) runs first for jwks.ts.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { jwksServer, type JwksServer } from '../helpers/jwks-cache.js'
import { sleep } from '../helpers/wire.js'

let idp: JwksServer
before(async () => { idp = await jwksServer() })
after(() => idp.close())

const pub = async (alg: string, crv?: string): Promise<JWK> => {
  const { publicKey } = await generateKeyPair(alg, { ...(crv === undefined ? {} : { crv }), extractable: true })
  return exportJWK(publicKey)
}
let rsa: JWK, p256: JWK, p384: JWK, p521: JWK, ed: JWK, x25519: JWK
before(async () => {
  ;[rsa, p256, p384, p521, ed] = await Promise.all([pub('RS256'), pub('ES256'), pub('ES384'), pub('ES512'), pub('EdDSA', 'Ed25519')])
  const { publicKey } = await generateKeyPair('ECDH-ES', { crv: 'X25519', extractable: true })
  x25519 = await exportJWK(publicKey)
})

test('which keys are offered for which algorithm', async () => {
  idp.reset({
    keys: [
      { ...rsa, kid: 'rs-alg', alg: 'RS256' },
      { ...rsa, kid: 'rs-disallowed', alg: 'PS384' },
      { ...rsa, kid: 'rs-any' },                       // no alg: every RSA algorithm allowed (RS256, PS256 here)
      { ...p256, kid: 'p256' }, { ...p384, kid: 'p384' }, { ...p521, kid: 'p521' },
      { ...ed, kid: 'ed' }, { ...x25519, kid: 'x25519' },
      { ...p256, kid: 'p256-sig', use: 'sig' }, { ...p256, kid: 'p256-enc', use: 'enc' },
      { ...p256, kid: 'private', d: 'AAAA' }, { kty: 'oct', kid: 'secret', k: 'c2VjcmV0' },
      { ...p256, kid: 7 },
      { kty: 'EC', crv: 'P-256', kid: 'broken', x: 'AAAA', y: 'AAAA' },   // not a point on the curve: does not import
      { kty: 'XYZ', kid: 'weird' },
    ],
  })
  const { c, read, logs } = idp.cache({ algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] })
  await c.start()
  assert.equal(idp.fetches, 1)
  assert.deepEqual(logs, [])
  const offered = (kid: string) => (['RS256', 'PS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const).filter(a => c.get(kid, a) !== undefined)
  assert.deepEqual(offered('rs-alg'), ['RS256'], 'a key with `alg` verifies that algorithm only')
  assert.deepEqual(offered('rs-disallowed'), [])
  assert.equal(c.has('rs-disallowed'), false, 'a key for an algorithm the provider does not allow is not cached')
  assert.deepEqual(offered('rs-any'), ['RS256', 'PS256'])
  assert.deepEqual(offered('p256'), ['ES256'])
  assert.deepEqual(offered('p384'), ['ES384'])
  assert.deepEqual(offered('p521'), ['ES512'])
  assert.deepEqual(offered('ed'), ['EdDSA'])
  assert.deepEqual(offered('p256-sig'), ['ES256'])
  for (const kid of ['x25519', 'p256-enc', 'private', 'secret', '7', 'broken', 'weird']) assert.equal(c.has(kid), false, kid)
  assert.equal(c.get('nope', 'ES256'), undefined)
  assert.equal(c.get('p256', 'RS256'), undefined)
  assert.deepEqual(c.get('p256', 'ES256')!.kid, 'p256')
  assert.deepEqual(c.get('p256', 'ES256')!.alg, 'ES256')
  assert.equal(await read('gw_jwks_fetches_total', { provider: 'idp', result: 'ok' }), 1)
  assert.equal(await read('gw_jwks_keys', { provider: 'idp' }), 7, 'kids with at least one usable key')
  assert.equal(idp.lastHeaders.accept, 'application/json')
  assert.equal(idp.lastHeaders['user-agent'], 'gwp-jwks')
  assert.equal(c.knowsKeys(), true)
  assert.equal(c.failing, false)
})

test('a failed fetch: counted, logged with what the gateway does now, retried after a tenth of refresh (at least 1 s)', async () => {
  idp.reset({ keys: [] }, 503)
  const a = idp.cache({ refreshMs: 20_000 })
  await a.c.start()
  assert.equal(a.c.failing, true)
  assert.equal(a.c.knowsKeys(), false)
  assert.equal(await a.read('gw_jwks_fetches_total', { provider: 'idp', result: 'error' }), 1)
  assert.equal(await a.read('gw_jwks_fetches_total', { provider: 'idp', result: 'ok' }), 0)
  assert.equal(a.c.retryMs, 2000)
  assert.equal(a.c.retryAfterSeconds(), 2)
  assert.deepEqual(a.logs.map(l => ({ level: l.level, provider: l.provider, err: l.err, next: l.next_attempt_s, msg: l.msg })), [{
    level: 50, provider: 'idp', err: 'JWKS answered 503', next: 2,
    msg: 'JWKS fetch failed; no keys cached: tokens are answered 503 auth_unavailable until a fetch succeeds; next attempt in 2 s',
  }])
  assert.equal(idp.cache({ refreshMs: 5000 }).c.retryMs, 1000, 'never sooner than 1 s')
  assert.equal(idp.cache({ refreshMs: 500 }).c.retryMs, 500, 'never later than refresh')

  // keys cached, then a failure: served stale, and the log says for how long
  idp.reset({ keys: [{ ...p256, kid: 'k1' }, { ...p256, kid: 'k2' }] })
  const b = idp.cache({ refreshMs: 20_000, refreshAheadMs: 2000, maxStaleMs: 600_000 })
  await b.c.start()
  assert.equal(b.c.retryAfterSeconds(), 18, 'the next fetch is refresh − refresh_ahead away')
  idp.reset({ nokeys: true })
  await b.c.refresh()
  assert.equal(b.c.failing, true)
  assert.equal(b.c.knowsKeys(), false, 'a kid missing now may be one the IdP just published')
  assert.ok(b.c.get('k1', 'ES256') !== undefined, 'the cached keys are still served')
  assert.deepEqual(b.logs.map(l => ({ level: l.level, err: l.err, keys: l.keys, age: l.age_s, trusted: l.trusted_for_s, next: l.next_attempt_s, msg: l.msg })), [{
    level: 40, err: 'JWKS has no "keys" array', keys: 2, age: 0, trusted: 600, next: 2,
    msg: 'JWKS fetch failed; serving 2 cached keys (trusted for another 600 s); next attempt in 2 s',
  }])
  assert.equal(await b.read('gw_jwks_keys', { provider: 'idp' }), 2)
  // a good fetch again clears the failure
  idp.reset({ keys: [{ ...p256, kid: 'k3' }] })
  await b.c.refresh()
  assert.equal(b.c.failing, false)
  assert.equal(b.c.knowsKeys(), true)
  assert.equal(b.c.has('k1'), false, 'the key set is replaced, not merged')
  assert.equal(b.c.has('k3'), true)
  assert.equal(await b.read('gw_jwks_keys', { provider: 'idp' }), 1)
})

test('a fetch slower than the timeout fails', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  idp.delayMs = 600
  const { c, logs } = idp.cache({ fetchTimeoutMs: 100 })
  const t0 = performance.now()
  await c.start()
  assert.ok(performance.now() - t0 < 550, 'gave up at the timeout')
  assert.equal(c.failing, true)
  assert.equal(c.has('k1'), false)
  assert.equal(logs.length, 1)
  idp.delayMs = 0
})

test('keys older than max_stale are dropped once (logged, gauge 0), and nothing is trusted until a fetch works', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const { c, logs, read } = idp.cache({ maxStaleMs: 300 })
  await c.start()
  const gen = c.generation
  assert.equal(c.has('k1'), true)
  assert.equal(c.knowsKeys(), true)
  await sleep(400)
  assert.equal(c.get('k1', 'ES256'), undefined)
  assert.equal(c.has('k1'), false)
  assert.equal(c.knowsKeys(), false)
  assert.equal(c.generation, gen + 1)
  assert.equal(await read('gw_jwks_keys', { provider: 'idp' }), 0)
  assert.deepEqual(logs.map(l => [l.level, l.provider, l.msg]), [[50, 'idp', 'JWKS older than max_stale: cached keys dropped; tokens are answered 503 auth_unavailable until a fetch succeeds']])
  // a failure now logs that no keys are cached
  idp.reset({}, 500)
  await c.refresh()
  assert.equal(logs.at(-1)!.level, 50)
  assert.match(String(logs.at(-1)!.msg), /^JWKS fetch failed; no keys cached/)
})

test('unknown kids: at most one fetch per cooldown, a fetch under way is shared, and refreshes are single-flight', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const { c } = idp.cache({ unknownKidCooldownMs: 1500 })   // long: under load the second call must still fall within it
  await c.start()
  assert.equal(idp.fetches, 1)
  await c.awaitUnknownKid()
  assert.equal(idp.fetches, 2, 'the first unknown kid idp.fetches')
  await c.awaitUnknownKid()
  assert.equal(idp.fetches, 2, 'within the cooldown: no fetch')
  await sleep(1550)
  await c.awaitUnknownKid()
  assert.equal(idp.fetches, 3, 'after the cooldown: one more')
  // a refresh under way is joined, whatever the cooldown
  idp.delayMs = 150
  const r1 = c.refresh(), r2 = c.refresh()
  assert.equal(r1, r2)
  const t0 = performance.now()
  await c.awaitUnknownKid()
  assert.ok(performance.now() - t0 >= 100, 'it waited for the fetch under way')
  await r1
  assert.equal(idp.fetches, 4)
  idp.delayMs = 0
  await c.refresh()
  assert.equal(idp.fetches, 5, 'a settled refresh is not reused')
})

test('refreshed in the background before expiry (never sooner than 100 ms), and not after stop()', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const { c } = idp.cache({ refreshMs: 1000, refreshAheadMs: 700 })
  await c.start()
  assert.equal(idp.fetches, 1)
  await sleep(500)
  assert.equal(idp.fetches, 2, 'refetched 300 ms later')
  c.stop()
  await sleep(500)
  assert.equal(idp.fetches, 2)
  const gen = c.generation
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const fast = idp.cache({ refreshMs: 1000, refreshAheadMs: 990 })
  await fast.c.start()
  await sleep(250)
  fast.c.stop()
  assert.ok(idp.fetches >= 2 && idp.fetches <= 3, `every 100 ms at most, not every 10 ms: ${idp.fetches} idp.fetches in 250 ms`)
  assert.ok(gen >= 1)
})
