// test/policies/jwt-attacks.test.ts: forged and malformed tokens against a real gateway: alg none (any case),
// algorithm confusion (HS256 keyed with each public key; a kid borrowed across key types), embedded keys,
// jku/x5u pointing at an attacker's JWKS, unknown kids, altered signatures, crit, bad claims, malformed
// compact JWS. Every one is answered 401 (403 only for the wrong audience), none reaches the upstream, and
// the cheap ones cost no JWKS fetch.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { attackTokens, hs256WithPublicKey, startIdp, type Idp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, bearer, closeAll, metricOf, send, startTogether } from './fixtures.js'

const AUD = 'shop-api'
let idp: Idp
let attacker: Idp
let stub: Stub
let gw: TestGateway
const ua = agent()

before(async () => {
  ;[idp, attacker, stub] = await startTogether(
    startIdp({ algorithms: ['RS256', 'ES256', 'EdDSA'] }),
    startIdp({ algorithms: ['RS256', 'ES256', 'EdDSA'] }),
    startStub({ name: 'web', count: 1 }),
  )
  gw = await startGateway(`
upstream web { replicas ${addrs(stub)} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m unknown_kid_cooldown 30s
  forward claim sub as X-User-Id
}
route api { match path prefix "/api"; auth idp audience "${AUD}"; timeout 2s; proxy web }
`)
})
after(() => closeAll(ua, gw, stub, idp, attacker))

const call = (token: string) => send(ua, gw.url + '/api/status/200', { headers: bearer(token) })
const upstreamRequests = () => stub.stats().requests

test('every forged token from testkit/idp is refused with the documented status and never proxied', async () => {
  const attacks = await attackTokens(idp, { audience: AUD, subject: 'mallory' })
  assert.ok(attacks.length > 25, 'the attack list is the full one')
  const before = upstreamRequests()
  const failures: string[] = []
  for (const a of attacks) {
    const r = await call(a.token)
    const error = r.status === 401 || r.status === 403 ? JSON.parse(r.text).error : r.text
    const want = a.status === 401 ? 'unauthorized' : 'forbidden'
    if (r.status !== a.status || error !== want || !/^Bearer\b/.test(String(r.headers['www-authenticate']))) {
      failures.push(`${a.name} (${a.reason}): got ${r.status} ${error}, www-authenticate ${r.headers['www-authenticate']}`)
    }
  }
  assert.deepEqual(failures, [])
  assert.equal(upstreamRequests(), before, 'no forged token reached the upstream')
  // the control: a real token passes the same route
  assert.equal((await call(await idp.sign({}, { subject: 'alice', audience: AUD }))).status, 200)
})

test('algorithm confusion: HS256 keyed with any published public key, or a kid borrowed from another key type', async () => {
  const claims = { sub: 'mallory', aud: AUD, iss: idp.issuer }
  for (const jwk of idp.jwks().keys) {
    const r = await call(await hs256WithPublicKey(claims, jwk))
    assert.equal(r.status, 401, `HS256 with the ${jwk.alg} key ${jwk.kid} as secret`)
  }
  // a genuine ES256 (and EdDSA) signature presented under the RSA key's kid: the kid's key only verifies RS256
  const rsaKid = idp.keys().find(k => k.alg === 'RS256')!.kid
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const signer = idp.keys().find(k => k.alg === alg)!.kid
    const t = await idp.signJws(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }), { kid: signer, header: { typ: 'JWT', kid: rsaKid } })
    assert.equal((await call(t)).status, 401, `${alg} signature under the RS256 kid`)
    // the same header claiming RS256 over an ES256/EdDSA signature
    const t2 = await idp.signJws(JSON.stringify({ ...claims, exp: Math.floor(Date.now() / 1000) + 600 }), { kid: signer, header: { typ: 'JWT', alg: 'RS256', kid: rsaKid } })
    assert.equal((await call(t2)).status, 401, `${alg} signature labelled RS256`)
  }
})

test('jku and x5u headers pointing at an attacker\'s JWKS are ignored (the attacker\'s server is never asked)', async () => {
  attacker.resetFetches()
  const victimKid = idp.keys().find(k => k.alg === 'RS256')!.kid
  const evil = attacker.keys().find(k => k.alg === 'RS256')!.kid
  for (const kid of [evil, victimKid]) {
    // iss and aud are the real ones: only the key is the attacker's
    const t = await attacker.signJws(JSON.stringify({ sub: 'mallory', aud: AUD, iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 600 }),
      { kid: evil, header: { typ: 'JWT', kid, jku: attacker.jwksUrl, x5u: attacker.jwksUrl + '?x5u' } })
    assert.equal((await call(t)).status, 401, `attacker-signed token with jku and kid ${kid === evil ? 'of the attacker key' : 'of a real key'}`)
  }
  assert.equal(attacker.fetches, 0, 'the gateway fetched keys only from its configured JWKS URL')
})

test('tokens that fail before any key lookup cost no JWKS fetch, and an unknown kid at most one', async () => {
  const attacks = (await attackTokens(idp, { audience: AUD })).filter(a => /^(alg-|hs256|malformed-|crit|signed-payload)/.test(a.name))
  idp.resetFetches()
  for (const a of attacks) assert.equal((await call(a.token)).status, 401, a.name)
  assert.equal(idp.fetches, 0, 'alg none, HS256 and malformed tokens never reach the IdP')
  const unknown = (await attackTokens(idp, { audience: AUD })).filter(a => a.name === 'unknown-kid')
  for (let i = 0; i < 5; i++) for (const a of unknown) assert.equal((await call(a.token)).status, 401)
  assert.ok(idp.fetches <= 1, `unknown kids within the cooldown cause at most one JWKS fetch, saw ${idp.fetches}`)
})

test('every refusal is counted in gw_stage_rejects_total', async () => {
  const before = await metricOf(gw, 'gw_stage_rejects_total', { stage: 'auth', route: 'api', code: '401' })
  for (let i = 0; i < 3; i++) assert.equal((await call('x.y.z')).status, 401)
  assert.equal(await metricOf(gw, 'gw_stage_rejects_total', { stage: 'auth', route: 'api', code: '401' }) - before, 3)
})
