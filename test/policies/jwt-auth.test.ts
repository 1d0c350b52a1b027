// test/policies/jwt-auth.test.ts: `auth` against a mock IdP over real sockets: RS256, ES256 and EdDSA tokens
// verified against the JWKS; 401 {"error":"unauthorized"} + WWW-Authenticate: Bearer for missing and invalid
// tokens, 403 for a valid token with the wrong audience; exp/nbf with leeway, iss, the provider's algorithm
// list; Authorization stripped and claims forwarded; the verified-token cache (hits, bound, expiry).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, bearer, closeAll, echoed, metricOf, send, sleep, startTogether } from './fixtures.js'

const AUD = 'shop-api'
let idp: Idp
let stub: Stub
let gw: TestGateway
const ua = agent()

const policy = () => `
upstream web { replicas ${addrs(stub)} }

jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
  leeway 5s
  forward claim sub as X-User-Id, claim tid as X-Tenant-Id
}

# Same IdP, stricter provider: RS256 only, no clock leeway, a verified-token cache of two entries.
jwt strict {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
  algorithms RS256
  leeway 0s
  cache 2
}

route api { match path prefix "/api"; auth idp audience "${AUD}" "other-api"; timeout 2s; proxy web }
route any_audience { match path prefix "/any"; auth idp; timeout 2s; proxy web }
route strict { match path prefix "/strict"; auth strict; timeout 2s; proxy web }
route public { match path prefix "/"; timeout 2s; proxy web }
`

before(async () => {
  ;[idp, stub] = await startTogether(startIdp({ algorithms: ['RS256', 'ES256', 'EdDSA'] }), startStub({ name: 'web', count: 1, rules: [{ path: '/', mode: 'echo' }] }))
  gw = await startGateway(policy())
})
after(() => closeAll(ua, gw, stub, idp))

const get = (path: string, headers: Record<string, string> = {}) => send(ua, gw.url + path, { headers })

/** The 401 every auth failure gets: fixed body, a Bearer challenge, nothing about why. */
function assertUnauthorized(r: { status: number; headers: Record<string, unknown>; text: string }, what: string) {
  assert.equal(r.status, 401, `${what}: ${r.text}`)
  assert.equal(JSON.parse(r.text).error, 'unauthorized', what)
  assert.match(String(r.headers['www-authenticate']), /^Bearer\b/, what)
  assert.equal(r.headers['x-stub-replica'], undefined, `${what}: must not reach the upstream`)
}

test('RS256, ES256 and EdDSA tokens from the IdP are accepted; Authorization is stripped, claims forwarded', async () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    const token = await idp.sign({ tid: 'acme' }, { alg, subject: `alice-${alg}`, audience: AUD })
    const r = await get('/api/echo', bearer(token))
    assert.equal(r.status, 200, `${alg}: ${r.text}`)
    assert.deepEqual(echoed(r.text, 'x-user-id'), [`alice-${alg}`], alg)
    assert.deepEqual(echoed(r.text, 'x-tenant-id'), ['acme'], alg)
    assert.deepEqual(echoed(r.text, 'authorization'), [], `${alg}: the bearer token must not reach the upstream`)
  }
})

test('a missing or non-Bearer Authorization gets 401 unauthorized with WWW-Authenticate: Bearer', async () => {
  assertUnauthorized(await get('/api/echo'), 'no Authorization')
  assertUnauthorized(await get('/api/echo', { authorization: 'Basic YWxpY2U6cHc=' }), 'Basic')
  assertUnauthorized(await get('/api/echo', { authorization: 'Bearer' }), 'Bearer without a token')
  assertUnauthorized(await get('/api/echo', { authorization: 'Bearer not-a-jwt' }), 'not a JWS')
  const token = await idp.sign({}, { subject: 'alice', audience: AUD })
  assertUnauthorized(await get('/api/echo', { authorization: `Token ${token}` }), 'another scheme with a valid token')
  // the scheme is case-insensitive (RFC 9110 §11.1)
  assert.equal((await get('/api/echo', { authorization: `bearer ${token}` })).status, 200)
})

test('a valid token for another audience gets 403 forbidden; any listed audience is enough', async () => {
  const other = await idp.sign({}, { subject: 'alice', audience: 'billing-api' })
  const r = await get('/api/echo', bearer(other))
  assert.equal(r.status, 403, r.text)
  assert.equal(JSON.parse(r.text).error, 'forbidden')
  assert.match(String(r.headers['www-authenticate']), /^Bearer\b/)
  assert.equal(r.headers['x-stub-replica'], undefined)
  // no aud at all is not "the right audience" either
  assert.equal((await get('/api/echo', bearer(await idp.sign({}, { subject: 'alice' })))).status, 403)
  // an aud array containing one accepted audience, or the route's second audience
  assert.equal((await get('/api/echo', bearer(await idp.sign({}, { subject: 'alice', audience: ['billing-api', AUD] })))).status, 200)
  assert.equal((await get('/api/echo', bearer(await idp.sign({}, { subject: 'alice', audience: 'other-api' })))).status, 200)
  // a route whose auth names no audience (and whose provider has none) does not check it
  assert.equal((await get('/any/echo', bearer(other))).status, 200)
})

test('exp and nbf are checked with the provider leeway', async () => {
  const o = { subject: 'alice', audience: AUD }
  // leeway 5s: a token that expired 2 s ago, or becomes valid in 2 s, still passes; an hour off does not
  assert.equal((await get('/api/echo', bearer(await idp.sign({}, { ...o, expiresIn: -2 })))).status, 200, 'exp 2 s ago, within leeway')
  assert.equal((await get('/api/echo', bearer(await idp.sign({}, { ...o, notBefore: 2 })))).status, 200, 'nbf in 2 s, within leeway')
  assertUnauthorized(await get('/api/echo', bearer(await idp.sign({}, { ...o, expiresIn: -60 }))), 'exp a minute ago')
  assertUnauthorized(await get('/api/echo', bearer(await idp.sign({}, { ...o, notBefore: 60 }))), 'nbf in a minute')
  assertUnauthorized(await get('/api/echo', bearer(await idp.sign({}, { ...o, expiresIn: null }))), 'no exp at all')
  // leeway 0 (provider `strict`): a token 2 s past exp is refused
  assertUnauthorized(await get('/strict/echo', bearer(await idp.sign({}, { ...o, expiresIn: -2 }))), 'exp 2 s ago, no leeway')
})

test('the issuer must match', async () => {
  const o = { subject: 'alice', audience: AUD }
  assertUnauthorized(await get('/api/echo', bearer(await idp.sign({}, { ...o, issuer: 'https://evil.example/' }))), 'foreign issuer')
  assertUnauthorized(await get('/api/echo', bearer(await idp.sign({}, { ...o, issuer: idp.issuer.replace(/\/$/, '') }))), 'issuer without its trailing slash')
})

test('only the provider\'s algorithms are accepted', async () => {
  const rs = await idp.sign({}, { alg: 'RS256', subject: 'alice' })
  assert.equal((await get('/strict/echo', bearer(rs))).status, 200)
  for (const alg of ['ES256', 'EdDSA'] as const) {
    assertUnauthorized(await get('/strict/echo', bearer(await idp.sign({}, { alg, subject: 'alice' }))), `${alg} on an RS256-only provider`)
  }
})

test('a verified token is cached: repeats are cache hits, and a cached token is still refused past exp', async () => {
  const token = await idp.sign({}, { subject: 'carol', audience: AUD })
  const hits0 = await metricOf(gw, 'gw_jwt_cache_total', { provider: 'idp', result: 'hit' })
  for (let i = 0; i < 5; i++) assert.equal((await get('/api/echo', bearer(token))).status, 200)
  const hits = await metricOf(gw, 'gw_jwt_cache_total', { provider: 'idp', result: 'hit' }) - hits0
  assert.ok(hits >= 4, `expected at least 4 cache hits for 5 requests with one token, got ${hits}`)

  // `strict` has leeway 0: a token expiring within 2 s is accepted (and cached), then refused once exp passes
  const short = await idp.sign({}, { subject: 'dave', expiresIn: 2 })
  assert.equal((await get('/strict/echo', bearer(short))).status, 200)
  assert.equal((await get('/strict/echo', bearer(short))).status, 200)
  await sleep(2300)
  assertUnauthorized(await get('/strict/echo', bearer(short)), 'a cached token after its exp')
})

test('the verified-token cache is bounded (cache 2: three tokens in turn never hit)', async () => {
  const tokens = await Promise.all(['t1', 't2', 't3'].map(s => idp.sign({}, { subject: s })))
  const hit = () => metricOf(gw, 'gw_jwt_cache_total', { provider: 'strict', result: 'hit' })
  const before = await hit()
  for (let round = 0; round < 2; round++) for (const t of tokens) assert.equal((await get('/strict/echo', bearer(t))).status, 200)
  assert.equal(await hit() - before, 0, 'with room for two, cycling through three tokens evicts each before its reuse')
  // while two tokens alternate, both stay cached
  for (let i = 0; i < 3; i++) for (const t of tokens.slice(0, 2)) assert.equal((await get('/strict/echo', bearer(t))).status, 200)
  assert.ok(await hit() - before >= 4, 'two alternating tokens fit in a cache of two')
})

test('a public route neither requires nor strips Authorization', async () => {
  const r = await get('/echo', { authorization: 'Bearer anything' })
  assert.equal(r.status, 200)
  assert.deepEqual(echoed(r.text, 'authorization'), ['Bearer anything'])
})
