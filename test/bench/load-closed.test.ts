// test/bench/load-closed.test.ts: the closed model's throughput is bounded by concurrency / latency, and
// every response is counted by status and by bytes without being kept.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { runClosed, formatSummary } from '../../bench/load/index.js'

let server: http.Server
let url = ''
let maxInFlight = 0
let inFlight = 0
const BIG = Buffer.alloc(10 * 1024, 'b')

before(async () => {
  server = http.createServer((req, res) => {
    req.resume()
    if (req.url === '/big') return res.end(BIG)
    if (req.url === '/fail') { res.statusCode = 503; return res.end('no') }
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    setTimeout(() => { inFlight--; res.end('ok') }, 20)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)) })

test('throughput is bounded by concurrency / latency and never more than C requests are in flight', async () => {
  maxInFlight = 0
  const r = await runClosed({ url: url + '/slow', concurrency: 4, durationMs: 1000 })
  assert.equal(r.model, 'closed')
  assert.match(r.description, /^closed model: 4 concurrent workers/)
  const bound = 4 / 0.020 // 200 req/s
  assert.ok(r.rate.completed <= bound * 1.05, `throughput ${r.rate.completed} > bound ${bound}`)
  assert.ok(r.rate.completed >= bound * 0.5, `throughput ${r.rate.completed} far below ${bound}`)
  assert.ok(maxInFlight <= 4, `in flight ${maxInFlight}`)
  assert.ok(r.latencyMs.p50 >= 20, `p50 ${r.latencyMs.p50}`)
  assert.ok(r.connections.opened <= 4, `opened ${r.connections.opened}`)
  assert.equal(r.requests.completed, r.requests.sent)
  assert.equal(r.errors.total, 0)
})

test('response bodies are consumed and counted, statuses >= 400 are errors by status', async () => {
  const r = await runClosed({
    url, concurrency: 2, durationMs: 300,
    mix: [{ path: '/big', weight: 1 }, { path: '/fail', weight: 1 }],
  })
  assert.ok(r.requests.completed > 10)
  const big = r.status['200']
  const fail = r.status['503']
  assert.ok(Math.abs(big - fail) <= 2, `200: ${big}, 503: ${fail}`)
  assert.equal(r.bytes.received, big * BIG.length + fail * 2)
  assert.deepEqual(r.errors.byStatus, { 503: fail })
  assert.equal(r.requests.ok, big)
  assert.match(formatSummary(r), /errors {2}503: \d+/)
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)))
})
