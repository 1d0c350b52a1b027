// test/runtime/observability.test.ts: X-Request-Id (kept when sane, else generated; the same value on the
// response, to the upstream and in error bodies), W3C traceparent (same trace id, new span id; invalid →
// fresh trace), Server-Timing, and the RED metrics' exact values after known traffic.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { metric } from '../helpers/gateway.js'
import { echoed, metricsText, rawRequest, replicaAddrs, startRig, waitFor, type Echo, type Rig } from './fixtures.js'

let rig: Rig

before(async () => {
  rig = await startRig({ replicas: [{ name: 'web-1' }, { name: 'obs-1' }, { name: 'obs-2' }] }, s => `
upstream web { replicas ${replicaAddrs(s, 'web')} }
upstream obs { replicas ${replicaAddrs(s, 'obs')} }
route obs  { match path prefix "/obs"; timeout 3s; proxy obs }
route slow { match path prefix "/slowroute"; timeout 3s; proxy obs }
route t504 { match path prefix "/t504"; timeout 200ms; proxy obs }
route own  { match path "/own"; timeout 1s; respond 204 }
route all  { match host "shop.test" path prefix "/"; timeout 3s; proxy web }
`)
})
after(async () => { await rig.close() })

async function echo(headers: Record<string, string> = {}) {
  const res = await request(rig.gw.url + '/echo', { headers: { host: 'shop.test', ...headers }, dispatcher: rig.agent })
  const e = await res.body.json() as Echo
  return { e, res }
}

const SANE = /^[A-Za-z0-9._:@-]{1,128}$/
const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

test('a sane client X-Request-Id is kept: on the response and, once, to the upstream', async () => {
  for (const id of ['abc-123', 'f47ac10b-58cc-4372-a567-0e02b2c3d479', 'req:1@edge.example_01', 'x'.repeat(128)]) {
    const { e, res } = await echo({ 'x-request-id': id })
    assert.equal(res.headers['x-request-id'], id)
    assert.deepEqual(echoed(e, 'x-request-id'), [id])
  }
})

test('a missing or unsafe X-Request-Id is replaced by a generated one, the same both ways', async () => {
  const ids = new Set<string>()
  for (const bad of [undefined, '', 'x'.repeat(129), 'has space', 'a,b', 'quote"d', 'new\tline', 'émoji']) {
    const { e, res } = await echo(bad === undefined ? {} : { 'x-request-id': bad })
    const id = String(res.headers['x-request-id'])
    assert.notEqual(id, bad)
    assert.match(id, SANE)
    assert.deepEqual(echoed(e, 'x-request-id'), [id], `upstream and client see the same id (sent ${JSON.stringify(bad)})`)
    ids.add(id)
  }
  assert.equal(ids.size, 8, 'every generated id is new')
  // two X-Request-Id headers are joined by Node into a list, which is not a sane id
  const r = await rawRequest(rig.port, 'GET /echo HTTP/1.1\r\nHost: shop.test\r\nX-Request-Id: one\r\nX-Request-Id: two\r\nConnection: close\r\n\r\n')
  const e = JSON.parse(r.body) as Echo
  assert.deepEqual(echoed(e, 'x-request-id'), [r.headers['x-request-id']])
  assert.ok(!['one', 'two', 'one, two'].includes(r.headers['x-request-id']))
})

test('gateway-made answers carry the request id in the header and the JSON body', async () => {
  for (const [path, host, status] of [['/nope', 'other.test', 404], ['/t504/x?latency=3000', 'x', 504]] as const) {
    const res = await request(rig.gw.url + path, { headers: { host, 'x-request-id': 'client-id-1' }, dispatcher: rig.agent })
    assert.equal(res.statusCode, status)
    assert.equal(res.headers['x-request-id'], 'client-id-1')
    assert.equal((await res.body.json() as { request_id: string }).request_id, 'client-id-1')
  }
  const res = await request(rig.gw.url + '/own', { dispatcher: rig.agent })
  await res.body.dump()
  assert.match(String(res.headers['x-request-id']), SANE)
})

test('a valid traceparent keeps its trace id and flags, with a new span id per hop; tracestate follows', async () => {
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736'
  for (const flags of ['01', '00']) {
    const parent = '00f067aa0ba902b7'
    const { e } = await echo({ traceparent: `00-${trace}-${parent}-${flags}`, tracestate: 'vendor=opaque' })
    const [tp] = echoed(e, 'traceparent')
    const m = TP.exec(tp)
    assert.ok(m !== null, tp)
    assert.equal(m[1], trace)
    assert.notEqual(m[2], parent)
    assert.notEqual(m[2], '0'.repeat(16))
    assert.equal(m[3], flags)
    assert.deepEqual(echoed(e, 'tracestate'), ['vendor=opaque'])
  }
  // a future version's extra fields are allowed (W3C Trace Context §3.2.4): the ids are still used
  const { e } = await echo({ traceparent: `cc-${trace}-00f067aa0ba902b7-01-what-the-future-holds` })
  assert.equal(TP.exec(echoed(e, 'traceparent')[0])?.[1], trace)
})

test('an invalid traceparent starts a fresh trace, and its tracestate is dropped', async () => {
  const t = '4bf92f3577b34da6a3ce929d0e0e4736', p = '00f067aa0ba902b7'
  for (const bad of [
    'garbage', `00-${t}-${p}`, `00-${t.toUpperCase()}-${p}-01`, `ff-${t}-${p}-01`, `00-${'0'.repeat(32)}-${p}-01`,
    `00-${t}-${'0'.repeat(16)}-01`, `00-${t}-${p}-01-extra`, `00-${t}x-${p}-01`, `0-${t}-${p}-01`,
  ]) {
    const { e } = await echo({ traceparent: bad, tracestate: 'vendor=opaque' })
    const tps = echoed(e, 'traceparent')
    assert.equal(tps.length, 1, bad)
    const m = TP.exec(tps[0])
    assert.ok(m !== null, `${bad} → ${tps[0]}`)
    assert.notEqual(m[1], t.toLowerCase(), `${bad} must not be continued`)
    assert.notEqual(m[1], '0'.repeat(32))
    assert.deepEqual(echoed(e, 'tracestate'), [], `tracestate of an invalid parent (${bad}) is dropped`)
  }
})

test('without a traceparent every request starts its own trace', async () => {
  const traces = new Set<string>()
  for (let i = 0; i < 5; i++) traces.add(TP.exec(echoed((await echo()).e, 'traceparent')[0])![1])
  assert.equal(traces.size, 5)
})

test('Server-Timing reports the gateway\'s time and the upstream\'s', async () => {
  const res = await request(rig.gw.url + '/obs/t?latency=120', { dispatcher: rig.agent })
  await res.body.dump()
  const st = String(res.headers['server-timing'])
  const m = /^gw;dur=(\d+(?:\.\d+)?), upstream;dur=(\d+(?:\.\d+)?)$/.exec(st)
  assert.ok(m !== null, st)
  const gw = Number(m[1]), up = Number(m[2])
  assert.ok(up >= 100, `upstream ${up} ms for a 120 ms upstream`)
  assert.ok(gw >= up, `the gateway's time (${gw}) includes the upstream's (${up})`)
  // an answer the gateway makes itself has only its own time
  const own = await request(rig.gw.url + '/own', { dispatcher: rig.agent })
  await own.body.dump()
  assert.match(String(own.headers['server-timing']), /^gw;dur=\d+(\.\d+)?$/)
})

test('RED metrics have exact values after known traffic', async () => {
  const base = await metricsText(rig.gw)
  const v = (text: string, name: string, labels: Record<string, string>) => metric(text, name, labels) ?? 0
  const sends: [string, number][] = [['/obs/a', 200], ['/obs/a', 200], ['/obs/b', 200], ['/obs/c', 200], ['/obs/d', 200],
    ['/obs/a?status=404', 404], ['/obs/a?status=404', 404], ['/obs/a?status=410', 410], ['/obs/e?status=503', 503], ['/obs/e?status=500', 500]]
  for (const [p, want] of sends) {
    const res = await request(rig.gw.url + p, { dispatcher: rig.agent })
    await res.body.dump()
    assert.equal(res.statusCode, want, p)
  }
  for (let i = 0; i < 3; i++) { const res = await request(rig.gw.url + '/none', { headers: { host: 'nowhere.test' }, dispatcher: rig.agent }); await res.body.dump() }
  await waitFor(() => rig.gw.running.gateway.inFlight === 0, 2000, 'requests to finish')
  const text = await metricsText(rig.gw)
  const d = (name: string, labels: Record<string, string>) => v(text, name, labels) - v(base, name, labels)
  assert.equal(d('gw_requests_total', { route: 'obs', code: '2xx' }), 5)
  assert.equal(d('gw_requests_total', { route: 'obs', code: '4xx' }), 3)
  assert.equal(d('gw_requests_total', { route: 'obs', code: '5xx' }), 2)
  assert.equal(d('gw_request_duration_seconds_count', { route: 'obs' }), 10)
  assert.equal(d('gw_upstream_requests_total', { upstream: 'obs', outcome: '2xx' }), 5)
  assert.equal(d('gw_upstream_requests_total', { upstream: 'obs', outcome: '4xx' }), 3)
  assert.equal(d('gw_upstream_requests_total', { upstream: 'obs', outcome: '5xx' }), 2)
  assert.equal(d('gw_upstream_dispatched_total', { upstream: 'obs' }), 10)
  assert.equal(d('gw_upstream_request_duration_seconds_count', { upstream: 'obs' }), 10)
  assert.equal(d('gw_rejected_requests_total', { reason: 'no_route' }), 3)
  assert.equal(v(text, 'gw_in_flight_requests', {}), 0)
  assert.equal(v(text, 'gw_upstream_in_flight_requests', { upstream: 'obs' }), 0)
  const opened = v(text, 'gw_upstream_connections_opened_total', { upstream: 'obs' })
  assert.ok(opened >= 1 && opened <= 4, `${opened} connections for sequential traffic to 2 replicas`)
  assert.equal(opened, rig.stub.stats('obs').connectionsOpened, 'the gateway counts the connections the upstream saw')
})

test('the duration histogram puts a ~150 ms request in the right buckets', async () => {
  for (let i = 0; i < 2; i++) { const res = await request(rig.gw.url + '/slowroute/x?latency=150', { dispatcher: rig.agent }); await res.body.dump() }
  const text = await metricsText(rig.gw)
  assert.equal(metric(text, 'gw_request_duration_seconds_count', { route: 'slow' }), 2)
  assert.equal(metric(text, 'gw_request_duration_seconds_bucket', { route: 'slow', le: '0.1' }), 0)
  assert.equal(metric(text, 'gw_request_duration_seconds_bucket', { route: 'slow', le: '+Inf' }), 2)
  assert.ok(metric(text, 'gw_request_duration_seconds_sum', { route: 'slow' })! >= 0.28)
})

test('in-flight gauges count a request while it is served', async () => {
  const ac = new AbortController()
  const p = request(rig.gw.url + '/obs/h?latency=3000', { signal: ac.signal }).catch(() => undefined)
  try {
    await waitFor(() => rig.stub.stats('obs').inFlight === 1, 2000, 'the request to reach the upstream')
    const text = await metricsText(rig.gw)
    assert.equal(metric(text, 'gw_in_flight_requests'), 1)
    assert.equal(metric(text, 'gw_upstream_in_flight_requests', { upstream: 'obs' }), 1)
  } finally { ac.abort(); await p }
  await waitFor(() => rig.gw.running.gateway.inFlight === 0, 2000, 'the gauge to fall back')
})
