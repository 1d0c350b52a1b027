// Issue 14 (mutation target, upstream area): active health checks (runtime/upstream/health.ts) against real
// HTTP replicas, one round at a time (`checkAll`): what a check sends, which answers count as healthy (2xx and
// 3xx; 4xx, 5xx, refused, too slow do not), that exactly `unhealthy_after` failures in a row take a replica out
// and exactly `healthy_after` successes bring it back (a success or failure in between restarts the count),
// that each replica is judged on its own, and that the periodic rounds run every interval until stop().
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import type { ActiveHealthIR } from '../../config/ir.js'
import { ActiveHealth } from '../../runtime/upstream/health.js'
import type { Replica } from '../../runtime/upstream/replica.js'

interface Stub { server: Server; origin: string; status: number; stall: boolean; seen: IncomingMessage[] }
let a: Stub, b: Stub

async function stub(): Promise<Stub> {
  const s: Stub = { server: null as unknown as Server, origin: '', status: 200, stall: false, seen: [] }
  s.server = createServer((q, res) => { s.seen.push(q); if (!s.stall) { res.statusCode = s.status; res.end('x') } })
  await new Promise<void>(resolve => s.server.listen(0, '127.0.0.1', resolve))
  s.origin = `http://127.0.0.1:${(s.server.address() as { port: number }).port}`
  return s
}
before(async () => { [a, b] = await Promise.all([stub(), stub()]) })
after(() => { for (const s of [a, b]) { s.server.closeAllConnections(); s.server.close() } })

/** A replica as the checker sees it: its origin and its active verdict. */
function rep(origin: string) {
  const r = { origin, activeHealthy: true, verdicts: [] as boolean[], setActiveHealthy(ok: boolean) { r.activeHealthy = ok; r.verdicts.push(ok) } }
  return r
}
const cfg = (o: Partial<ActiveHealthIR> = {}): ActiveHealthIR => ({ path: '/healthz', intervalMs: 50, timeoutMs: 500, unhealthyAfter: 3, healthyAfter: 2, ...o })

test('a check is GET path with the health-check user agent; 2xx and 3xx are healthy, 4xx and 5xx are not', async () => {
  for (const [status, healthy] of [[200, true], [204, true], [301, true], [399, true], [400, false], [404, false], [500, false], [503, false]] as const) {
    a.status = status
    a.seen.length = 0
    const r = rep(a.origin)
    const changes: [string, boolean][] = []
    const h = new ActiveHealth([r as unknown as Replica], cfg({ unhealthyAfter: 1, healthyAfter: 1 }), (x, ok) => changes.push([(x as unknown as { origin: string }).origin, ok]))
    await h.checkAll()
    await h.stop()
    assert.equal(r.activeHealthy, healthy, `${status}`)
    assert.deepEqual(changes, healthy ? [] : [[a.origin, false]], `${status}: onChange only on a change`)
    assert.equal(a.seen.length, 1)
    assert.equal(a.seen[0].method, 'GET')
    assert.equal(a.seen[0].url, '/healthz')
    assert.equal(a.seen[0].headers['user-agent'], 'gwp-health-check')
  }
  a.status = 200
})

test('exactly unhealthy_after failures in a row take it out, exactly healthy_after successes bring it back; a break restarts the count', async () => {
  const r = rep(a.origin)
  const changes: boolean[] = []
  const h = new ActiveHealth([r as unknown as Replica], cfg({ unhealthyAfter: 3, healthyAfter: 2 }), (_x, ok) => changes.push(ok))
  try {
    const round = async (status: number) => { a.status = status; await h.checkAll(); return r.activeHealthy }
    assert.deepEqual([await round(500), await round(500), await round(200), await round(500), await round(500)], [true, true, true, true, true], 'never three failures in a row')
    assert.equal(await round(500), false, 'the third in a row')
    assert.equal(await round(500), false)
    assert.deepEqual(r.verdicts, [false], 'taken out once')
    assert.deepEqual([await round(200), await round(500), await round(200)], [false, false, false], 'a failure restarts the success count')
    assert.equal(await round(200), true, 'the second success in a row')
    assert.equal(await round(200), true)
    assert.deepEqual(r.verdicts, [false, true])
    assert.deepEqual(changes, [false, true])
  } finally { await h.stop(); a.status = 200 }
})

test('each replica is judged on its own; refused and too slow count as failures', async () => {
  const dead = await stub()
  const deadOrigin = dead.origin
  await new Promise<void>(resolve => dead.server.close(() => resolve()))
  b.stall = true
  const ra = rep(a.origin), rb = rep(b.origin), rd = rep(deadOrigin)
  const h = new ActiveHealth([ra, rb, rd] as unknown as Replica[], cfg({ unhealthyAfter: 1, healthyAfter: 1, timeoutMs: 150 }))
  try {
    const t0 = performance.now()
    await h.checkAll()
    const ms = performance.now() - t0
    assert.deepEqual([ra.activeHealthy, rb.activeHealthy, rd.activeHealthy], [true, false, false])
    assert.ok(ms >= 100, `the stalled check gave up after ${Math.round(ms)} ms (timeout 150 ms)`)
    b.stall = false
    await h.checkAll()
    assert.deepEqual([ra.activeHealthy, rb.activeHealthy, rd.activeHealthy], [true, true, false])
  } finally { b.stall = false; await h.stop(); b.server.closeAllConnections() }
})

test('start() checks at once, then again every interval; after stop() no more checks', async () => {
  const waitFor = async (cond: () => boolean, what: string) => {
    for (const t0 = Date.now(); !cond(); await new Promise(res => setTimeout(res, 5))) if (Date.now() - t0 > 3000) assert.fail(what)
  }
  // a long interval: the first round cannot be waiting for it
  a.seen.length = 0
  const slow = new ActiveHealth([rep(a.origin) as unknown as Replica], cfg({ intervalMs: 60_000 }))
  slow.start()
  await waitFor(() => a.seen.length >= 1, 'the first round runs at once')
  await slow.stop()
  // a short one: rounds repeat
  a.seen.length = 0
  const h = new ActiveHealth([rep(a.origin) as unknown as Replica], cfg({ intervalMs: 30, unhealthyAfter: 100 }))
  h.start()
  await waitFor(() => a.seen.length >= 3, 'rounds repeat every interval')
  await h.stop()
  await new Promise(res => setTimeout(res, 50))
  const n = a.seen.length
  await new Promise(res => setTimeout(res, 250))
  assert.equal(a.seen.length, n, 'no round after stop()')
})

test('a round finishing after stop() changes nothing', async () => {
  b.stall = true
  const r = rep(b.origin)
  const h = new ActiveHealth([r as unknown as Replica], cfg({ unhealthyAfter: 1, timeoutMs: 200 }))
  const round = h.checkAll()
  await new Promise(res => setTimeout(res, 30))
  await h.stop()
  await round
  assert.equal(r.activeHealthy, true)
  assert.deepEqual(r.verdicts, [])
  b.stall = false
  b.server.closeAllConnections()
})
