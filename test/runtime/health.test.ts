// test/runtime/health.test.ts: active health checks (GET path on an interval, thresholds) and passive
// ejection (consecutive failures, cooldown) take replicas out of rotation and bring them back on recovery;
// with every replica out, clients get 503 {"error":"upstream_unavailable"} at once.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import type { Stub } from '../../testkit/upstream/stub.js'
import { metric } from '../helpers/gateway.js'
import { deadAddress } from '../helpers/dead-address.js'
import { metricsText, replicaAddrs, startRig, tally, waitFor, type Rig } from './fixtures.js'

let rig: Rig

before(async () => {
  const policy = (s: Stub) => `
upstream act {
  replicas ${replicaAddrs(s, 'act')}
  health active path "/healthz" every 150ms timeout 100ms unhealthy_after 2 healthy_after 2
}
upstream pas {
  replicas ${replicaAddrs(s, 'pas')}
  health passive eject_after 3 errors for 1s
}
upstream gone {
  replicas ${deadAddress()}
  health passive eject_after 1 errors for 30s
}
route act  { match path prefix "/act"; timeout 2s; proxy act }
route pas  { match path prefix "/pas"; timeout 2s; proxy pas }
route gone { match path prefix "/gone"; timeout 2s; proxy gone }
`
  rig = await startRig({ replicas: [{ name: 'act-1' }, { name: 'act-2' }, { name: 'act-3' }, { name: 'pas-1' }, { name: 'pas-2' }] }, policy)
})
after(async () => { await rig.close() })

async function hit(path: string) {
  const res = await request(rig.gw.url + path, { dispatcher: rig.agent })
  const text = await res.body.text()
  return { status: res.statusCode, replica: String(res.headers['x-stub-replica'] ?? ''), text, headers: res.headers }
}

async function replicasFor(path: string, n: number): Promise<Record<string, number>> {
  const seen: string[] = []
  for (let i = 0; i < n; i++) { const r = await hit(path); assert.equal(r.status, 200, r.text); seen.push(r.replica) }
  return tally(seen)
}

const addr = (name: string) => { const r = rig.stub.replicas.find(x => x.name === name)!; return `${r.host}:${r.port}` }
const healthGauge = async (upstream: string, name: string) =>
  metric(await metricsText(rig.gw), 'gw_upstream_replica_healthy', { upstream, replica: addr(name) })

async function gaugeBecomes(upstream: string, name: string, v: number): Promise<void> {
  let last: number | undefined
  await waitFor(async () => (last = await healthGauge(upstream, name)) === v, 5000, `${name} health gauge to become ${v} (is ${last})`)
}

test('active checks GET the configured path on their own, on an interval', async () => {
  // 3 replicas, every 150 ms: 6 checks take about 300 ms (plus the checks' own time). Timed until they
  // arrived rather than counted in a fixed 500 ms, which a loaded machine (load 20) fell short of; 5× the
  // nominal time is allowed, while an interval of a second or more still fails.
  const checks = () => rig.stub.stats('act').byPath['/healthz'] ?? 0
  const before = checks()
  const t0 = performance.now()
  await waitFor(() => checks() - before >= 6, 5000, 'six active checks')
  const ms = performance.now() - t0
  assert.ok(ms < 1500, `6 checks took ${Math.round(ms)} ms`)
})

test('active: a replica failing its checks leaves rotation, and rejoins once they pass again', async () => {
  assert.equal(Object.keys(await replicasFor('/act/x', 9)).length, 3)
  rig.stub.setHealthy('act-2', false)
  try {
    await gaugeBecomes('act', 'act-2', 0)
    const t = await replicasFor('/act/x', 30)
    assert.equal(t['act-2'], undefined, `act-2 is out of rotation: ${JSON.stringify(t)}`)
    assert.deepEqual(Object.keys(t).sort(), ['act-1', 'act-3'])
  } finally {
    rig.stub.setHealthy('act-2', true)
  }
  await gaugeBecomes('act', 'act-2', 1)
  const t = await replicasFor('/act/x', 30)
  assert.ok((t['act-2'] ?? 0) >= 5, `act-2 is back: ${JSON.stringify(t)}`)
})

test('active: with every replica failing its checks → 503 {"error":"upstream_unavailable"}, then recovery', async () => {
  rig.stub.setHealthy('act', false)
  try {
    for (const n of ['act-1', 'act-2', 'act-3']) await gaugeBecomes('act', n, 0)
    const t0 = performance.now()
    const r = await hit('/act/x')
    assert.equal(r.status, 503)
    const body = JSON.parse(r.text)
    assert.equal(body.error, 'upstream_unavailable')
    assert.equal(body.request_id, r.headers['x-request-id'])
    assert.ok(performance.now() - t0 < 1000, 'answered at once, not after a timeout')
  } finally {
    rig.stub.setHealthy('act', true)
  }
  for (const n of ['act-1', 'act-2', 'act-3']) await gaugeBecomes('act', n, 1)
  assert.equal((await hit('/act/x')).status, 200)
})

test('passive: consecutive failures eject a replica for the cooldown, then it rejoins', async () => {
  rig.stub.setRules('pas-2', [{ path: '/', error: { rate: 1, status: 500 } }])
  let errors = 0
  try {
    // round robin: every other request meets pas-2 until its third failure ejects it
    for (let i = 0; i < 12; i++) if ((await hit('/pas/x')).status === 500) errors++
    assert.equal(errors, 3, 'ejected after exactly eject_after failures')
    assert.equal(await healthGauge('pas', 'pas-2'), 0)
    const t = await replicasFor('/pas/x', 20)
    assert.deepEqual(t, { 'pas-1': 20 })
  } finally {
    rig.stub.setRules('pas-2', [])
  }
  // the cooldown (1 s) passes: pas-2 is tried again and, healthy now, stays
  await new Promise(r => setTimeout(r, 1200))
  const t = await replicasFor('/pas/x', 20)
  assert.ok((t['pas-2'] ?? 0) >= 8, `pas-2 rejoined: ${JSON.stringify(t)}`)
  assert.equal(await healthGauge('pas', 'pas-2'), 1)
})

test('passive: a replica that keeps failing after its cooldown is ejected again', async () => {
  rig.stub.setRules('pas-2', [{ path: '/', error: { rate: 1, status: 503 } }])
  try {
    let errors = 0
    for (let i = 0; i < 12; i++) if ((await hit('/pas/x')).status === 503) errors++
    assert.equal(errors, 3)
    await new Promise(r => setTimeout(r, 1200))
    errors = 0
    for (let i = 0; i < 12; i++) if ((await hit('/pas/x')).status === 503) errors++
    assert.ok(errors >= 1 && errors <= 3, `${errors} failures after the cooldown before the second ejection`)
    assert.deepEqual(await replicasFor('/pas/x', 10), { 'pas-1': 10 })
  } finally {
    rig.stub.setRules('pas-2', [])
  }
})

test('passive: the only replica ejected → 503 upstream_unavailable without touching it', async () => {
  const first = await hit('/gone/x')
  assert.equal(first.status, 502)
  assert.equal(JSON.parse(first.text).error, 'bad_gateway')
  for (let i = 0; i < 3; i++) {
    const r = await hit('/gone/x')
    assert.equal(r.status, 503)
    assert.equal(JSON.parse(r.text).error, 'upstream_unavailable')
  }
  const text = await metricsText(rig.gw)
  assert.equal(metric(text, 'gw_upstream_requests_total', { upstream: 'gone', outcome: 'connect_error' }), 1, 'only the first request was sent')
})
