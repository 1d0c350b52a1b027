// test/policies/ratelimit-local.test.ts: the in-memory limiter through a real gateway: 429 with Retry-After and
// the IETF RateLimit-Policy / RateLimit headers, exact under concurrency, refill at the configured rate, burst,
// keys by ip (X-Forwarded-For from an untrusted peer does not change it), header, user and claim, separate key
// spaces per route, counts surviving a reload, and rejections in metrics.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, bearer, closeAll, metricOf, send, sleep, startTogether, tally, type Answer } from './fixtures.js'

let idp: Idp
let stub: Stub
let gw: TestGateway
const ua = agent(64)

const policy = (extra = '') => `
upstream web { replicas ${addrs(stub)} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
}
route minute { match path prefix "/minute"; ratelimit by ip 5 per 1m; timeout 2s; proxy web }
route minute_twin { match path prefix "/twin"; ratelimit by ip 5 per 1m; timeout 2s; proxy web }
route single { match path prefix "/single"; ratelimit by ip 1 per 1m; timeout 2s; proxy web }
route second { match path prefix "/second"; ratelimit by ip 4 per 1s; timeout 2s; proxy web }
route bursty { match path prefix "/bursty"; ratelimit by ip 10 per 1m burst 5; timeout 2s; proxy web }
route concurrent { match path prefix "/concurrent"; ratelimit by ip 10 per 1m; timeout 2s; proxy web }
route keyed { match path prefix "/keyed"; ratelimit by header X-Api-Key 2 per 1m; timeout 2s; proxy web }
route users { match path prefix "/users"; auth idp; ratelimit by user 2 per 1m; timeout 2s; proxy web }
route tenants { match path prefix "/tenants"; auth idp; ratelimit by claim tid 3 per 1m; timeout 2s; proxy web }
route survives { match path prefix "/survives"; ratelimit by ip 2 per 1m; timeout 2s; proxy web }
${extra}
`

before(async () => {
  ;[idp, stub] = await startTogether(startIdp({ algorithms: ['ES256'] }), startStub({ name: 'web', count: 1 }))
  gw = await startGateway(policy())
})
after(() => closeAll(ua, gw, stub, idp))

const get = (path: string, headers: Record<string, string> = {}) => send(ua, gw.url + path, { headers })

/** The 429 contract: body, Retry-After in whole seconds, RateLimit-Policy and RateLimit agreeing with it. */
function assertLimited(r: Answer, policyName: string, quota: number, windowS: number): number {
  assert.equal(r.status, 429, r.text)
  assert.equal(JSON.parse(r.text).error, 'rate_limited')
  const retry = String(r.headers['retry-after'])
  assert.match(retry, /^[1-9]\d*$/, 'Retry-After is a positive whole number of seconds')
  assert.equal(r.headers['ratelimit-policy'], `"${policyName}";q=${quota};w=${windowS}`)
  assert.equal(r.headers['ratelimit'], `"${policyName}";r=0;t=${retry}`)
  assert.equal(r.headers['x-stub-replica'], undefined, 'a limited request is not proxied')
  return Number(retry)
}

test('over the limit: 429 rate_limited with Retry-After, RateLimit-Policy and RateLimit', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await get('/minute/status/200')).status, 200, `request ${i + 1} of 5`)
  const retry = assertLimited(await get('/minute/status/200'), 'ip', 5, 60)
  // 5 per minute refills one request every 12 s
  assert.ok(retry >= 1 && retry <= 12, `Retry-After ${retry}`)
  // one per minute: the next one is a minute away
  assert.equal((await get('/single/status/200')).status, 200)
  const wait = assertLimited(await get('/single/status/200'), 'ip', 1, 60)
  assert.ok(wait >= 55 && wait <= 60, `Retry-After ${wait} for 1 per 1m`)
})

test('each route has its own key space', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await get('/twin/status/200')).status, 200, 'the twin route is not charged for /minute')
  assert.equal((await get('/twin/status/200')).status, 429)
})

test('exact under concurrency: 50 simultaneous requests against 10 per minute admit exactly 10', async () => {
  const answers = await Promise.all(Array.from({ length: 50 }, () => get('/concurrent/status/200')))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 10, 429: 40 })
})

test('burst adds to the bucket and to the advertised quota', async () => {
  const answers: Answer[] = []
  for (let i = 0; i < 16; i++) answers.push(await get('/bursty/status/200'))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 15, 429: 1 })
  assertLimited(answers[15], 'ip', 15, 60)
})

test('the bucket refills at the configured rate', async () => {
  // 4 per 1s: a full bucket of 4, then one every 250 ms. Offered 20 req/s for 2 s (40 requests): about
  // 4 + 2 s × 4/s = 12 get through. Bounds are wide for a loaded machine; a limiter that never refilled
  // would admit 4, one that did not limit would admit 40.
  const t0 = performance.now()
  const statuses: number[] = []
  while (performance.now() - t0 < 2000) { statuses.push((await get('/second/status/200')).status); await sleep(50) }
  const ok = statuses.filter(s => s === 200).length
  assert.ok(ok >= 9 && ok <= 15, `admitted ${ok} of ${statuses.length}: ${JSON.stringify(tally(statuses))}`)
  assert.ok(statuses.includes(429))
})

test('by ip: X-Forwarded-For from an untrusted client does not change the key', async () => {
  const answers: Answer[] = []
  for (let i = 0; i < 4; i++) answers.push(await get('/survives/status/200', { 'x-forwarded-for': `203.0.113.${i + 1}` }))
  assert.deepEqual(answers.map(a => a.status), [200, 200, 429, 429])
})

test('by header: each value has its own bucket', async () => {
  const key = (k: string) => get('/keyed/status/200', { 'x-api-key': k })
  assert.deepEqual([(await key('a')).status, (await key('a')).status, (await key('a')).status], [200, 200, 429])
  assertLimited(await key('a'), 'header', 2, 60)
  assert.equal((await key('b')).status, 200, 'another key is not limited')
})

test('by user and by claim: verified identities have their own buckets', async () => {
  const alice = await idp.sign({ tid: 'acme' }, { subject: 'alice' })
  const bob = await idp.sign({ tid: 'acme' }, { subject: 'bob' })
  const carol = await idp.sign({ tid: 'globex' }, { subject: 'carol' })
  const u = (t: string) => get('/users/status/200', bearer(t)).then(a => a.status)
  assert.deepEqual([await u(alice), await u(alice), await u(alice)], [200, 200, 429])
  assertLimited(await get('/users/status/200', bearer(alice)), 'user', 2, 60)
  assert.equal(await u(bob), 200, 'bob is not charged for alice')
  // by claim tid: alice and bob share tenant acme's 3; carol's tenant is separate
  const c = (t: string) => get('/tenants/status/200', bearer(t)).then(a => a.status)
  assert.deepEqual([await c(alice), await c(bob), await c(alice), await c(bob)], [200, 200, 200, 429])
  assertLimited(await get('/tenants/status/200', bearer(bob)), 'claim', 3, 60)
  assert.equal(await c(carol), 200)
  // the limit runs after auth: no token is a 401, not a 429
  assert.equal((await get('/users/status/200')).status, 401)
})

test('limiter state survives a reload that keeps the route', async () => {
  assert.equal((await get('/survives/status/200')).status, 429, 'still limited from the X-Forwarded-For test')
  const r = await gw.reload(policy('route added { match path prefix "/added"; timeout 1s; respond 204 }'))
  assert.equal(r.changed, true)
  assert.equal((await get('/added')).status, 204, 'the new bundle is live')
  assert.equal((await get('/survives/status/200')).status, 429, 'a reload is not a way to reset the limits')
})

test('rejections are counted per route in gw_stage_rejects_total', async () => {
  const before = await metricOf(gw, 'gw_stage_rejects_total', { stage: 'ratelimit', route: 'single', code: '429' })
  for (let i = 0; i < 3; i++) assert.equal((await get('/single/status/200')).status, 429)
  assert.equal(await metricOf(gw, 'gw_stage_rejects_total', { stage: 'ratelimit', route: 'single', code: '429' }) - before, 3)
})
