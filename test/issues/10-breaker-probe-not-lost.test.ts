// test/issues/10-breaker-probe-not-lost.test.ts (issue 10, "who answers when"): a request refused because no
// replica is in rotation must not spend a half-open breaker's probe. Before the fix the breaker was asked
// first: past open_for, a request took the probe, found every replica ejected, and was answered 503 without
// sending it; with its only probe gone the breaker stayed half-open and refused every request after the
// replica came back. Now health (and the bulkhead) are asked before the breaker.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { agent, closeAll, metricOf, send, sleep } from '../policies/fixtures.js'

let status = 500
let server: Server
let gw: TestGateway
const ua = agent(4)

before(async () => {
  server = createServer((req, res) => { req.resume(); res.statusCode = status; res.end(String(status)) })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  gw = await startGateway(`
upstream api {
  replicas 127.0.0.1:${(server.address() as { port: number }).port}
  health passive eject_after 2 for 2s
  breaker error_ratio 50% min_requests 2 window 10s open_for 200ms half_open 1
}
route api { match path prefix "/api"; timeout 2s; proxy api }
`)
})
after(async () => {
  await closeAll(ua, gw)
  server.closeAllConnections()
  await new Promise(r => server.close(r))
})

const get = () => send(ua, gw.url + '/api/x')

test('a request refused for want of a replica leaves the half-open probe for when the replica is back', async () => {
  assert.deepEqual([(await get()).status, (await get()).status], [500, 500])
  assert.equal(await metricOf(gw, 'gw_breaker_state', { upstream: 'api' }), 2, 'two failures opened the breaker')
  status = 200
  await sleep(300) // past open_for, the replica still ejected (2 s)
  assert.equal((await get()).status, 503, 'no replica in rotation')
  await sleep(2000) // the ejection is over
  const after = [(await get()).status, (await get()).status, (await get()).status]
  assert.deepEqual(after, [200, 200, 200], 'the probe went out and closed the breaker')
  assert.equal(await metricOf(gw, 'gw_breaker_state', { upstream: 'api' }), 0)
})
