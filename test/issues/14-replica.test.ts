// Issue 14 (mutation target, upstream area): one replica's health and load figures (runtime/upstream/replica.ts)
// on the caller's clock: passive ejection after exactly `eject_after` failures in a row and for exactly
// `eject` ms, a success resetting the streak, the cooldown putting it back with a clean count; active checks
// taking it out and back (and clearing a passive ejection); the health gauge that operators see; the latency
// EWMA that p2c_ewma reads (a slower answer counts at once, faster ones decay in with a 10 s constant); and
// the replica's origin (IPv6 in brackets) and pool, through a real request and the connection metrics.
import type { Pool } from 'undici'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, test } from 'node:test'
import type { PassiveHealthIR, PoolIR } from '../../config/ir.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { Replica } from '../../runtime/upstream/replica.js'

const POOL: PoolIR = { connections: 3, idleMs: 4000, connectTimeoutMs: 1000, sendTimeoutMs: 7000 }
const made: Replica[] = []
after(async () => { await Promise.all(made.map(r => r.pool.destroy())) })

function replica(passive: PassiveHealthIR | null, host = '127.0.0.1', port = 9, engine?: 'node' | 'http1') {
  const gm = new GatewayMetrics()
  const m = gm.upstream('u', false)
  const gauge = gm.replicaHealthy.child('u', `${host}:${port}`)
  const r = engine === undefined ? new Replica(4, { host, port }, POOL, 5000, m, passive, gauge) : new Replica(4, { host, port }, POOL, 5000, m, passive, gauge, engine)
  made.push(r)
  return { r, gauge, m }
}

test('a new replica is in rotation, its gauge 1, its origin and pool as configured (IPv6 in brackets)', () => {
  const { r, gauge } = replica({ ejectAfter: 2, ejectMs: 1000 })
  assert.equal(gauge.value, 1)
  assert.equal(r.available(0), true)
  assert.equal(r.origin, 'http://127.0.0.1:9')
  assert.equal(r.index, 4)
  assert.equal(r.connections, 3)
  assert.equal(r.sendTimeoutMs, 7000)
  assert.equal(replica(null, '::1', 8080).r.origin, 'http://[::1]:8080')
  assert.equal(replica(null, 'api.internal', 80).r.origin, 'http://api.internal:80')
})

test('passive: exactly eject_after failures in a row eject it for exactly eject ms; a success resets the streak', () => {
  const { r, gauge } = replica({ ejectAfter: 3, ejectMs: 1000 })
  r.record(false, 100)
  r.record(false, 110)
  r.record(true, 120) // resets
  r.record(false, 130)
  r.record(false, 140)
  assert.equal(r.available(150), true, 'two failures in a row: still in rotation')
  assert.equal(gauge.value, 1)
  r.record(false, 200) // the third in a row
  assert.equal(gauge.value, 0, 'ejected: the gauge says so')
  assert.equal(r.available(200), false)
  assert.equal(r.available(1199.9), false, 'still ejected just before eject ms have passed')
  r.record(false, 500) // more failures while ejected do not extend it
  assert.equal(r.available(1200), true, 'back exactly eject ms after the ejecting failure')
  assert.equal(gauge.value, 1)
  // back with a clean count: it takes eject_after new failures again
  r.record(false, 1300)
  r.record(false, 1310)
  assert.equal(r.available(1320), true)
  r.record(false, 1330)
  assert.equal(r.available(1330), false)
})

test('passive off (no passive health): failures never eject', () => {
  const { r, gauge } = replica(null)
  for (let i = 0; i < 100; i++) r.record(false, i)
  assert.equal(r.available(100), true)
  assert.equal(gauge.value, 1)
})

test('active checks take it out and bring it back; coming back clears a passive ejection and the streak', () => {
  const { r, gauge } = replica({ ejectAfter: 2, ejectMs: 60_000 })
  r.setActiveHealthy(false)
  assert.equal(r.available(0), false)
  assert.equal(gauge.value, 0)
  r.setActiveHealthy(true)
  assert.equal(r.available(0), true)
  assert.equal(gauge.value, 1)
  // passively ejected, then failing active checks, then passing them: back in rotation at once
  r.record(false, 10)
  r.record(false, 20)
  assert.equal(r.available(30), false)
  r.setActiveHealthy(false)
  assert.equal(gauge.value, 0)
  r.setActiveHealthy(true)
  assert.equal(gauge.value, 1)
  assert.equal(r.available(40), true, 'the active verdict ends the passive ejection')
  r.record(false, 50)
  assert.equal(r.available(60), true, 'the failure streak started again from zero')
  r.record(false, 70)
  assert.equal(r.available(80), false)
  r.setActiveHealthy(false)
  r.setActiveHealthy(false)
  assert.equal(gauge.value, 0)
})

test('an unhealthy active verdict during a passive ejection leaves the ejection in force', () => {
  const { r, gauge } = replica({ ejectAfter: 1, ejectMs: 60_000 })
  r.record(false, 0)
  assert.equal(gauge.value, 0)
  // an active "unhealthy" verdict while ejected: gauge 0; the ejection is still in force
  r.setActiveHealthy(false)
  assert.equal(gauge.value, 0)
  assert.equal(r.available(1), false)
})

test('latency EWMA: a slower answer is taken at once, faster ones decay in with a 10 s time constant', () => {
  const { r } = replica(null)
  assert.equal(r.ewma, 0)
  r.observeLatency(100, 1000)
  assert.equal(r.ewma, 100, 'peak: a slower answer replaces the average')
  r.observeLatency(20, 1000 + 10_000) // one time constant later: weight e^-1 on the old value
  const w = Math.exp(-1)
  assert.ok(Math.abs(r.ewma - (100 * w + 20 * (1 - w))) < 1e-9, `${r.ewma}`)
  const before = r.ewma
  r.observeLatency(20, 11_000) // no time passed: the weight is 1, nothing changes
  assert.ok(Math.abs(r.ewma - before) < 1e-9)
  r.observeLatency(20, 11_000 + 1_000_000) // long after: the new value
  assert.ok(Math.abs(r.ewma - 20) < 1e-6)
  r.observeLatency(20.5, 2_000_000)
  assert.equal(r.ewma, 20.5)
})

test('the pool connects to the origin and counts connections opened and closed', async () => {
  const server = createServer((_q, s) => s.end('ok'))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  try {
    const port = (server.address() as { port: number }).port
    const { r, m } = replica(null, '127.0.0.1', port)
    const res = await (r.pool as unknown as Pool).request({ path: '/', method: 'GET' }) // the node engine's pool is undici's
    assert.equal(await res.body.text(), 'ok')
    assert.equal(m.connectionsOpened.value, 1)
    await r.pool.close()
    assert.equal(m.connectionsClosed.value, 1)
  } finally { server.closeAllConnections(); server.close() }
})

test('the Host a request without one is sent with leaves out port 80 only; the engine picks the pool (undici by default, the http1 engine\'s own)', () => {
  assert.equal(replica(null, 'api.internal', 80).r.authority, 'api.internal')
  assert.equal(replica(null, 'api.internal', 8080).r.authority, 'api.internal:8080')
  assert.equal(replica(null, '::1', 80).r.authority, '[::1]')
  const byDefault = replica(null).r, node = replica(null, '127.0.0.1', 9, 'node').r, http1 = replica(null, '127.0.0.1', 9, 'http1').r
  for (const r of [byDefault, node]) {
    assert.equal(r.pool.constructor.name, 'Pool', 'undici')
    assert.equal(r.stringHeaders, false, 'pairs for undici')
  }
  assert.equal(http1.pool.constructor.name, 'Http1Pool')
  assert.equal(http1.stringHeaders, true, 'rendered lines for the http1 pool')
})
