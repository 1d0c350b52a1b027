// test/testkit/upstream-stats.test.ts: the stub's counters (requests per path, connections, in-flight, aborted,
// statuses, resets), reset(), and the /__stub/ control plane's view of them.
import assert from 'node:assert/strict'
import { after, before, beforeEach, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request } from 'undici'
import { startStub, type Stub, type StubStats } from '../../testkit/upstream/stub.js'

let stub: Stub
const agents: Agent[] = []
const newAgent = (): Agent => { const a = new Agent({ connections: 1, keepAliveTimeout: 5000 }); agents.push(a); return a }
before(async () => { stub = await startStub({ services: [{ name: 'a', ports: [0, 0] }] }) })
beforeEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close().catch(() => {}))) // some tests close theirs
  await until(() => stub.stats().connectionsOpen === 0 && stub.stats().inFlight === 0)
  stub.reset()
})
after(async () => {
  await Promise.all(agents.map((a) => a.close().catch(() => {})))
  await stub.close()
})

/** Counters move when the server sees an event, a moment after the client does: poll briefly. */
async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 200; i++) { if (cond()) return; await sleep(5) }
  assert.fail(`timed out waiting for ${what}: ${JSON.stringify(stub.stats())}`)
}
const hit = async (agent: Agent, url: string): Promise<number> => {
  const res = await request(url, { dispatcher: agent })
  await res.body.dump()
  return res.statusCode
}

test('requests are counted in total, per path and per status; connections are reused', async () => {
  const agent = newAgent()
  const url = stub.url('a-1')
  for (let i = 0; i < 5; i++) await hit(agent, url + '/v1/x?i=' + i)
  await hit(agent, url + '/status/503')
  await hit(agent, url + '/healthz')
  await until(() => stub.stats('a-1').statuses['200'] === 6)
  const s = stub.stats('a-1')
  assert.equal(s.requests, 7)
  assert.deepEqual(s.byPath, { '/v1/x': 5, '/status/503': 1, '/healthz': 1 })
  assert.deepEqual(s.statuses, { 200: 6, 503: 1 })
  assert.equal(s.connectionsOpened, 1, 'one keep-alive connection carried every request')
  assert.equal(s.connectionsOpen, 1)
  assert.equal(s.inFlight, 0)
  assert.equal(s.aborted, 0)
  assert.equal(stub.stats('a-2').requests, 0, 'replicas count separately')
  assert.equal(stub.stats().requests, 7, 'totals sum the replicas')
  assert.equal(stub.stats('a').replicas.length, 2, 'a group selects its replicas')
})

test('connections opened and open follow the server connection events', async () => {
  const [x, y] = [newAgent(), newAgent()]
  await hit(x, stub.url('a-1') + '/')
  await hit(y, stub.url('a-1') + '/')
  await hit(x, stub.url('a-2') + '/')
  await until(() => stub.stats().connectionsOpen === 3)
  assert.equal(stub.stats('a-1').connectionsOpened, 2)
  assert.equal(stub.stats('a-2').connectionsOpened, 1)
  await x.close()
  await until(() => stub.stats().connectionsOpen === 1, 'closed connections to be counted')
  assert.equal(stub.stats().connectionsOpened, 3, 'opened is cumulative')
})

test('in-flight counts requests being served; a client abort is counted as aborted', async () => {
  const agent = newAgent()
  const ac = new AbortController()
  const pending = request(stub.url('a-1') + '/hang', { dispatcher: agent, signal: ac.signal })
  await until(() => stub.stats('a-1').inFlight === 1, 'the hang to arrive')
  ac.abort()
  await assert.rejects(pending)
  await until(() => stub.stats('a-1').aborted === 1, 'the abort to reach the stub')
  assert.equal(stub.stats('a-1').inFlight, 0)
  assert.deepEqual(stub.stats('a-1').statuses, {}, 'nothing was sent')
})

test('aborts are counted during rule latency and mid-stream; completed responses are not', async () => {
  const url = stub.url('a-2')
  const slow = request(url + '/slow?latency=2000', { dispatcher: newAgent(), signal: AbortSignal.timeout(50) })
  await assert.rejects(slow)
  const sse = await request(url + '/sse?n=0&interval=10', { dispatcher: newAgent() })
  for await (const _ of sse.body) break // one event, then walk away
  const big = await request(url + '/bytes/50000000', { dispatcher: newAgent() })
  for await (const _ of big.body) break
  await hit(newAgent(), url + '/sse?n=2&interval=5')
  await until(() => stub.stats('a-2').aborted === 3 && stub.stats('a-2').inFlight === 0, 'three aborts')
  assert.deepEqual(stub.stats('a-2').statuses, { 200: 3 }, 'a stream whose head went out counts its status')
})

test('deliberate resets count as resets, not aborts', async () => {
  await assert.rejects(request(stub.url('a-1') + '/reset', { dispatcher: newAgent() }))
  await until(() => stub.stats('a-1').resets === 1)
  const s = stub.stats('a-1')
  assert.equal(s.aborted, 0)
  assert.equal(s.inFlight, 0)
  assert.equal(s.requests, 1)
})

test('reset() zeroes the counters but keeps gauges, health and rules', async () => {
  const agent = newAgent()
  stub.setRules('a-1', [{ path: '/', status: 277 }])
  stub.setHealthy('a-1', false)
  assert.equal(await hit(agent, stub.url('a-1') + '/'), 277)
  stub.reset('a-1')
  const s = stub.stats('a-1')
  assert.equal(s.requests, 0)
  assert.deepEqual(s.byPath, {})
  assert.deepEqual(s.statuses, {})
  assert.equal(s.connectionsOpened, 0)
  assert.equal(s.connectionsOpen, 1, 'the keep-alive connection is still open')
  assert.equal(s.replicas[0].healthy, false)
  assert.equal(await hit(agent, stub.url('a-1') + '/healthz'), 503)
  assert.equal(await hit(agent, stub.url('a-1') + '/'), 277)
  stub.setRules(undefined, [])
  stub.setHealthy(undefined, true)
})

test('the control plane serves stats, reset and health, and is not counted itself', async () => {
  const agent = newAgent()
  const url = stub.url('a-1')
  await hit(agent, url + '/one')
  await hit(newAgent(), stub.url('a-2') + '/two')
  const get = async (path: string, method = 'GET'): Promise<any> => {
    const res = await request(url + path, { dispatcher: agent, method })
    assert.equal(res.headers['x-stub-replica'], 'a-1')
    return { status: res.statusCode, body: await res.body.json() }
  }
  let r = await get('/__stub/stats')
  assert.equal(r.status, 200)
  assert.equal((r.body as StubStats).requests, 1, 'this replica by default')
  assert.deepEqual((r.body as StubStats).byPath, { '/one': 1 })
  r = await get('/__stub/stats?target=*')
  assert.equal((r.body as StubStats).requests, 2)
  assert.equal((r.body as StubStats).replicas.length, 2)
  r = await get('/__stub/health?ok=0&target=a', 'POST')
  assert.deepEqual(r.body.replicas, ['a-1', 'a-2'])
  assert.equal(stub.stats().replicas.every((x) => !x.healthy), true)
  await get('/__stub/health?ok=1&target=*', 'POST')
  r = await get('/__stub/reset?target=a-2', 'POST')
  assert.deepEqual(r.body, { ok: true, replicas: ['a-2'] })
  assert.equal(stub.stats('a-2').requests, 0)
  assert.equal(stub.stats('a-1').requests, 1)
  assert.equal((await get('/__stub/reset')).status, 405)
  assert.equal((await get('/__stub/nope')).status, 404)
  assert.equal((await get('/__stub/stats?target=zzz')).status, 404)
  assert.equal(stub.stats('a-1').requests, 1, 'control requests are not counted')
})
