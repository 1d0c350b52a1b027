// test/policies/jwks-edges.test.ts: what jwks-unit leaves open about the JWKS cache (policies/auth/jwks.ts), found by
// the mutation run: RSA keys without `alg` for every RSA algorithm a provider allows, private material that would
// import, the metrics' help texts and how the cluster primary combines the key gauge, a document that is `null`,
// the failure log after a fetch that held no keys or at an age of seconds, and a fetch for an unknown kid moving the
// background refresh rather than adding one.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { ClusterMetrics, type MetricJSON } from '../../runtime/cluster-metrics.js'
import { jwksServer, type JwksServer } from '../helpers/jwks-cache.js'
import { metric } from '../helpers/gateway.js'
import { sleep } from '../helpers/wire.js'

let idp: JwksServer
let rsa: JWK, rsaPrivate: JWK, p256: JWK
before(async () => {
  idp = await jwksServer()
  const r = await generateKeyPair('RS256', { extractable: true })
  ;[rsa, rsaPrivate] = await Promise.all([exportJWK(r.publicKey), exportJWK(r.privateKey)])
  p256 = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)
})
after(() => idp.close())

test('an RSA key without `alg` verifies every RSA algorithm the provider allows; private material is never cached, even when it imports', async () => {
  idp.reset({
    keys: [
      { ...rsa, kid: 'rs-any' },
      { ...rsaPrivate, kid: 'rs-private' },          // a whole private JWK: importable, and still refused
      { ...rsa, kid: 'rs-k', k: 'c2VjcmV0' },         // a public key carrying symmetric material: refused as a whole
      { ...p256, kid: 'ec' },
    ],
  })
  const { c, read } = idp.cache({ algorithms: ['RS384', 'RS512', 'PS384', 'ES256'] })
  await c.start()
  const offered = (kid: string) => (['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256'] as const).filter(a => c.get(kid, a) !== undefined)
  assert.deepEqual(offered('rs-any'), ['RS384', 'RS512', 'PS384'])
  assert.deepEqual(offered('rs-private'), [])
  assert.deepEqual(offered('rs-k'), [])
  assert.deepEqual(offered('ec'), ['ES256'])
  assert.equal(await read('gw_jwks_keys', { provider: 'idp' }), 2, 'rs-any and ec')
})

test('the metrics: help texts, and with --workers the key gauge is the largest worker value, not the sum', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'a' }, { ...p256, kid: 'b' }, { ...p256, kid: 'c' }] })
  const { c, metrics } = idp.cache()
  await c.start()
  const text = await metrics.registry.metrics()
  assert.match(text, /^# HELP gw_jwks_fetches_total JWKS fetches, by provider and result$/m)
  assert.match(text, /^# HELP gw_jwks_keys Keys in the cached JWKS$/m)
  // the primary's /metrics over two workers that each hold the same three keys
  const worker = { isDead: () => false, process: { exitCode: null } }
  const cluster = new ClusterMetrics(async () => await metrics.registry.getMetricsAsJSON() as unknown as MetricJSON[])
  const { text: both } = await cluster.render([worker, { ...worker }] as never)
  assert.equal(metric(both, 'gw_jwks_keys', { provider: 'idp' }), 3)
  assert.equal(metric(both, 'gw_jwks_fetches_total', { provider: 'idp', result: 'ok' }), 2, 'counters are summed')
})

test('a JWKS document that is `null` fails with what is missing, not a TypeError', async () => {
  idp.reset(null)
  const { c, logs } = idp.cache()
  await c.start()
  assert.equal(c.failing, true)
  assert.deepEqual(logs.map(l => [l.level, l.err]), [[50, 'JWKS has no "keys" array']])
})

test('a failure after a fetch that held no keys says none are cached', async () => {
  idp.reset({ keys: [] })
  const { c, logs } = idp.cache({ refreshMs: 20_000, refreshAheadMs: 2000 })
  await c.start()
  assert.equal(c.failing, false)
  idp.reset({ keys: [] }, 503)
  await c.refresh()
  assert.deepEqual(logs.map(l => [l.level, l.err, l.msg]), [[50, 'JWKS answered 503',
    'JWKS fetch failed; no keys cached: tokens are answered 503 auth_unavailable until a fetch succeeds; next attempt in 2 s']])
})

test('a fetch for an unknown kid moves the next background refresh; it does not add one', async () => {
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const { c } = idp.cache({ refreshMs: 2000, refreshAheadMs: 0, unknownKidCooldownMs: 0 })
  const t0 = performance.now()
  await c.start()
  await sleep(500)
  await c.awaitUnknownKid()
  assert.equal(idp.fetches, 2)
  // the refresh the first fetch scheduled (t0 + 2 s) is gone; the next is 2 s after the unknown kid's fetch
  await sleep(Math.max(0, t0 + 2350 - performance.now()))
  c.stop()
  assert.equal(idp.fetches, 2, `fetches at ${idp.fetchedAt.map(t => Math.round(t - t0)).join(', ')} ms`)
})

test('a failure seconds after a good fetch: its age counts down the trust, and an age is measured from the fetch, not from process start', async () => {
  // max_stale is short next to the process's age, so an age taken as now + fetchedAt would read as stale (last in
  // this file so that the process is old enough without waiting)
  while (performance.now() < 3000) await sleep(100)
  idp.reset({ keys: [{ ...p256, kid: 'k1' }] })
  const { c, logs } = idp.cache({ refreshMs: 20_000, refreshAheadMs: 2000, maxStaleMs: 4000 })
  await c.start()
  await sleep(1200)
  idp.reset({ keys: [] }, 500)
  await c.refresh()
  assert.equal(logs.length, 1)
  const l = logs[0]
  assert.equal(l.level, 40, 'served stale: a warning, not "no keys cached"')
  const age = l.age_s as number, trusted = l.trusted_for_s as number
  assert.ok(age >= 1, `age ${age} s`)
  assert.equal(age + trusted, 4, `trusted for max_stale − age: ${trusted} s at ${age} s`)
  assert.equal(l.msg, `JWKS fetch failed; serving 1 cached keys (trusted for another ${trusted} s); next attempt in 2 s`)
})
