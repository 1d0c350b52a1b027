// test/testkit/load-open.test.ts: the open model keeps its arrival rate whatever the target does, and counts
// latency from the intended start (queueing included), errors by kind, and the mix as asked.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { runOpen } from '../../testkit/load/index.js'

let slow: http.Server
let hang: http.Server
let counter: http.Server
let slowUrl = ''
let hangUrl = ''
let counterUrl = ''
const seen = new Map<string, number>()
let bodyBytes = 0
const held: http.ServerResponse[] = []

function listen(s: http.Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)))
}

before(async () => {
  slow = http.createServer((req, res) => { req.resume(); setTimeout(() => res.end('ok'), 50) })
  hang = http.createServer((req, res) => { req.resume(); held.push(res) })
  counter = http.createServer((req, res) => {
    seen.set(`${req.method} ${req.url}`, (seen.get(`${req.method} ${req.url}`) ?? 0) + 1)
    req.on('data', (c: Buffer) => { bodyBytes += c.length })
    req.on('end', () => res.end('x'.repeat(100)))
  })
  ;[slowUrl, hangUrl, counterUrl] = await Promise.all([listen(slow), listen(hang), listen(counter)])
})

after(async () => {
  for (const r of held) r.destroy()
  for (const s of [slow, hang, counter]) { s.closeAllConnections(); await new Promise((r) => s.close(r)) }
})

test('against a target slower than its connections allow, the send rate holds and latency includes the queueing', async () => {
  // 2 connections × (1 / 50 ms) = 40 req/s of capacity for 100 req/s of arrivals: requests queue in the pool.
  const r = await runOpen({ url: slowUrl + '/', rate: 100, durationMs: 1000, connections: 2, timeoutMs: 4000 })
  assert.equal(r.model, 'open')
  assert.match(r.description, /^open model: 100 req\/s fixed arrival, latency from intended send time, 2 connections/)
  assert.equal(r.requests.sent, 100)
  assert.ok(Math.abs(r.rate.sent - 100) <= 20, `achieved send rate ${r.rate.sent}`)
  assert.equal(r.requests.completed, 100)
  assert.ok(r.rate.completed <= 50, `throughput ${r.rate.completed} is bounded by the target`)
  assert.ok(r.latencyMs.p50 > 200, `p50 ${r.latencyMs.p50} ms includes the wait for a connection`)
  assert.ok(r.latencyMs.p99 > 900, `p99 ${r.latencyMs.p99} ms: the last requests waited ~1.5 s`)
  assert.ok(r.latencyMs.max >= r.latencyMs.p99)
  assert.ok(r.connections.opened <= 2)
  assert.ok(r.schedule !== undefined && r.schedule.lagMs.count === 100)
  assert.ok(r.series.length >= 2 && r.series[0].sent >= 95, JSON.stringify(r.series))
})

test('with enough connections the same target shows its own 50 ms', async () => {
  const r = await runOpen({ url: slowUrl + '/', rate: 100, durationMs: 800, connections: 16, timeoutMs: 2000 })
  assert.equal(r.requests.completed, r.requests.sent)
  assert.equal(r.errors.total, 0)
  assert.ok(r.latencyMs.p50 >= 50 && r.latencyMs.p50 < 150, `p50 ${r.latencyMs.p50}`)
  assert.ok(r.serviceTimeMs !== undefined && r.serviceTimeMs.p50 >= 50)
  assert.equal(r.status['200'], r.requests.completed)
})

test('a refused connection is an error of kind connect_refused, not a latency', async () => {
  const closed = http.createServer()
  const url = await listen(closed)
  await new Promise((r) => closed.close(r))
  const r = await runOpen({ url, rate: 50, durationMs: 300, connections: 4, timeoutMs: 1000 })
  assert.equal(r.requests.sent, 15)
  assert.equal(r.errors.byKind.connect_refused, 15)
  assert.equal(r.latencyMs.count, 0)
  assert.ok(r.warnings.some((w) => /15 of 15 requests failed/.test(w)), r.warnings.join('\n'))
})

test('a request with no answer times out from its intended start and the run still ends', async () => {
  const t0 = Date.now()
  const r = await runOpen({ url: hangUrl, rate: 40, durationMs: 250, connections: 64, timeoutMs: 300 })
  assert.equal(r.requests.sent, 10)
  assert.equal(r.errors.byKind.timeout, 10)
  assert.ok(Date.now() - t0 < 2000, 'bounded by duration + timeout')
})

test('the mix is sent in its weights, with bodies built once and bytes counted', async () => {
  seen.clear()
  bodyBytes = 0
  const r = await runOpen({
    url: counterUrl, rate: 200, durationMs: 400, warmupMs: 100, connections: 8,
    mix: [
      { method: 'GET', path: '/a', weight: 3 },
      { method: 'POST', path: '/b', body: { size: 1000 }, headers: { 'content-type': 'text/plain' }, weight: 1 },
    ],
  })
  assert.equal(r.requests.warmup, 20)
  assert.equal(r.requests.sent, 80)
  assert.equal(r.errors.total, 0)
  assert.equal(seen.get('GET /a'), 75)
  assert.equal(seen.get('POST /b'), 25)
  assert.equal(bodyBytes, 25 * 1000)
  assert.equal(r.bytes.sent, 20 * 1000) // measured window only: 20 of the 25 POSTs
  assert.equal(r.bytes.received, 80 * 100)
  assert.deepEqual(r.config.mix.map((m) => [m.method, m.path, m.weight, m.bodyBytes]), [['GET', '/a', 3, 0], ['POST', '/b', 1, 1000]])
})
