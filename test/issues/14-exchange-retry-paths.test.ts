// Issue 14 (mutation target, upstream area), exchange.ts: the retry decisions and health bookkeeping the other
// exchange tests leave open, counted per replica and per upstream on recording upstreams. The retry budget
// counts requests (50% of ten failing requests allows five retries, not the floor of three); a connection
// refused ejects a replica like any failure, a client that went away neither counts nor resets the count; a
// breaker that opens during a request stops its retries; a split's retry skips an upstream whose breaker is
// open or whose bulkhead is full; least_conn sees requests in flight go back down when they end.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange, type WireResponse } from '../helpers/wire.js'

let bud: RecordingUpstream, ce: RecordingUpstream, ab: RecordingUpstream, bo: RecordingUpstream
let s1: RecordingUpstream, s2: RecordingUpstream, s3: RecordingUpstream, lc: RecordingUpstream
let deadPort: number
let gw: TestGateway

const fail503 = { behaviour: { kind: 'answer' as const, status: 503 } }

before(async () => {
  ;[bud, ce, ab, bo, s1, s2, s3, lc] = await Promise.all([
    startRecordingUpstream([fail503, fail503]),
    startRecordingUpstream(1),
    startRecordingUpstream([{ behaviour: r => r.target.includes('slow') ? { kind: 'stall' } : r.target.includes('fail') ? { kind: 'answer', status: 503 } : { kind: 'answer' } }]),
    startRecordingUpstream([fail503, fail503, fail503]),
    startRecordingUpstream([fail503]),
    startRecordingUpstream([{ behaviour: r => r.target.includes('hold') ? { kind: 'stall' } : r.target.includes('fail') ? { kind: 'answer', status: 503 } : { kind: 'answer' } }]),
    startRecordingUpstream(1),
    startRecordingUpstream([{}, { behaviour: r => r.target.includes('hold') ? { kind: 'stall' } : { kind: 'answer' } }]),
  ])
  deadPort = await new Promise<number>(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) }) })
  gw = await startGateway(`
upstream bud { replicas ${bud.addrs}; health passive eject_after 1000 }
upstream ce { replicas 127.0.0.1:${deadPort} ${ce.addrs}; health passive eject_after 1 errors for 60s }
upstream ab { replicas ${ab.addrs}; health passive eject_after 2 errors for 60s }
upstream bo { replicas ${bo.addrs}; health passive eject_after 1000; breaker error_ratio 50% min_requests 2 open_for 60s }
upstream s1 { replicas ${s1.addrs}; health passive eject_after 1000 }
upstream s2 { replicas ${s2.addrs}; health passive eject_after 1000; breaker error_ratio 50% min_requests 1 open_for 60s; bulkhead max_in_flight 1 }
upstream s3 { replicas ${s3.addrs}; health passive eject_after 1000 }
upstream lc { replicas ${lc.addrs}; balance least_conn; health passive eject_after 1000 }
route bud   { match path prefix "/bud"; timeout 2s; retry 1 budget 50%; proxy bud }
route ce    { match path prefix "/ce"; timeout 2s; proxy ce }
route ab    { match path prefix "/ab"; timeout 2s; proxy ab }
route bo    { match path prefix "/bo"; timeout 2s; retry 2 no_budget; proxy bo }
route s2    { match path prefix "/s2"; timeout 300ms; proxy s2 }
route split { match path prefix "/split"; timeout 2s; retry 1 no_budget; proxy s1 100%, s2 0%, s3 0% }
route lc    { match path prefix "/lc"; timeout 600ms; proxy lc }
`)
})
after(async () => { await gw?.close(); await Promise.all([bud, ce, ab, bo, s1, s2, s3, lc].map(u => u?.close())) })

const send = (lines: string[]): Promise<WireResponse> => wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test'), { timeoutMs: 3000 })
const metrics = async () => (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
const m = (text: string, name: string, labels: Record<string, string>) => metric(text, name, labels) ?? 0

test('the retry budget counts the requests: 50% of ten failing requests allows five retries, the rest are denied', async () => {
  const before_ = await metrics()
  for (let i = 0; i < 10; i++) assert.equal((await send([`GET /bud/${i} HTTP/1.1`])).status, 503)
  const after_ = await metrics()
  assert.equal(bud.received.length, 15, 'ten first attempts and five retries')
  assert.equal(m(after_, 'gw_upstream_retries_total', { upstream: 'bud' }) - m(before_, 'gw_upstream_retries_total', { upstream: 'bud' }), 5)
  assert.equal(m(after_, 'gw_upstream_retry_budget_denied_total', { upstream: 'bud' }) - m(before_, 'gw_upstream_retry_budget_denied_total', { upstream: 'bud' }), 5)
})

test('a connection refused counts as the replica\'s failure: with eject_after 1 it is out of rotation', async () => {
  const first = await send(['GET /ce/a HTTP/1.1']) // round robin starts at the refusing replica
  assert.equal(first.status, 502)
  for (let i = 0; i < 4; i++) assert.equal((await send([`GET /ce/${i} HTTP/1.1`])).status, 200)
  assert.equal(ce.received.length, 4)
  assert.equal(m(await metrics(), 'gw_upstream_replica_healthy', { upstream: 'ce', replica: `127.0.0.1:${deadPort}` }), 0)
})

test('a client that goes away is neither a failure of the replica nor a success: it does not count towards ejection or reset the count', async () => {
  const abort = async () => {
    const before_ = m(await metrics(), 'gw_upstream_requests_total', { upstream: 'ab', outcome: 'aborted' })
    const n = ab.received.length
    const c = await WireConnection.open(gw.running.address.port)
    await c.write(req('GET /ab/slow HTTP/1.1', 'Host: shop.test'))
    while (ab.received.length === n) await new Promise(r => setTimeout(r, 5))
    c.close()
    for (const t0 = Date.now(); Date.now() - t0 < 2000;) {
      if (m(await metrics(), 'gw_upstream_requests_total', { upstream: 'ab', outcome: 'aborted' }) > before_) return
      await new Promise(r => setTimeout(r, 20))
    }
    assert.fail('the aborted attempt was not counted')
  }
  // eject_after 2: an abort and a failure are not two failures
  await abort()
  assert.equal((await send(['GET /ab/fail HTTP/1.1'])).status, 503)
  assert.equal((await send(['GET /ab/ok HTTP/1.1'])).status, 200, 'still in rotation')
  // a failure, an abort, a failure: two failures in a row, the abort between them resets nothing
  assert.equal((await send(['GET /ab/fail HTTP/1.1'])).status, 503)
  await abort()
  assert.equal((await send(['GET /ab/fail HTTP/1.1'])).status, 503)
  const r = await send(['GET /ab/after HTTP/1.1'])
  assert.equal(r.status, 503)
  assert.equal(JSON.parse(r.text).error, 'upstream_unavailable', 'ejected: no replica in rotation')
})

test('a breaker that opens during a request stops its retries: the 503 so far is the answer', async () => {
  const r = await send(['GET /bo/x HTTP/1.1'])
  assert.equal(r.status, 503)
  assert.equal(bo.received.length, 2, 'the second failure opened the breaker (2 of min 2): no third attempt')
})

test('a split\'s retry skips an upstream whose bulkhead is full, then one whose breaker is open', async () => {
  // s2's only bulkhead slot is held: the retry after s1's 503 goes to s3, and s2 gets nothing more
  const holder = send(['GET /s2/hold HTTP/1.1'])
  while (s2.received.length === 0) await new Promise(r => setTimeout(r, 5))
  const r = await send(['GET /split/a HTTP/1.1'])
  assert.equal(r.status, 200)
  assert.deepEqual([s1.received.length, s2.received.length, s3.received.length], [1, 1, 1])
  assert.equal((await holder).status, 504)
  // s2's breaker opens on one failure; the next retry skips it again
  assert.equal((await send(['GET /s2/fail HTTP/1.1'])).status, 503)
  s1.reset(); s2.reset(); s3.reset()
  const r2 = await send(['GET /split/b HTTP/1.1'])
  assert.equal(r2.status, 200)
  assert.deepEqual([s1.received.length, s2.received.length, s3.received.length], [1, 0, 1])
})

test('least_conn sees a replica\'s requests in flight go back down when they end: with r1 busy, every request goes to r0', async () => {
  // r1 is held by a stalled request; r0 answers at once, so it never has more in flight than r1
  const first = await send(['GET /lc/a HTTP/1.1'])
  assert.equal(JSON.parse(first.text).replica, 'r0')
  const holder = send(['GET /lc/hold HTTP/1.1'])
  while (lc.replicas[1].received.length === 0) await new Promise(r => setTimeout(r, 5))
  for (let i = 0; i < 4; i++) assert.equal(JSON.parse((await send([`GET /lc/${i} HTTP/1.1`])).text).replica, 'r0', `request ${i}`)
  assert.equal((await holder).status, 504)
})
