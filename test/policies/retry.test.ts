// test/policies/retry.test.ts: retries through a real gateway over stub replicas: idempotent methods only (or
// with an Idempotency-Key when the route says so), always to a different replica, at most the route's count,
// within the route timeout (per_try moves on from a slow replica), never once the breaker is open, any method
// when the connection was refused, and bounded by the per-upstream retry budget, charged when a retry is
// scheduled, under an upstream that fails every request. Retries and budget denials are in /metrics.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startStub, type RuleSpec, type Stub } from '../../testkit/upstream/stub.js'
import { deadAddress } from '../helpers/dead-address.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, closeAll, metricOf, send, steady, tally } from './fixtures.js'

let stub: Stub
let gw: TestGateway
const ua = agent(128)

const FAIL: RuleSpec[] = [{ path: '/', error: { rate: 1, status: 503 } }]
const FAIL_SLOWLY: RuleSpec[] = [{ path: '/', latency: 100, error: { rate: 1, status: 503 } }]
const GROUPS: Record<string, (RuleSpec[] | undefined)[]> = {
  pair: [FAIL, undefined], // pair-1 always fails, pair-2 serves
  live: [[{ path: '/', mode: 'echo' }]],
  allbad: [FAIL, FAIL],
  burst: [[{ path: '/', latency: 50, error: { rate: 1, status: 503 } }], [{ path: '/', latency: 50, error: { rate: 1, status: 503 } }]],
  quad: [FAIL, FAIL, FAIL, FAIL],
  duo: [FAIL, FAIL],
  slow: [[{ path: '/', latency: 2000 }], undefined],
  hang: [[{ path: '/', mode: 'hang' }], [{ path: '/', mode: 'hang' }]],
  guarded: [FAIL_SLOWLY, FAIL_SLOWLY],
}


// Passive ejection is pushed out of reach so that which replica serves is the balancer's and the retry's doing.
const up = (name: string, extra = '', replicas = addrs(stub, name)) => `upstream ${name} { replicas ${replicas}; health passive eject_after 1000 ${extra} }`

before(async () => {
  stub = await startStub({
    seed: 1,
    replicas: Object.entries(GROUPS).flatMap(([group, rules]) => rules.map((r, i) => ({ name: `${group}-${i + 1}`, group, rules: r }))),
  })
  gw = await startGateway(`
${up('pair')}
${up('dead', '', `${deadAddress()} ${addrs(stub, 'live')}`)}
${up('allbad')}
${up('burst')}
${up('quad')}
${up('duo')}
${up('slow')}
${up('hang')}
${up('guarded', '; breaker error_ratio 50% min_requests 5 window 10s open_for 5s')}
route pair { match path prefix "/pair"; timeout 2s; retry 1 budget 1000%; proxy pair }
route keyed { match path prefix "/keyed"; timeout 2s; retry 1 idempotency_key budget 1000%; proxy pair }
route dead { match path prefix "/dead"; timeout 2s; retry 1 budget 1000%; proxy dead }
route budget { match path prefix "/budget"; timeout 2s; retry 1 budget 20%; proxy allbad }
route burst { match path prefix "/burst"; timeout 2s; retry 1 budget 20% backoff 100ms; proxy burst }
route count { match path prefix "/count"; timeout 2s; retry 2 no_budget; proxy quad }
route duo { match path prefix "/duo"; timeout 2s; retry 3 no_budget; proxy duo }
route slow { match path prefix "/slow"; timeout 1s; retry 1 per_try 300ms no_budget; proxy slow }
route hang { match path prefix "/hang"; timeout 500ms; retry 3 no_budget; proxy hang }
route guarded { match path prefix "/guarded"; timeout 2s; retry 1 no_budget; proxy guarded }
`)
})
after(() => closeAll(ua, gw, stub))

const call = (path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) => send(ua, gw.url + path, o)
const retries = (u: string) => metricOf(gw, 'gw_upstream_retries_total', { upstream: u })
const denied = (u: string) => metricOf(gw, 'gw_upstream_retry_budget_denied_total', { upstream: u })
const hits = (replica: string) => stub.stats(replica).requests

test('idempotent methods are retried on the other replica; POST is not', async () => {
  stub.reset('pair')
  const r0 = await retries('pair')
  const answers = []
  for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']) {
    for (let i = 0; i < 2; i++) answers.push({ method, a: await call('/pair/x', { method }) })
  }
  for (const { method, a } of answers) {
    assert.equal(a.status, 200, `${method}: ${a.text}`)
    assert.equal(a.headers['x-stub-replica'], 'pair-2', `${method}: answered by the healthy replica`)
  }
  // every attempt that met the failing pair-1 was retried, on pair-2, and each request ended there once
  assert.ok(hits('pair-1') >= 1, 'some first attempts met pair-1')
  assert.equal(await retries('pair') - r0, hits('pair-1'))
  assert.equal(hits('pair-2'), answers.length)

  stub.reset('pair')
  const posts = []
  for (let i = 0; i < 6; i++) posts.push(await call('/pair/x', { method: 'POST' }))
  assert.ok(hits('pair-1') >= 1)
  assert.deepEqual(tally(posts.map(a => a.status)), { 200: 6 - hits('pair-1'), 503: hits('pair-1') }, 'a POST that failed is answered as the upstream answered, not retried')
  assert.equal(hits('pair-1') + hits('pair-2'), 6, 'one attempt per POST')
})

test('with idempotency_key, a POST carrying an Idempotency-Key is retried; one without is not', async () => {
  stub.reset('pair')
  const keyed = []
  for (let i = 0; i < 4; i++) keyed.push(await call('/keyed/x', { method: 'POST', headers: { 'idempotency-key': `k-${i}` } }))
  assert.deepEqual(tally(keyed.map(a => a.status)), { 200: 4 })
  assert.equal(hits('pair-2'), 4)
  assert.ok(hits('pair-1') >= 1, 'some were retried')
  stub.reset('pair')
  const bare = []
  for (let i = 0; i < 4; i++) bare.push(await call('/keyed/x', { method: 'POST' }))
  assert.equal(bare.filter(a => a.status === 503).length, hits('pair-1'))
  assert.equal(hits('pair-1') + hits('pair-2'), 4)
})

test('a retryable request with a body is retried too (PUT, keyed POST)', async () => {
  for (const [path, method, headers] of [['/pair/x', 'PUT', {}], ['/keyed/x', 'POST', { 'idempotency-key': 'with-body' }]] as const) {
    stub.reset('pair')
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await call(path, { method, headers, body: '{"amount":100}' }))
    assert.deepEqual(tally(answers.map(a => a.status)), { 200: 4 }, `${method} ${path} with a body: every attempt that met pair-1 should be retried on pair-2`)
  }
})

test('round robin keeps spreading first attempts when retries happen', async () => {
  stub.reset('pair')
  for (let i = 0; i < 10; i++) assert.equal((await call('/pair/x')).status, 200)
  assert.ok(hits('pair-1') <= 6, `pair-1 (failing) got ${hits('pair-1')} of 10 first attempts; round robin over two replicas should give it about 5`)
})

test('a connection refused is retried whatever the method, and the body arrives whole', async () => {
  const body = 'x'.repeat(4096)
  const answers = []
  for (let i = 0; i < 4; i++) answers.push(await call('/dead/echo', { method: 'POST', body }))
  for (const a of answers) {
    assert.equal(a.status, 200, a.text)
    const e = JSON.parse(a.text) as { method: string; bodyBytes: number }
    assert.deepEqual([e.method, e.bodyBytes], ['POST', 4096])
  }
  assert.equal(hits('live-1'), 4)
  assert.ok(await metricOf(gw, 'gw_upstream_requests_total', { upstream: 'dead', outcome: 'connect_error' }) >= 1, 'first attempts met the dead replica')
})

test('at most the route\'s count of retries, each on a replica not yet tried', async () => {
  stub.reset('quad')
  for (let i = 0; i < 4; i++) assert.equal((await call('/count/x')).status, 503)
  // retry 2 over four failing replicas: exactly 3 attempts per request, never the same replica twice in one
  assert.equal(hits('quad'), 12)
  for (const r of stub.stats('quad').replicas) assert.equal(r.requests, 3, `${r.name}: round robin spreads the 12 attempts`)
  stub.reset('duo')
  for (let i = 0; i < 4; i++) assert.equal((await call('/duo/x')).status, 503)
  // retry 3 but only two replicas: a retry never goes back to a replica this request already tried
  assert.equal(hits('duo-1'), 4)
  assert.equal(hits('duo-2'), 4)
})

test('retries stay within the route timeout: per_try moves on from a slow replica; the timeout ends it all', async () => {
  // slow-1 takes 2 s, slow-2 answers at once: per_try 300 ms gives up on slow-1 and retries on slow-2
  for (let i = 0; i < 2; i++) {
    const a = await call('/slow/x')
    assert.equal(a.status, 200)
    assert.equal(a.headers['x-stub-replica'], 'slow-2')
    assert.ok(a.ms < 900, `answered in ${Math.round(a.ms)} ms (per_try 300 ms, route timeout 1 s)`)
  }
  // both replicas hang, retry 3, timeout 500 ms: one 504 at the deadline, not 4 × anything
  const before = hits('hang')
  const h = await call('/hang/x')
  assert.equal(h.status, 504)
  assert.equal(JSON.parse(h.text).error, 'upstream_timeout')
  assert.ok(h.ms >= 450 && h.ms < 1200, `504 after ${Math.round(h.ms)} ms against a 500 ms route timeout`)
  assert.ok(hits('hang') - before <= 1, 'the attempt that used the whole route timeout is not retried')
})

test('no retry once the breaker is open', async () => {
  // 20 concurrent requests fail after 100 ms on both replicas; the breaker opens at the 5th failure, so
  // only the first four failures (recorded while it was closed) may be retried. Without the breaker check
  // every one of the 20 would be.
  const r0 = await retries('guarded')
  const answers = await Promise.all(Array.from({ length: 20 }, () => call('/guarded/x')))
  assert.deepEqual(tally(answers.map(a => a.status)), { 503: 20 })
  const sent = await retries('guarded') - r0
  assert.ok(sent <= 4, `${sent} retries were sent to an upstream whose breaker had opened`)
  // ≤: on a loaded machine a first attempt may fail at the transport level before reaching the stub
  assert.ok(hits('guarded') <= 20 + sent, `upstream saw ${hits('guarded')} attempts for 20 requests and ${sent} retries`)
  assert.equal(await metricOf(gw, 'gw_breaker_state', { upstream: 'guarded' }), 2)
})

test('retry budget holds under an upstream that fails every request (100 req/s for 2 s)', async () => {
  stub.reset('allbad')
  const [r0, d0] = [await retries('allbad'), await denied('allbad')]
  const shots = await steady(100, 2000, async () => (await call('/budget/x')).status)
  assert.deepEqual(tally(shots.map(s => s.status)), { 503: shots.length })
  const n = shots.length
  const sent = await retries('allbad') - r0
  const refused = await denied('allbad') - d0
  // budget 20% of the requests in the last 10 s, with a floor of 3: at most 0.2 n + 3 retries
  assert.ok(sent <= 0.2 * n + 3, `${sent} retries for ${n} requests exceeds the 20% budget`)
  assert.ok(sent >= 0.1 * n, `the budget allows retries (${sent} for ${n} requests)`)
  assert.equal(sent + refused, n, 'every failed request was either retried or denied by the budget')
  assert.ok(hits('allbad') <= n + sent, `upstream load ${hits('allbad')} ≤ requests + retries: amplification ≤ 1.2`)
})

test('a retry is charged when scheduled: a burst of concurrent failures with backoff cannot overdraw', async () => {
  // 50 requests at once all fail after ~50 ms; with 100 ms backoff none of their retries is sent before all
  // are decided. Budget 20% of 50 = 10: a budget charged only when a retry is sent would admit all 50.
  stub.reset('burst')
  const [r0, d0] = [await retries('burst'), await denied('burst')]
  const answers = await Promise.all(Array.from({ length: 50 }, () => call('/burst/x')))
  assert.deepEqual(tally(answers.map(a => a.status)), { 503: 50 })
  const sent = await retries('burst') - r0
  assert.ok(sent <= 10, `${sent} retries scheduled for a burst of 50 with a 20% budget`)
  assert.equal(await denied('burst') - d0, 50 - sent)
  assert.ok(hits('burst') <= 50 + sent)
})
