// test/policies/identity-headers.test.ts: the trust boundary. Headers that `forward claim … as` sets are
// removed from every client request on every route (public ones included, any case, repeated, from any
// provider), replaced on authenticated routes by exactly the verified claim; odd claim values never become
// injected headers; and a rate limit keyed on an identity header reads the verified value, never the client's.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, closeAll, echoed, startTogether } from './fixtures.js'

let idp: Idp
let stub: Stub
let gw: TestGateway
const ua = agent()

const IDENTITY = ['x-user-id', 'x-tenant-id', 'x-roles', 'x-email']

before(async () => {
  ;[idp, stub] = await startTogether(startIdp({ algorithms: ['ES256'] }), startStub({ name: 'web', count: 1, rules: [{ path: '/', mode: 'echo' }] }))
  gw = await startGateway(`
upstream web { replicas ${addrs(stub)} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
  forward claim sub as X-User-Id, claim tid as X-Tenant-Id, claim roles as X-Roles
}
# a second provider (used by no route here): its identity header is protected all the same
jwt partner {
  issuer "https://partner.example/"
  jwks "http://127.0.0.1:9/jwks.json" refresh 5m
  forward claim email as X-Email
}
route api { match path prefix "/api"; auth idp; timeout 2s; proxy web }
route limited { match path prefix "/limited"; auth idp; ratelimit by header X-User-Id 2 per 1m; timeout 2s; proxy web }
route partner_api { match path prefix "/partner"; auth partner; timeout 2s; proxy web }
route public { match path prefix "/"; timeout 2s; proxy web }
`)
})
after(() => closeAll(ua, gw, stub, idp))

/** GET through the gateway with headers as a flat [name, value, …] list (repeats and case kept). */
async function echo(path: string, headers: string[]) {
  const res = await request(gw.url + path, { headers, dispatcher: ua })
  const text = await res.body.text()
  assert.equal(res.statusCode, 200, text)
  return (name: string) => echoed(text, name)
}

const spoofs = ['X-User-Id', 'admin', 'x-tenant-id', 'other-tenant', 'X-ROLES', 'superuser', 'X-User-Id', 'root', 'x-EMAIL', 'ceo@shop.com']

test('a public route strips client-sent identity headers of every provider, in any case and repeated', async () => {
  const h = await echo('/echo', [...spoofs, 'X-Other', 'kept'])
  for (const name of IDENTITY) assert.deepEqual(h(name), [], `${name} must not reach the upstream from a client`)
  assert.deepEqual(h('x-other'), ['kept'], 'other headers pass')
})

test('an authenticated route forwards exactly the verified claims, whatever the client sent', async () => {
  const token = await idp.sign({ tid: 'acme', roles: ['reader', 'writer'] }, { subject: 'alice' })
  const h = await echo('/api/echo', [...spoofs, 'authorization', `Bearer ${token}`])
  assert.deepEqual(h('x-user-id'), ['alice'])
  assert.deepEqual(h('x-tenant-id'), ['acme'])
  assert.deepEqual(h('x-roles'), ['reader,writer'])
  assert.deepEqual(h('x-email'), [], 'another provider\'s identity header is stripped here too')
  assert.deepEqual(h('authorization'), [])
})

test('a claim the token lacks leaves its header absent: the client\'s copy never fills the gap', async () => {
  const token = await idp.sign({}, { subject: 'bob' })
  const h = await echo('/api/echo', ['X-Tenant-Id', 'victim-tenant', 'X-Roles', 'admin', 'authorization', `Bearer ${token}`])
  assert.deepEqual(h('x-user-id'), ['bob'])
  assert.deepEqual(h('x-tenant-id'), [])
  assert.deepEqual(h('x-roles'), [])
})

test('claim values are data: numbers are stringified, objects and control characters are not forwarded', async () => {
  const numeric = await idp.sign({ tid: 42 }, { subject: 'n' })
  assert.deepEqual((await echo('/api/echo', ['authorization', `Bearer ${numeric}`]))('x-tenant-id'), ['42'])
  const injected = await idp.sign({ tid: 'acme\r\nX-Admin: true', roles: { admin: true } }, { subject: 'eve' })
  const h = await echo('/api/echo', ['authorization', `Bearer ${injected}`])
  assert.deepEqual(h('x-tenant-id'), [], 'a claim holding CR LF is not forwarded')
  assert.deepEqual(h('x-admin'), [], 'and injects no header')
  assert.deepEqual(h('x-roles'), [], 'an object claim is not forwarded')
  assert.deepEqual(h('x-user-id'), ['eve'], 'the other claims still are')
})

test('a rate limit keyed on an identity header uses the verified value: spoofed values neither escape nor share it', async () => {
  const alice = await idp.sign({}, { subject: 'alice-rl' })
  const bob = await idp.sign({}, { subject: 'bob-rl' })
  const statuses: number[] = []
  for (let i = 0; i < 4; i++) {
    // a new X-User-Id per request would be a new bucket each time if the client's copy were the key
    const res = await request(gw.url + '/limited/echo', { headers: ['authorization', `Bearer ${alice}`, 'X-User-Id', `spoof-${i}`], dispatcher: ua })
    await res.body.dump()
    statuses.push(res.statusCode)
  }
  assert.deepEqual(statuses, [200, 200, 429, 429])
  // and claiming to be alice does not spend alice's budget: bob has his own
  const res = await request(gw.url + '/limited/echo', { headers: ['authorization', `Bearer ${bob}`, 'X-User-Id', 'alice-rl'], dispatcher: ua })
  await res.body.dump()
  assert.equal(res.statusCode, 200)
})
