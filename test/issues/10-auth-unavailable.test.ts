// test/issues/10-auth-unavailable.test.ts: a valid token whose key cannot be fetched gets 503 auth_unavailable
// with Retry-After, never 401 (issue 10 item 3): the JWKS port closed at start, then answering 500, then
// slower than the fetch timeout; the same token gets 200 once the IdP recovers. 401 stays for what can be
// judged: a forged token with a known kid while keys are known, and an algorithm the provider does not allow
// (which never triggers a fetch).
import assert from 'node:assert/strict'
import { connect, createServer, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { badSignature, startIdp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { closeAll, sleep, waitFor } from '../policies/fixtures.js'
import { startJwtRig } from '../policies/jwt-rig.js'

let stub: Stub
const rigs: { close(): Promise<void> }[] = []
before(async () => { stub = await startStub({ name: 'web', count: 1 }) })
after(async () => { await closeAll(...rigs); await stub.close() })

/**
 * A TCP forwarder to `target` on a port that is closed until `open()`: the JWKS URL of the IdP as the gateway
 * sees it, so the IdP (and the keys that signed the test's token) can be "down with its port closed" and come back.
 */
async function gate(target: number): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer(c => {
    const u = connect(target, '127.0.0.1')
    for (const s of [c, u]) { sockets.add(s); s.on('error', () => undefined); s.once('close', () => sockets.delete(s)) }
    c.pipe(u).pipe(c)
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  await new Promise<void>(r => server.close(() => r()))
  return {
    port,
    open: () => new Promise<void>(r => server.listen(port, '127.0.0.1', r)),
    close: async () => { for (const s of sockets) s.destroy(); await new Promise<void>(r => server.close(() => r())) },
  }
}

const body = (t: string): string => (JSON.parse(t) as { error: string }).error

test('JWKS port closed, then 500, then slow: a valid token gets 503 auth_unavailable with Retry-After, never 401; then 200', async () => {
  const idp = await startIdp({ algorithms: ['ES256'] })
  const g = await gate(idp.port)
  const token = await idp.sign({}, { subject: 'alice' })
  // refresh 10s: failed fetches are retried every 1 s (a tenth of refresh, at least 1 s); unknown kids
  // refetch at most every 300 ms, so most requests fall between two attempts
  const jwksUrl = idp.jwksUrl.replace(`:${idp.port}/`, `:${g.port}/`)
  const r = await startJwtRig(stub, 'refresh 10s unknown_kid_cooldown 300ms timeout 300ms', { idp: { ...idp, jwksUrl, algorithms: idp.algorithms, issuer: idp.issuer } })
  rigs.push(r, g)
  const seen = new Map<string, number[]>()
  const probe = async (phase: string, ms: number) => {
    const t0 = performance.now()
    const statuses: number[] = []
    while (performance.now() - t0 < ms) {
      const a = await r.call(token)
      statuses.push(a.status)
      if (a.status === 503) {
        assert.equal(body(a.text), 'auth_unavailable', `${phase}: body ${a.text}`)
        assert.match(String(a.headers['retry-after']), /^[1-9]\d*$/, `${phase}: Retry-After`)
      }
      await sleep(40)
    }
    seen.set(phase, statuses)
    assert.ok(!statuses.includes(401), `${phase}: a valid token was told 401 (${statuses.join(' ')})`)
    assert.ok(statuses.every(s => s === 503), `${phase}: ${statuses.join(' ')}`)
  }
  await probe('port closed', 900)
  // the port opens; the IdP answers 503
  idp.setDown('error')
  await g.open()
  await probe('answering 5xx', 900)
  // slower than the 300 ms fetch timeout (the route timeout is 5 s, so the fetch failing is what answers)
  idp.setDown(false)
  idp.setDelay(1000)
  await probe('slow', 1200)
  idp.setDelay(0)
  await waitFor(async () => (await r.call(token)).status === 200, 4000, 'the same token to be accepted once the IdP recovered')
  assert.ok(seen.size === 3)
  // keys known and fetches succeeding: a token whose kid the IdP does not publish is judged (401), not 503
  const other = await startIdp({ algorithms: ['ES256'] })
  rigs.push(other)
  assert.equal((await r.call(await other.sign({}, { subject: 'mallory' }))).status, 401)
})

test('a forged token with a known kid gets 401 while keys are known, even while fetches fail', async () => {
  const r = await startJwtRig(stub, 'refresh 1s refresh_ahead 0s max_stale 1h timeout 200ms')
  rigs.push(r)
  const good = await r.token()
  assert.equal((await r.call(good)).status, 200)
  const forged = badSignature(await r.token())
  assert.equal((await r.call(forged)).status, 401)
  r.idp.setDown('error')
  await sleep(1500) // at least one background refresh fails
  const a = await r.call(badSignature(await r.token()))
  assert.equal(a.status, 401, 'the kid is cached and trusted: the bad signature is judged')
  assert.equal((await r.call(await r.token())).status, 200, 'a valid token still verifies with the cached keys')
})

test('an ES256 token on an RS256-only provider is refused 401 without a JWKS fetch, even with no keys cached', async () => {
  const es = await startIdp({ algorithms: ['ES256'] })
  const rs = await startIdp({ algorithms: ['RS256'] })
  rs.setDown('error')
  const r = await startJwtRig(stub, 'refresh 10s unknown_kid_cooldown 100ms timeout 200ms', { idp: rs })
  rigs.push(r, es)
  const before = rs.fetches
  for (let i = 0; i < 5; i++) {
    const a = await r.call(await es.sign({}, { subject: `es-${i}` }))
    assert.equal(a.status, 401, `attempt ${i}: ${a.status} ${a.text}`)
    await sleep(150)
  }
  assert.equal(rs.fetches, before, 'no JWKS fetch for a token whose algorithm the provider does not allow')
})
