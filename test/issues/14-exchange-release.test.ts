// Issue 14 (mutation target, upstream area), runtime/upstream/exchange.ts `release()`: an exchange gives its
// bulkhead slot back once, whichever way it ends. A client that leaves while a retry's backoff runs is released
// at once (clientGone, no attempt under way), and the backoff's timer, firing later, finds the client gone and
// releases again: without the `released` guard the slot was given back twice, and `bulkhead max_in_flight 1`
// then let two requests in. On both engines.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { sleep, WireConnection } from '../helpers/wire.js'

const ENGINES = ['node', 'http1'] as const
const upstreams: Server[] = []
const gws = new Map<string, TestGateway>()

before(async () => {
  // /fail: 503 at once (retried after the backoff); /slow: 200 after 400 ms
  // two replicas (a retry goes to a replica not tried yet)
  const ports: number[] = []
  for (let i = 0; i < 2; i++) {
    const upstream = createServer((rq, rs) => {
      rq.resume()
      if (rq.url!.endsWith('/fail')) { rs.writeHead(503, { 'content-length': '4' }); rs.end('nope'); return }
      setTimeout(() => { rs.writeHead(200, { 'content-length': '2' }); rs.end('ok') }, 400)
    })
    await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
    upstreams.push(upstream)
    ports.push((upstream.address() as AddressInfo).port)
  }
  for (const engine of ENGINES) {
    gws.set(engine, await startGateway(`
upstream u { replicas 127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]}; bulkhead max_in_flight 1; health passive eject_after 1000 }
route r { match path prefix "/"; timeout 5s; retry 2 no_budget backoff 300ms; proxy u }
`, { engine }))
  }
})
after(async () => { for (const gw of gws.values()) await gw.close(); for (const u of upstreams) u.close() })

for (const engine of ENGINES) {
  test(`${engine}: a client gone during a retry's backoff gives the bulkhead slot back once: max_in_flight 1 still admits one request`, async () => {
    const gw = gws.get(engine)!
    const port = gw.running.address.port
    const gone = await WireConnection.open(port)
    await gone.write('GET /fail HTTP/1.1\r\nHost: t\r\n\r\n')
    await sleep(100) // the first attempt's 503 is in, the backoff runs
    gone.socket.destroy()
    await sleep(400) // the backoff's timer has fired
    const two = await Promise.all([1, 2].map(async () => {
      const c = await WireConnection.open(port)
      try { return (await c.send('GET /slow HTTP/1.1\r\nHost: t\r\n\r\n', { timeoutMs: 3000 })).status } finally { c.socket.destroy() }
    }))
    assert.deepEqual(two.sort(), [200, 503], 'one admitted, one refused by the full bulkhead')
    const text = await (await fetch(`${gw.adminUrl}/metrics`)).text()
    assert.equal(metric(text, 'gw_upstream_bulkhead_rejected_total', { upstream: 'u' }), 1)
  })
}
