// test/runtime/timeouts.test.ts: the per-route hard timeout (504, the upstream request aborted; 503
// upstream_pool_exhausted while queued for a pooled connection of a full pool), connect failures and resets (502), the upstream body idle timeout, and
// that no client waits past its route's timeout. Bounds are generous: the machine is shared and noisy.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { deadPort } from '../helpers/dead-address.js'
import { metricsText, replicaAddrs, startRig, waitFor, type Rig } from './fixtures.js'
import { metric } from '../helpers/gateway.js'

let rig: Rig

before(async () => {
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
upstream single { replicas ${replicaAddrs(s)}; pool connections 1 }
upstream dead { replicas 127.0.0.1:${deadPort()} }
upstream blackhole { replicas 192.0.2.1:80; pool connect_timeout 200ms }

route fast     { match path prefix "/"; timeout 300ms; proxy web }
route hold     { match path "/hang" header X-Hold; timeout 10s; proxy single }
route queued   { match path prefix "/q"; timeout 300ms; proxy single }
route dead     { match path prefix "/dead"; timeout 2s; proxy dead }
route black    { match path prefix "/blackhole"; timeout 1500ms; proxy blackhole }
route slowbody { match path "/chunked"; timeout 2s; proxy web }
`, { upstreamBodyIdleMs: '500ms' })
})
after(async () => { await rig.close() })

async function timed(path: string, headers: Record<string, string> = {}) {
  const t0 = performance.now()
  const res = await request(rig.gw.url + path, { headers, dispatcher: rig.agent })
  const text = await res.body.text()
  return { status: res.statusCode, text, ms: performance.now() - t0, headers: res.headers }
}

test('a slow upstream → 504 {"error":"upstream_timeout"} at the route timeout, and the upstream request is aborted', async () => {
  rig.stub.reset()
  const r = await timed('/delay/5000')
  assert.equal(r.status, 504)
  const body = JSON.parse(r.text)
  assert.equal(body.error, 'upstream_timeout')
  assert.equal(body.request_id, r.headers['x-request-id'])
  assert.ok(r.ms >= 250, `504 after ${Math.round(r.ms)} ms, before the 300 ms timeout`)
  assert.ok(r.ms < 2500, `504 after ${Math.round(r.ms)} ms: well before the upstream's 5 s`)
  await waitFor(() => rig.stub.stats().aborted >= 1, 3000, 'the upstream to see the request aborted')
  assert.equal(rig.stub.stats().inFlight, 0)
})

test('an upstream that never answers → 504 at the route timeout', async () => {
  rig.stub.reset()
  const r = await timed('/hang')
  assert.equal(r.status, 504)
  assert.ok(r.ms >= 250 && r.ms < 2500, `${Math.round(r.ms)} ms`)
  await waitFor(() => rig.stub.stats().aborted >= 1, 3000, 'the upstream to see the request aborted')
})

test('a request queued for a pooled connection is bounded by the route timeout too', async () => {
  // the only connection of `single` is held by a /hang on a route with a long timeout
  const ac = new AbortController()
  const held = request(rig.gw.url + '/hang', { headers: { 'x-hold': '1' }, signal: ac.signal }).catch(() => undefined)
  await waitFor(() => rig.stub.stats().inFlight >= 1, 3000, 'the held request to reach the upstream')
  try {
    const r = await timed('/q/echo')
    // every connection was busy: the pool's limit, answered as such and not charged to the replica
    assert.equal(r.status, 503)
    assert.equal(JSON.parse(r.text).error, 'upstream_pool_exhausted')
    assert.equal(r.headers['retry-after'], '1')
    assert.ok(r.ms >= 250 && r.ms < 2500, `${Math.round(r.ms)} ms`)
  } finally {
    ac.abort()
    await held
  }
  // once freed, the single connection serves again
  await waitFor(() => rig.stub.stats().inFlight === 0, 3000, 'the held request to end')
  const again = await timed('/q/x')
  assert.equal(again.status, 200)
})

test('connection refused → 502 {"error":"bad_gateway"}, fast', async () => {
  const r = await timed('/dead/x')
  assert.equal(r.status, 502)
  assert.equal(JSON.parse(r.text).error, 'bad_gateway')
  assert.ok(r.ms < 1500, `${Math.round(r.ms)} ms`)
})

test('a connection reset by the upstream → 502', async () => {
  rig.stub.reset()
  const r = await timed('/reset')
  assert.equal(r.status, 502)
  assert.equal(JSON.parse(r.text).error, 'bad_gateway')
  assert.equal(rig.stub.stats().resets, 1)
})

test('an unreachable replica fails within the connect timeout or the route timeout, never later', async () => {
  const r = await timed('/blackhole/x')
  assert.ok(r.status === 502 || r.status === 504, `status ${r.status}`)
  assert.ok(r.ms < 3000, `${Math.round(r.ms)} ms (connect_timeout 200ms, route timeout 1500ms)`)
})

test('an upstream that stalls mid-body is cut off after the body idle timeout, not left hanging', async () => {
  const t0 = performance.now()
  const res = await request(rig.gw.url + '/chunked?n=3&size=10&interval=4000', { dispatcher: rig.agent })
  assert.equal(res.statusCode, 200)
  let failed = false
  let bytes = 0
  try { for await (const c of res.body) bytes += (c as Buffer).length } catch { failed = true }
  const ms = performance.now() - t0
  assert.ok(failed || bytes < 30, 'the response is truncated, not completed')
  assert.ok(ms < 3500, `cut off after ${Math.round(ms)} ms (idle timeout 500ms; the upstream would take 8 s)`)
})

test('timeouts and bad gateways are counted by outcome', async () => {
  const text = await metricsText(rig.gw)
  assert.ok((metric(text, 'gw_upstream_requests_total', { upstream: 'web', outcome: 'timeout' }) ?? 0) >= 2)
  assert.ok((metric(text, 'gw_upstream_requests_total', { upstream: 'dead', outcome: 'connect_error' }) ?? 0) >= 1)
  assert.ok((metric(text, 'gw_upstream_requests_total', { upstream: 'web', outcome: 'reset' }) ?? 0) >= 1)
  assert.ok((metric(text, 'gw_requests_total', { route: 'fast', code: '5xx' }) ?? 0) >= 3)
})
