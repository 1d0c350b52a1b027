// Issue 14, survivor 9: the provider's algorithm allow-list is checked before any key lookup. A token in an
// algorithm the provider does not accept is refused outright, also when its kid is unknown: it must not make
// the gateway fetch the JWKS (that costs the IdP a request and the client the fetch's latency, and lets anyone
// drive JWKS traffic with tokens the gateway would refuse anyway). The IdP here answers JWKS requests slowly,
// as a real one may, so a fetch would also show in the answer time.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startIdp, unknownKid, type Idp } from '../../testkit/idp/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange, type WireResponse } from '../helpers/wire.js'

let idp: Idp
let up: RecordingUpstream
let gw: TestGateway

before(async () => {
  ;[idp, up] = await Promise.all([startIdp({ algorithms: ['RS256', 'ES256'] }), startRecordingUpstream(1)])
  gw = await startGateway(`
upstream web { replicas ${up.addrs} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m unknown_kid_cooldown 30s
  algorithms RS256
}
route api { match path prefix "/api"; auth idp; timeout 2s; proxy web }
`)
  idp.setDelay(200)
})
after(async () => { await gw?.close(); await Promise.all([idp?.close(), up?.close()]) })

const call = (token: string): Promise<WireResponse> =>
  wireExchange(gw.running.address.port, req('GET /api/x HTTP/1.1', 'Host: shop.test', `Authorization: Bearer ${token}`))

function assertInvalidToken(r: WireResponse, what: string): void {
  assert.equal(r.status, 401, what)
  assert.equal(r.header('www-authenticate'), 'Bearer error="invalid_token"', what)
  assert.deepEqual(JSON.parse(r.text), { error: 'unauthorized', request_id: r.header('x-request-id') }, what)
}

test('an ES256 token on an RS256-only provider is refused without a JWKS fetch, known kid or unknown', async () => {
  idp.resetFetches()
  up.reset()
  const claims = { sub: 'mallory', iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 600 }
  const esKid = idp.keys().find(k => k.alg === 'ES256')!.kid
  const tokens = [
    ['genuine ES256 token from the IdP', await idp.sign({}, { alg: 'ES256', subject: 'alice' })],
    ['ES256 token under the published ES256 kid', await idp.signJws(JSON.stringify(claims), { kid: esKid })],
    ['ES256 token under an unknown kid', await unknownKid(claims, { alg: 'ES256' })],
    ['another ES256 token under another unknown kid', await unknownKid(claims, { alg: 'ES256' })],
  ] as const
  for (const [what, token] of tokens) {
    const t0 = performance.now()
    const r = await call(token)
    assertInvalidToken(r, what)
    assert.equal(idp.fetches, 0, `${what}: the JWKS was fetched (answered in ${Math.round(performance.now() - t0)} ms)`)
  }
  assert.equal(up.received.length, 0, 'nothing reached the upstream')
})

test('the control: an RS256 token under an unknown kid does fetch the JWKS once, then is refused', async () => {
  idp.resetFetches()
  const claims = { sub: 'mallory', iss: idp.issuer, exp: Math.floor(Date.now() / 1000) + 600 }
  assertInvalidToken(await call(await unknownKid(claims, { alg: 'RS256' })), 'RS256, unknown kid')
  assert.equal(idp.fetches, 1, 'an unknown kid in an allowed algorithm refreshes the key set once')
  // and a genuine RS256 token passes
  const ok = await call(await idp.sign({}, { alg: 'RS256', subject: 'alice' }))
  assert.equal(ok.status, 200, ok.text)
})
