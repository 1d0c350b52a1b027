// test/policies/bulkhead.test.ts: the per-upstream cap on requests in flight: over the cap a request fails fast
// with 503 upstream_unavailable (or the route's fallback) and is counted, other upstreams keep serving, and
// slots come back after every kind of ending (success, route timeout, upstream error, client abort) so the
// cap never leaks shut.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { addrs, agent, closeAll, metricOf, send, sleep, tally, waitFor } from './fixtures.js'

let stub: Stub
let gw: TestGateway
const ua = agent(128)

before(async () => {
  stub = await startStub({
    seed: 3,
    replicas: [
      { name: 'slow-1', group: 'slow', rules: [{ path: '/', latency: 600 }] },
      { name: 'fast-1', group: 'fast' },
      { name: 'leaky-1', group: 'leaky', rules: [{ path: '/leaky/hang', mode: 'hang' }, { path: '/leaky/fail', error: { rate: 1, status: 500 } }, { path: '/', latency: 300 }] },
    ],
  })
  gw = await startGateway(`
upstream slow { replicas ${addrs(stub, 'slow')}; bulkhead max_in_flight 3 }
upstream fast { replicas ${addrs(stub, 'fast')}; bulkhead max_in_flight 100 }
upstream leaky { replicas ${addrs(stub, 'leaky')}; bulkhead max_in_flight 2; health passive eject_after 1000 }
route slow { match path prefix "/slow"; timeout 3s; proxy slow }
route slow_fallback { match path prefix "/fallback"; timeout 3s; proxy slow fallback respond 503 json "{\\"error\\":\\"busy\\"}" }
route fast { match path prefix "/fast"; timeout 3s; proxy fast }
route leaky { match path prefix "/leaky"; timeout 200ms; proxy leaky }
route leaky_long { match path prefix "/ok"; timeout 3s; proxy leaky }
`)
})
after(() => closeAll(ua, gw, stub))

const get = (path: string) => send(ua, gw.url + path)
const isFastFail = (a: { status: number; text: string }) => a.status === 503 && a.text.includes('"upstream_unavailable"')

test('over the cap: fail fast with 503 upstream_unavailable while other upstreams keep serving', async () => {
  const rejected0 = await metricOf(gw, 'gw_upstream_bulkhead_rejected_total', { upstream: 'slow' })
  const held = Array.from({ length: 3 }, () => get('/slow/x'))
  await waitFor(() => stub.stats('slow').inFlight === 3, 2000, 'three requests in flight upstream')
  const over = await get('/slow/x')
  assert.ok(isFastFail(over), `${over.status} ${over.text}`)
  assert.ok(over.ms < 300, `refused at once (${Math.round(over.ms)} ms), not queued behind the 600 ms requests`)
  const fb = await get('/fallback/x')
  assert.deepEqual([fb.status, JSON.parse(fb.text)], [503, { error: 'busy' }], 'the route\'s fallback answers instead when it has one')
  const other = await get('/fast/x')
  assert.equal(other.status, 200, 'another upstream is unaffected')
  assert.deepEqual((await Promise.all(held)).map(a => a.status), [200, 200, 200])
  assert.equal(await metricOf(gw, 'gw_upstream_bulkhead_rejected_total', { upstream: 'slow' }) - rejected0, 2)
  assert.equal((await get('/slow/x')).status, 200, 'slots are free again')
})

test('a burst of 20 admits exactly the cap; the rest never reach the upstream', async () => {
  stub.reset('slow')
  const answers = await Promise.all(Array.from({ length: 20 }, () => get('/slow/x')))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 3, 503: 17 })
  assert.ok(answers.filter(a => a.status === 503).every(a => isFastFail(a)))
  assert.equal(stub.stats('slow').requests, 3)
})

test('slots are released after timeouts, upstream errors and client aborts', async () => {
  // route timeout 200 ms against a hanging upstream, twice the cap over
  for (let i = 0; i < 4; i++) assert.equal((await get('/leaky/hang')).status, 504)
  // upstream errors
  for (let i = 0; i < 4; i++) assert.equal((await get('/leaky/fail')).status, 500)
  // clients that leave while their request is in flight
  const aborts = Array.from({ length: 4 }, (_, i) => {
    const ac = new AbortController()
    // stagger them so both slots are taken and some of the four are refused: each kind must give its slot back
    const p = sleep(i * 20).then(() => request(gw.url + '/ok/x', { dispatcher: ua, signal: ac.signal })).then(r => r.body.dump(), () => undefined)
    setTimeout(() => ac.abort(), 100 + i * 20)
    return p
  })
  await Promise.all(aborts)
  await waitFor(async () => await metricOf(gw, 'gw_upstream_in_flight_requests', { upstream: 'leaky' }) === 0, 3000, 'nothing left in flight to leaky')
  // the cap of 2 is whole again: two concurrent requests are both admitted
  const both = await Promise.all([get('/ok/x'), get('/ok/x')])
  assert.deepEqual(both.map(a => a.status), [200, 200])
  assert.ok(isFastFail((await Promise.all([get('/ok/x'), get('/ok/x'), get('/ok/x')])).find(a => a.status !== 200)!), 'and a third one still is not')
})
