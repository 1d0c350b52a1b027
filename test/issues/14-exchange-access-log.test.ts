// Issue 14 (mutation target, upstream area), exchange.ts: what one request's access line says about its trip
// upstream, read from the log file after the gateway closed (which writes every line): the upstream and
// replica of the last attempt, the number of tries, the time to response headers (only when headers came),
// and why the exchange did not end normally (`reason`) (the client went away: client_aborted; a
// response cut mid-body: the outcome, reset).
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startGateway } from '../helpers/gateway.js'
import { startRecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange } from '../helpers/wire.js'

test('access lines: upstream, replica, tries, upstreamMs, and the error code of an exchange that did not end normally', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwp-14-log-'))
  const up = await startRecordingUpstream([
    { behaviour: r => r.target.includes('cut') ? { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\npart', close: true }
      : r.target.includes('retry') ? { kind: 'answer', status: 503 } : { kind: 'answer' } },
    { behaviour: r => r.target.includes('slow') ? { kind: 'stall' } : { kind: 'answer' } },
  ])
  const gw = await startGateway(`
upstream two { replicas ${up.addrs}; health passive eject_after 1000 }
route r { match path prefix "/"; timeout 2s; retry 1 no_budget; proxy two }
`, { accessLog: true, logDestination: join(dir, 'access.log') })
  const port = gw.running.address.port
  const send = (path: string) => wireExchange(port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test'), { timeoutMs: 3000 })
  try {
    assert.equal((await send('/ok')).status, 200) // r0
    assert.equal((await send('/retry')).status, 200) // r1 (the cursor moved on), answered at once
    assert.equal((await send('/retry')).status, 200) // r0 answers 503, retried on r1
    // a response cut mid-body (r1 then r0: the cut one is r0)
    assert.equal((await send('/x')).status, 200)
    const c = await WireConnection.open(port)
    await c.write(req('GET /cut HTTP/1.1', 'Host: shop.test'))
    assert.equal((await c.read({ head: true, timeoutMs: 3000 })).status, 200)
    await c.closed
    // a client that goes away while r1 stalls
    const g = await WireConnection.open(port)
    const n = up.received.length
    await g.write(req('GET /slow HTTP/1.1', 'Host: shop.test'))
    while (up.received.length === n) await new Promise(r => setTimeout(r, 5))
    g.close()
    await new Promise(r => setTimeout(r, 100))
  } finally {
    await gw.close()
    await up.close()
  }
  const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
  await rm(dir, { recursive: true, force: true })
  const by = (path: string) => lines.filter(l => l.path === path)
  const [r0, r1] = up.replicas.map(r => `http://${r.addr}`)
  const ok = by('/ok')[0]
  assert.deepEqual([ok.upstreamName, ok.upstream, ok.tries, ok.reason], ['two', r0, 1, undefined])
  assert.ok(typeof ok.upstreamMs === 'number' && ok.upstreamMs >= 0 && ok.upstreamMs < 2000, String(ok.upstreamMs))
  assert.ok(ok.upstreamMs <= (ok.ms as number), `the upstream's part (${ok.upstreamMs} ms) lies within the request's ${ok.ms} ms`)
  const [first, retried] = by('/retry')
  assert.deepEqual([first.upstream, first.tries], [r1, 1])
  assert.deepEqual([retried.upstream, retried.tries, retried.status, retried.reason], [r1, 2, 200, undefined], 'the last attempt\'s replica, two tries')
  const cut = by('/cut')[0]
  assert.deepEqual([cut.status, cut.upstream, cut.reason], [200, r0, 'reset'])
  const gone = by('/slow')[0]
  assert.deepEqual([gone.upstream, gone.reason, gone.upstreamMs], [r1, 'client_aborted', undefined])
})
