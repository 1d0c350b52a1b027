// Issue 14 (mutation target, upstream area), health.ts survivor: stop() closes the check clients' kept-alive
// connections to the replicas (a reload or shutdown leaves none behind).
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { ActiveHealth } from '../../runtime/upstream/health.js'
import type { Replica } from '../../runtime/upstream/replica.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

test('stop() closes the check connections', async () => {
  const server = createServer((_q, s) => { s.end('ok') })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const conns = () => new Promise<number>(r => server.getConnections((_e, n) => r(n)))
  const rep = { origin, activeHealthy: true, setActiveHealthy(ok: boolean) { rep.activeHealthy = ok } }
  try {
    const cfg = { path: '/hz', intervalMs: 40, timeoutMs: 150, unhealthyAfter: 100, healthyAfter: 1 }
    // a check keeps its connection open (keep-alive); stop() closes it
    const h = new ActiveHealth([rep as unknown as Replica], cfg)
    await h.checkAll()
    assert.equal(await conns(), 1)
    await h.stop()
    for (let i = 0; i < 100 && await conns() > 0; i++) await sleep(10)
    assert.equal(await conns(), 0, 'the check connection was closed')
  } finally { server.closeAllConnections(); server.close() }
})
