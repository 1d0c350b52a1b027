// test/runtime/keepalive.test.ts: upstream connection reuse. Under steady load the upstream sees a handful
// of connections, not one per request; pools are sized by the policy and closed after their idle time; an
// upstream that closes connections (Connection: close, a short keep-alive) costs no failed requests; the
// gateway keeps client connections alive too.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Client, request } from 'undici'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { metricsText, replicaAddrs, startRig, waitFor, type Rig } from './fixtures.js'

let rig: Rig
let shortStub: Stub
let shortGw: TestGateway

before(async () => {
  rig = await startRig({ replicas: [{ name: 'steady-1' }, { name: 'steady-2' }, { name: 'small-1' }, { name: 'idle-1' }, { name: 'closer-1' }] }, s => `
upstream steady { replicas ${replicaAddrs(s, 'steady')} }
upstream small  { replicas ${replicaAddrs(s, 'small')}; pool connections 2 }
upstream idle   { replicas ${replicaAddrs(s, 'idle')}; pool idle 300ms }
route steady { match path prefix "/steady"; timeout 5s; proxy steady }
route small  { match path prefix "/small"; timeout 10s; proxy small }
route idle   { match path prefix "/idle"; timeout 5s; proxy idle }
upstream closer { replicas ${replicaAddrs(s, 'closer')} }
route hop    { match path "/hop"; timeout 5s; proxy closer }
`)
  // an upstream whose idle connections close after 200 ms, well before the gateway's pool would drop them
  shortStub = await startStub({ name: 'short', count: 1, keepAliveTimeoutMs: 200 })
  shortGw = await startGateway(`upstream short { replicas ${replicaAddrs(shortStub)}; pool idle 30s }
route all { match path prefix "/"; timeout 3s; proxy short }`)
})
after(async () => {
  await rig.close()
  await shortGw.close()
  await shortStub.close()
})

async function load(url: string, n: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++
      const res = await request(url, { dispatcher: rig.agent })
      await res.body.dump()
      statuses.push(res.statusCode)
    }
  }))
  return statuses
}

test('steady load reuses a handful of upstream connections, and once warm a wave opens none', async () => {
  rig.stub.reset('steady')
  const first = await load(rig.gw.url + '/steady/x', 300, 8)
  assert.ok(first.every(s => s === 200))
  const s1 = rig.stub.stats('steady')
  assert.equal(s1.requests, 300)
  assert.ok(s1.connectionsOpened <= 16, `${s1.connectionsOpened} upstream connections for 300 requests at concurrency 8`)
  assert.ok(s1.requests / s1.connectionsOpened >= 15, `reuse ratio ${s1.requests / s1.connectionsOpened}`)
  // The first wave ramps up as the client's own connections open one by one, so how many upstream connections
  // it needed depends on how quickly each opened (gw's http1 pool connects faster than undici's, and the first
  // wave then sees less overlap): a second wave starting all at once may add what the burst needs. A wave
  // after that is steady state and opens (almost) none.
  const second = await load(rig.gw.url + '/steady/y', 300, 8)
  assert.ok(second.every(s => s === 200))
  const s2 = rig.stub.stats('steady')
  assert.ok(s2.connectionsOpened <= 16, `${s2.connectionsOpened} upstream connections after 600 requests at concurrency 8`)
  const third = await load(rig.gw.url + '/steady/z', 300, 8)
  assert.ok(third.every(s => s === 200))
  const s3 = rig.stub.stats('steady')
  assert.ok(s3.connectionsOpened - s2.connectionsOpened <= 2, `${s3.connectionsOpened - s2.connectionsOpened} new connections in the third wave`)
  // the gateway's own count agrees with what the upstream saw
  const text = await metricsText(rig.gw)
  assert.equal(metric(text, 'gw_upstream_connections_opened_total', { upstream: 'steady' }), s3.connectionsOpened)
  assert.equal(metric(text, 'gw_upstream_dispatched_total', { upstream: 'steady' }), 900)
})

test('the pool size from the policy caps connections per replica', async () => {
  rig.stub.reset('small')
  let peak = 0
  const watch = setInterval(() => { peak = Math.max(peak, rig.stub.stats('small').inFlight) }, 5)
  try {
    const statuses = await load(rig.gw.url + '/small/x?latency=40', 24, 12)
    assert.ok(statuses.every(s => s === 200))
  } finally { clearInterval(watch) }
  const s = rig.stub.stats('small')
  assert.ok(s.connectionsOpened <= 2, `${s.connectionsOpened} connections with pool connections 2`)
  assert.ok(peak <= 2, `${peak} requests in flight at the upstream at once`)
})

test('idle pooled connections are closed after the pool idle time, and a new one opens on demand', async () => {
  rig.stub.reset('idle')
  const res = await request(rig.gw.url + '/idle/x', { dispatcher: rig.agent })
  await res.body.dump()
  assert.equal(rig.stub.stats('idle').connectionsOpen, 1)
  await waitFor(() => rig.stub.stats('idle').connectionsOpen === 0, 2000, 'the idle pooled connection to close (pool idle 300ms)')
  const again = await request(rig.gw.url + '/idle/x', { dispatcher: rig.agent })
  await again.body.dump()
  assert.equal(again.statusCode, 200)
  assert.equal(rig.stub.stats('idle').connectionsOpened, 2)
})

test('an upstream closing its connections (Connection: close) costs no failed requests', async () => {
  rig.stub.reset('closer')
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) {
    const res = await request(rig.gw.url + '/hop?close=1', { dispatcher: rig.agent })
    await res.body.dump()
    statuses.push(res.statusCode)
  }
  assert.ok(statuses.every(s => s === 200), statuses.join(','))
  // every answer closed its connection, so each request needed a new one
  assert.ok(rig.stub.stats('closer').connectionsOpened >= 15, `${rig.stub.stats('closer').connectionsOpened} connections`)
})

test('requests spaced past the upstream\'s keep-alive timeout never hit a dead pooled connection', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) {
    const res = await request(shortGw.url + '/echo')
    await res.body.dump()
    statuses.push(res.statusCode)
    await new Promise(r => setTimeout(r, 300))
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 200])
})

test('the gateway keeps client connections alive', async () => {
  let opened = 0
  const count = () => { opened++ }
  rig.gw.running.server.on('connection', count)
  const client = new Client(rig.gw.url)
  try {
    for (let i = 0; i < 50; i++) {
      const res = await client.request({ path: '/steady/x', method: 'GET' })
      await res.body.dump()
      assert.equal(res.statusCode, 200)
      assert.notEqual(res.headers.connection, 'close')
    }
  } finally {
    await client.close()
    rig.gw.running.server.off('connection', count)
  }
  assert.equal(opened, 1)
})
