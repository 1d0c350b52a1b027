// Issue 14 (mutation target, upstream area): an upstream as built from its IR (runtime/upstream/upstream.ts):
// its replicas in order with their addresses and health gauges, the balancer it was given (seen through
// pick), a breaker and a bulkhead only when configured (and breaker metrics only then), active checks only
// when configured and only once started, and close(): checks stopped, pools closed (in-flight requests
// finish) or destroyed (force).
import type { Pool } from 'undici'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { after, before, test } from 'node:test'
import type { UpstreamIR } from '../../config/ir.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { createUpstreams, Upstream } from '../../runtime/upstream/upstream.js'

let port = 0
const seen: string[] = []
const held: ServerResponse[] = []
const server = createServer((q: IncomingMessage, s: ServerResponse) => {
  seen.push(`${q.method} ${q.url}`)
  if (q.url === '/hold') { held.push(s); return }
  s.end('ok')
})
before(async () => { await new Promise<void>(r => server.listen(0, '127.0.0.1', r)); port = (server.address() as { port: number }).port })
after(() => { server.closeAllConnections(); server.close() })

function ir(o: Partial<UpstreamIR> = {}): UpstreamIR {
  return {
    name: 'web', replicas: [{ host: '127.0.0.1', port }, { host: '127.0.0.1', port: 9 }, { host: '::1', port: 9 }],
    balance: 'round_robin', health: { active: null, passive: { ejectAfter: 5, ejectMs: 1000 } },
    pool: { connections: 4, idleMs: 1000, connectTimeoutMs: 500, sendTimeoutMs: 1000 },
    bulkhead: null, breaker: null, source: { file: 't.gwp', line: 1, col: 1 }, ...o,
  }
}

test('replicas in order with their addresses, pool and health gauges labelled by upstream and host:port', async () => {
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const up = new Upstream(ir(), gm, { bodyIdleMs: 1000 })
  try {
    assert.equal(up.name, 'web')
    assert.deepEqual(up.replicas.map(r => [r.index, r.origin, r.connections]), [[0, `http://127.0.0.1:${port}`, 4], [1, 'http://127.0.0.1:9', 4], [2, 'http://[::1]:9', 4]])
    const text = await gm.registry.metrics()
    assert.match(text, new RegExp(`gw_upstream_replica_healthy\\{upstream="web",replica="127.0.0.1:${port}"\\} 1`))
    assert.match(text, /gw_upstream_replica_healthy\{upstream="web",replica="::1:9"\} 1/)
    assert.equal(up.breaker, null)
    assert.equal(up.bulkhead, null)
    assert.doesNotMatch(text, /gw_breaker_state\{upstream="web"\}/, 'no breaker, no breaker series')
  } finally { await up.close(true) }
})

test('pick: the configured balancer over the replicas, skipping those tried', async () => {
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const up = new Upstream(ir(), gm, { bodyIdleMs: 1000 })
  const lc = new Upstream(ir({ name: 'lc', balance: 'least_conn' }), gm, { bodyIdleMs: 1000 })
  try {
    assert.deepEqual([0, 1, 2, 3].map(() => up.pick(0, 0)?.index), [0, 1, 2, 0])
    assert.equal(up.pick(0b011, 0)?.index, 2)
    assert.equal(up.pick(0b111, 0), null)
    lc.replicas[0].inFlight = 3
    lc.replicas[2].inFlight = 1
    assert.equal(lc.pick(0, 0)?.index, 1, 'least_conn: the idle replica')
  } finally { await Promise.all([up.close(true), lc.close(true)]) }
})

test('a breaker and a bulkhead exist exactly when configured, the breaker with its metrics', async () => {
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const up = new Upstream(ir({ name: 'guarded', bulkhead: { maxInFlight: 2 }, breaker: { errorRatio: 0.5, minRequests: 10, windowMs: 10_000, openMs: 5000, halfOpenProbes: 2 } }), gm, { bodyIdleMs: 1000 })
  try {
    assert.ok(up.breaker !== null && up.breaker.allow())
    assert.ok(up.bulkhead !== null)
    assert.equal(up.bulkhead.max, 2)
    assert.ok(up.bulkhead.acquire() && up.bulkhead.acquire())
    assert.equal(up.bulkhead.acquire(), false)
    assert.match(await gm.registry.metrics(), /gw_breaker_state\{upstream="guarded"\} 0/)
  } finally { await up.close(true) }
})

test('active checks run only when configured and only after start(); close() stops them', async () => {
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const active = { path: '/hz', intervalMs: 40, timeoutMs: 300, unhealthyAfter: 1, healthyAfter: 1 }
  const ups = createUpstreams([ir({ name: 'checked', replicas: [{ host: '127.0.0.1', port }], health: { active, passive: null } }), ir({ name: 'plain', replicas: [{ host: '127.0.0.1', port }] })], gm, { bodyIdleMs: 1000 })
  assert.deepEqual([...ups.keys()], ['checked', 'plain'])
  const checked = ups.get('checked')!
  seen.length = 0
  await new Promise(r => setTimeout(r, 60))
  assert.deepEqual(seen, [], 'not before start()')
  ups.get('plain')!.start()
  await new Promise(r => setTimeout(r, 60))
  assert.deepEqual(seen, [], 'an upstream without health active checks nothing')
  checked.start()
  for (const t0 = Date.now(); seen.length < 2 && Date.now() - t0 < 3000;) await new Promise(r => setTimeout(r, 10))
  assert.ok(seen.length >= 2 && seen.every(s => s === 'GET /hz'), `checks repeat every interval: ${seen}`)
  await checked.close()
  const n = seen.length
  await new Promise(r => setTimeout(r, 120))
  assert.equal(seen.length, n, 'no check after close()')
  await ups.get('plain')!.close()
})

test('close() lets an in-flight request finish; close(true) cuts it', async () => {
  for (const force of [false, true]) {
    const gm = new GatewayMetrics({ defaultMetrics: false })
    const up = new Upstream(ir({ name: `c${force}`, replicas: [{ host: '127.0.0.1', port }] }), gm, { bodyIdleMs: 5000 })
    held.length = 0
    const res = (up.replicas[0].pool as unknown as Pool).request({ path: '/hold', method: 'GET' }).then(r => r.body.text()).then(t => `answered ${t}`, () => 'cut')
    while (held.length === 0) await new Promise(r => setTimeout(r, 5))
    const closing = up.close(force)
    setTimeout(() => held[0].end('late'), 50)
    assert.equal(await res, force ? 'cut' : 'answered late', `close(${force})`)
    await closing
  }
})
