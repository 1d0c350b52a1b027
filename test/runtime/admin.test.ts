// test/runtime/admin.test.ts: the admin listener: /healthz, /metrics (Prometheus text), /routes (the active
// table and bundle version, which follow a reload), POST /config/reload, and its separation from the client
// listener; a policy that fails to load never replaces the one serving.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { metric } from '../helpers/gateway.js'
import { metricsText, replicaAddrs, startRig, type Rig } from './fixtures.js'

let rig: Rig
let addrs: string

const policyV1 = (a: string) => `
upstream web { replicas ${a}; balance least_conn }
route api   { match host "api.test" path prefix "/v1" method GET POST; timeout 2s; proxy web }
route ping  { match path "/ping"; timeout 1s; respond 200 text "v1" }
`
const policyV2 = (a: string) => `
upstream web { replicas ${a}; balance least_conn }
route api   { match host "api.test" path prefix "/v1" method GET POST; timeout 2s; proxy web }
route ping  { match path "/ping"; timeout 1s; respond 200 text "v2" }
route extra { match path prefix "/extra"; timeout 1s; proxy web }
`

before(async () => {
  rig = await startRig({ name: 'web', count: 2 }, s => { addrs = replicaAddrs(s); return policyV1(addrs) })
})
after(async () => { await rig.close() })

async function admin(path: string, method = 'GET') {
  const res = await request(rig.gw.adminUrl + path, { method: method as 'GET' })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

test('/healthz answers ok with the bundle version', async () => {
  const r = await admin('/healthz')
  assert.equal(r.status, 200)
  const b = r.json()
  assert.equal(b.status, 'ok')
  assert.equal(b.version, rig.gw.running.gateway.active!.version)
  assert.equal(typeof b.inFlight, 'number')
})

test('/metrics is Prometheus text with the gateway\'s metrics, process metrics and the bundle version', async () => {
  await (await request(rig.gw.url + '/ping')).body.dump()
  const r = await admin('/metrics')
  assert.equal(r.status, 200)
  assert.match(String(r.headers['content-type']), /^text\/plain/)
  for (const name of ['gw_requests_total', 'gw_request_duration_seconds', 'gw_upstream_requests_total', 'gw_upstream_connections_opened_total', 'gw_in_flight_requests', 'gw_upstream_replica_healthy']) {
    assert.match(r.text, new RegExp(`^# TYPE ${name} `, 'm'), name)
  }
  assert.match(r.text, /^gw_process_/m)
  const version = rig.gw.running.gateway.active!.version
  assert.equal(metric(r.text, 'gw_bundle_info', { version }), 1)
  assert.equal(metric(r.text, 'gw_requests_total', { route: 'ping', code: '2xx' }), 1)
})

test('/routes shows the active table, upstreams and bundle version', async () => {
  const d = (await admin('/routes')).json()
  assert.equal(d.version, rig.gw.running.gateway.active!.version)
  assert.deepEqual(d.routes.map((r: { name: string }) => r.name), ['api', 'ping'])
  const api = d.routes[0]
  assert.deepEqual(api.match, { hosts: ['api.test'], path: { kind: 'prefix', value: '/v1' }, methods: ['GET', 'POST'], header: null })
  assert.equal(api.timeoutMs, 2000)
  assert.deepEqual(api.terminal.kind, 'proxy')
  assert.deepEqual(d.upstreams, [{ name: 'web', replicas: addrs.split(' '), balance: 'least_conn' }])
})

test('a reload swaps the table: /routes, /healthz and gw_bundle_info follow, the new route serves', async () => {
  const v1 = (await admin('/routes')).json().version
  const r = await rig.gw.reload(policyV2(addrs))
  assert.equal(r.changed, true)
  assert.notEqual(r.version, v1)
  const d = (await admin('/routes')).json()
  assert.equal(d.version, r.version)
  assert.deepEqual(d.routes.map((x: { name: string }) => x.name), ['api', 'ping', 'extra'])
  assert.equal((await admin('/healthz')).json().version, r.version)
  const text = await metricsText(rig.gw)
  assert.equal(metric(text, 'gw_bundle_info', { version: r.version }), 1)
  assert.equal(metric(text, 'gw_bundle_info', { version: v1 }), undefined, 'the old version is no longer reported')
  assert.equal(await (await request(rig.gw.url + '/ping')).body.text(), 'v2')
  const extra = await request(rig.gw.url + '/extra/x')
  await extra.body.dump()
  assert.equal(extra.statusCode, 200)
})

test('a policy that does not compile is rejected and the serving one stays', async () => {
  const before = (await admin('/routes')).json().version
  await assert.rejects(rig.gw.reload('route broken { match path "/x"; proxy nowhere }'))
  assert.equal((await admin('/routes')).json().version, before)
  assert.equal(await (await request(rig.gw.url + '/ping')).body.text(), 'v2')
  // the admin endpoint reports the failure too (it reloads the same, still broken, source)
  const r = await admin('/config/reload', 'POST')
  assert.equal(r.status, 422)
  assert.equal(r.json().applied, false)
  assert.equal(r.json().version, before)
  assert.ok((metric(await metricsText(rig.gw), 'gw_reloads_total', { result: 'refused' }) ?? 0) >= 2)
})

test('POST /config/reload applies the current source; an unchanged one reports changed: false', async () => {
  await rig.gw.reload(policyV2(addrs)).catch(() => undefined)
  const r = await admin('/config/reload', 'POST')
  assert.equal(r.status, 200)
  assert.equal(r.json().applied, true)
  assert.equal(r.json().changed, false)
  assert.equal((await admin('/config/reload')).status, 405)
})

test('unknown admin paths answer 404 with the list of endpoints; admin paths are not on the client port', async () => {
  const r = await admin('/nope')
  assert.equal(r.status, 404)
  assert.ok(Array.isArray(r.json().endpoints))
  for (const p of ['/metrics', '/healthz', '/routes']) {
    const res = await request(rig.gw.url + p, { headers: { host: 'api.test' } })
    assert.equal(res.statusCode, 404, p)
    assert.equal((await res.body.json() as { error: string }).error, 'no_route')
  }
})
