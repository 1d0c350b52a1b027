// test/policies/breaker.test.ts: the per-upstream circuit breaker through a real gateway and stub upstreams:
// it opens within 1 s of an upstream going bad under 200 req/s, then fails fast with 503 upstream_unavailable
// (or the route's fallback) without sending anything upstream; after open_for, half-open probes close it on
// success and reopen it on failure; it stays closed below min_requests and below the error ratio; other
// upstreams are unaffected; state and transitions are in /metrics.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, closeAll, metricOf, send, sleep, steady, tally, waitFor } from './fixtures.js'

let stub: Stub
let gw: TestGateway
const ua = agent(128)

const OPEN_FOR_MS = 2000
const BAD = [{ path: '/', error: { rate: 1, status: 500 } }]
const GOOD = [{ path: '/' }]

// Passive health would eject a failing replica on its own (and "no healthy replica" is also a 503): it is
// set out of reach here so that every fast 503 is the breaker's.
const upstream = (name: string, breaker: string) => `
upstream ${name} {
  replicas ${addrs(stub, name)}
  health passive eject_after 1000
  breaker ${breaker}
}`

before(async () => {
  stub = await startStub({ seed: 7, services: ['flaky', 'sparse', 'noisy', 'other'].map(name => ({ name, ports: [0] })) })
  gw = await startGateway(`
${upstream('flaky', `error_ratio 50% min_requests 20 window 10s open_for ${OPEN_FOR_MS}ms half_open 2`)}
${upstream('sparse', 'error_ratio 50% min_requests 20 window 10s open_for 2s')}
${upstream('noisy', 'error_ratio 50% min_requests 20 window 10s open_for 2s')}
${upstream('other', 'error_ratio 50% min_requests 20 window 10s open_for 2s')}
route flaky { match path prefix "/flaky"; timeout 2s; proxy flaky }
route flaky_fallback {
  match path prefix "/fallback"
  timeout 2s
  proxy flaky fallback respond 503 json "{\\"error\\":\\"try_later\\"}" header Retry-After "2"
}
route sparse { match path prefix "/sparse"; timeout 2s; proxy sparse }
route noisy { match path prefix "/noisy"; timeout 2s; proxy noisy }
route other { match path prefix "/other"; timeout 2s; proxy other }
`)
})
after(() => closeAll(ua, gw, stub))

const get = (path: string) => send(ua, gw.url + path)
const isFastFail = (a: { status: number; text: string }) => a.status === 503 && a.text.includes('"upstream_unavailable"')
const state = (up: string) => metricOf(gw, 'gw_breaker_state', { upstream: up })
const transitions = (up: string, to: string) => metricOf(gw, 'gw_breaker_transitions_total', { upstream: up, to })

test('opens within 1 s of the upstream going bad under 200 req/s, then fails fast without calling it', async () => {
  assert.equal(await state('flaky'), 0, 'closed at start')
  let badAt = -1
  // The breaker's 1 s buckets are aligned to when it was created: going bad at a random point of a second
  // samples every phase across runs, the worst one included.
  const goBadAt = 500 + Math.random() * 1000
  const answers: { at: number; done: number; fast: boolean; status: number }[] = []
  const t0 = performance.now()
  await steady(200, goBadAt + 1200, async () => {
    const at = performance.now() - t0
    const a = await get('/flaky/x')
    answers.push({ at, done: performance.now() - t0, fast: isFastFail(a), status: a.status })
    return a.status
  }, ms => { if (ms >= goBadAt && badAt < 0) { stub.setRules('flaky', BAD); badAt = performance.now() - t0 } })
  const firstFast = answers.filter(a => a.fast).sort((a, b) => a.done - b.done)[0]
  assert.ok(firstFast !== undefined, `the breaker never opened: ${JSON.stringify(tally(answers.map(a => a.status)))}`)
  // The breaker also judges the most recent 1 s bucket alone. At 200 req/s, the worst case is going bad
  // halfway through a bucket: the ~100 good requests already in it need ~100 bad ones (0.5 s) to reach 50%,
  // or the next bucket needs min_requests 20 (0.1 s) → about 0.6 s. Under 1 s leaves ~0.4 s for scheduling
  // noise on a loaded 2-core machine; a breaker judging only the 10 s window would take seconds here.
  const tookMs = firstFast.done - badAt
  assert.ok(tookMs < 1000, `first fast 503 came ${Math.round(tookMs)} ms after the upstream went bad (at ${Math.round(goBadAt)} ms into the run)`)
  const before = answers.filter(a => a.done < badAt)
  assert.ok(before.length > 50 && before.every(a => a.status === 200), 'nothing failed while the upstream was good')

  // open now: fail fast, nothing reaches the upstream, the fallback route answers its own way, other upstreams serve
  assert.equal(await state('flaky'), 2)
  const upstreamBefore = stub.stats('flaky').requests
  const open = await Promise.all(Array.from({ length: 20 }, () => get('/flaky/x')))
  assert.ok(open.every(isFastFail), JSON.stringify(tally(open.map(a => a.status))))
  assert.equal(JSON.parse(open[0].text).error, 'upstream_unavailable')
  const fb = await get('/fallback/x')
  assert.equal(fb.status, 503)
  assert.deepEqual(JSON.parse(fb.text), { error: 'try_later' })
  assert.equal(fb.headers['retry-after'], '2')
  assert.equal(stub.stats('flaky').requests, upstreamBefore, 'an open breaker sends nothing upstream')
  assert.equal((await get('/other/x')).status, 200, 'another upstream is unaffected')
  assert.ok(await metricOf(gw, 'gw_breaker_rejected_total', { upstream: 'flaky' }) >= 21)
  assert.equal(await transitions('flaky', 'open'), 1)
})

test('after open_for, successful half-open probes close it again', async () => {
  stub.setRules('flaky', GOOD)
  await waitFor(async () => (await get('/flaky/x')).status === 200, OPEN_FOR_MS + 2000, 'a probe to be let through')
  assert.equal((await get('/flaky/x')).status, 200)
  await waitFor(async () => await state('flaky') === 0, 1000, 'the breaker to close after 2 good probes')
  const burst = await Promise.all(Array.from({ length: 20 }, () => get('/flaky/x')))
  assert.ok(burst.every(a => a.status === 200), 'closed: everything flows again')
  assert.ok(await transitions('flaky', 'half_open') >= 1)
  assert.ok(await transitions('flaky', 'closed') >= 1)
})

test('a failed half-open probe reopens it at once', async () => {
  stub.setRules('flaky', BAD)
  await waitFor(async () => isFastFail(await get('/flaky/x')), 3000, 'the breaker to open')
  const opens = await transitions('flaky', 'open')
  await sleep(OPEN_FOR_MS + 100)
  const probe = await get('/flaky/x')
  assert.equal(probe.status, 500, 'the probe reached the failing upstream and its answer is passed on')
  assert.ok(isFastFail(await get('/flaky/x')), 'the failed probe reopened the breaker')
  assert.equal(await transitions('flaky', 'open'), opens + 1)
  assert.equal(await state('flaky'), 2)
  stub.setRules('flaky', GOOD)
})

test('below min_requests a failing upstream does not open the breaker', async () => {
  stub.setRules('sparse', BAD)
  const answers = []
  for (let i = 0; i < 15; i++) answers.push(await get('/sparse/x'))
  assert.deepEqual(tally(answers.map(a => a.status)), { 500: 15 }, 'all 15 failures reach the client from the upstream')
  assert.equal(await state('sparse'), 0)
  stub.setRules('sparse', GOOD)
})

test('an error ratio below the threshold does not open it', async () => {
  // 30% errors against a 50% threshold, 150 requests: well past min_requests (the stub's draws are seeded)
  stub.setRules('noisy', [{ path: '/', error: { rate: 0.3, status: 500 } }])
  const answers = await Promise.all(Array.from({ length: 150 }, () => get('/noisy/x')))
  const t = tally(answers.map(a => a.status))
  assert.ok((t['500'] ?? 0) > 20 && (t['500'] ?? 0) < 75, `about 30% errors: ${JSON.stringify(t)}`)
  assert.equal(answers.filter(isFastFail).length, 0)
  assert.equal(await state('noisy'), 0)
})
