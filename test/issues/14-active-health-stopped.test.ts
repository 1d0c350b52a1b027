// Issue 14 (mutation target, upstream area), health.ts survivor: a checker stopped while a round of checks is
// in flight stays stopped. The round ends (its requests fail on the destroyed clients) and schedules nothing:
// without that, every reload would leave a checker behind that runs a round on dead clients every interval,
// for the life of the process.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { ActiveHealth } from '../../runtime/upstream/health.js'
import type { Replica } from '../../runtime/upstream/replica.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

test('stop() during a round: the round ends and no further round runs', async () => {
  let seen = 0
  const server = createServer((_q, s) => { seen++; setTimeout(() => s.end('ok'), 200) }) // a slow answer keeps the round in flight
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const rep = { origin, activeHealthy: true, setActiveHealthy(ok: boolean) { rep.activeHealthy = ok } }
  try {
    const cfg = { path: '/hz', intervalMs: 20, timeoutMs: 1000, unhealthyAfter: 1, healthyAfter: 1 }
    const h = new ActiveHealth([rep as unknown as Replica], cfg)
    // count the checks the checker makes, whether or not they can reach the replica
    const client = (h as unknown as { clients: { request: (...a: unknown[]) => Promise<unknown> }[] }).clients[0]
    const request = client.request.bind(client)
    let checks = 0
    client.request = (...a: unknown[]) => { checks++; return request(...a) }
    h.start()
    for (let i = 0; i < 200 && seen === 0; i++) await sleep(5)
    assert.equal(seen, 1, 'the first check reached the replica')
    await h.stop() // the check in flight is cut off with the client
    await sleep(200) // ten intervals
    assert.equal(checks, 1, 'no round after stop()')
    assert.equal(rep.activeHealthy, true, 'the cut-off check gave no verdict')
  } finally { server.closeAllConnections(); server.close() }
})
