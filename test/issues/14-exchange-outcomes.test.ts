// Issue 14 (mutation target, upstream area), exchange.ts survivors: what an attempt's outcome does beyond the
// client's answer, seen as a client, a replica and an operator see it. Failures (5xx, reset, timeout) count
// towards passive ejection and the breaker, a 4xx and waiting for a pooled connection do not; an open
// breaker answers with the route's fallback and gives back the bulkhead slot it took; a split's upstream at
// its bulkhead is counted as rejected; interim 1xx answers of the upstream are not forwarded while the
// client's own Expect: 100-continue is answered; the time to response headers is observed in seconds; a
// route timeout under two ticks still fires (a Node timer instead of the wheel).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type Behaviour, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange, type WireResponse } from '../helpers/wire.js'

/** r0 answers as the request's X-R0 header says (a status, `reset` or `stall`); other replicas answer 200. */
const byHeader = (r: { header(n: string): string | undefined }): Behaviour => {
  const v = r.header('x-r0')
  if (v === undefined) return { kind: 'answer' }
  if (v === 'reset' || v === 'stall') return { kind: v }
  return { kind: 'answer', status: Number(v) }
}

let pe5: RecordingUpstream, per: RecordingUpstream, pet: RecordingUpstream, br: RecordingUpstream, pool: RecordingUpstream, misc: RecordingUpstream, sa: RecordingUpstream, sb: RecordingUpstream
let gw: TestGateway

before(async () => {
  ;[pe5, per, pet, br, pool, misc, sa, sb] = await Promise.all([
    startRecordingUpstream([{ behaviour: byHeader }, {}]),
    startRecordingUpstream([{ behaviour: byHeader }, {}]),
    startRecordingUpstream([{ behaviour: byHeader }, {}]),
    startRecordingUpstream([{ behaviour: byHeader }]),
    startRecordingUpstream([{ behaviour: r => r.target.includes('slow') ? { kind: 'answer', delayMs: 400 } : { kind: 'answer' } }]),
    startRecordingUpstream([{ behaviour: r => r.target.includes('hints')
      ? { kind: 'raw', bytes: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' }
      : r.target.includes('stall') ? { kind: 'stall' }
      : r.target.includes('slow') ? { kind: 'answer', delayMs: 150 } : { kind: 'answer' } }]),
    startRecordingUpstream([{ behaviour: r => r.target.includes('stall') ? { kind: 'stall' } : { kind: 'answer' } }]),
    startRecordingUpstream(1),
  ])
  gw = await startGateway(`
upstream pe_fail { replicas ${pe5.addrs}; health passive eject_after 2 errors for 60s }
upstream pe_reset { replicas ${per.addrs}; health passive eject_after 2 errors for 60s }
upstream pe_stall { replicas ${pet.addrs}; health passive eject_after 2 errors for 60s }
upstream br { replicas ${br.addrs}; health passive eject_after 1000; breaker error_ratio 50% min_requests 4 open_for 60s; bulkhead max_in_flight 1 }
upstream pool { replicas ${pool.addrs}; health passive eject_after 1 errors for 60s; pool connections 1 }
upstream misc { replicas ${misc.addrs}; health passive eject_after 1000 }
upstream sa { replicas ${sa.addrs}; health passive eject_after 1000; bulkhead max_in_flight 1 }
upstream sb { replicas ${sb.addrs}; health passive eject_after 1000 }
route pe5   { match path prefix "/pe-503"; timeout 3s; proxy pe_fail }
route per   { match path prefix "/pe-reset"; timeout 3s; proxy pe_reset }
route pet   { match path prefix "/pe-stall"; timeout 1s; proxy pe_stall }
route br    { match path prefix "/br"; timeout 2s; proxy br fallback respond 503 json "{\\"error\\":\\"try_later\\"}" header Retry-After "7" }
route hold  { match path prefix "/pool/slow"; timeout 2s; proxy pool }
route pool  { match path prefix "/pool"; timeout 100ms; proxy pool }
route tiny  { match path prefix "/misc/tiny"; timeout 15ms; proxy misc }
route misc  { match path prefix "/misc"; timeout 2s; proxy misc }
route split { match path prefix "/split"; timeout 400ms; proxy sa 100%, sb 0% }
`)
})
after(async () => { await gw?.close(); await Promise.all([pe5, per, pet, br, pool, misc, sa, sb].map(u => u?.close())) })

const send = (lines: string[], body = ''): Promise<WireResponse> =>
  wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test', ...(body === '' ? [] : [`Content-Length: ${body.length}`])) + body, { timeoutMs: 3000 })
const metrics = async () => (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
const m = (text: string, name: string, labels: Record<string, string>) => metric(text, name, labels) ?? 0

test('passive health: a 4xx is not a failure; 5xx, reset and timeout are, and eject_after of them in a row eject the replica', async () => {
  // The route timeouts leave a loaded machine room to answer (an answer past the timeout would be a failure
  // of its own); only pe_stall's 1 s is reached on purpose, by the stalls.
  for (const [failure, up] of [['503', pe5], ['reset', per], ['stall', pet]] as const) {
    const path = `/pe-${failure}`
    // r0 answers 404 twice (round robin alternates): still in rotation
    for (let i = 0; i < 4; i++) assert.equal((await send([`GET ${path}/a HTTP/1.1`, 'X-R0: 404'])).status, i % 2 === 0 ? 404 : 200)
    assert.deepEqual(up.counts(), { r0: 2, r1: 2 })
    up.reset()
    for (let i = 0; i < 4; i++) await send([`GET ${path}/b HTTP/1.1`, `X-R0: ${failure}`])
    assert.equal(up.replicas[0].received.length, 2, `${failure}: r0 failed twice in a row`)
    up.reset()
    for (let i = 0; i < 4; i++) assert.equal((await send([`GET ${path}/c HTTP/1.1`])).status, 200)
    assert.deepEqual(up.counts(), { r0: 0, r1: 4 }, `${failure}: r0 is out of rotation`)
    const text = await metrics()
    const name = `pe_${failure === '503' ? 'fail' : failure}`
    assert.equal(m(text, 'gw_upstream_replica_healthy', { upstream: name, replica: up.replicas[0].addr }), 0)
    assert.equal(m(text, 'gw_upstream_replica_healthy', { upstream: name, replica: up.replicas[1].addr }), 1)
  }
})

test('waiting for a pooled connection is not the replica\'s failure: it stays in rotation', async () => {
  pool.reset()
  const holder = send(['GET /pool/slow HTTP/1.1']) // holds the only connection for 400 ms
  while (pool.received.length === 0) await new Promise(r => setTimeout(r, 5))
  const queued = await send(['GET /pool/q HTTP/1.1'])
  assert.equal(queued.status, 503)
  assert.equal(JSON.parse(queued.text).error, 'upstream_pool_exhausted')
  assert.equal((await holder).status, 200)
  const next = await send(['GET /pool/after HTTP/1.1'])
  assert.equal(next.status, 200, 'eject_after 1, yet still in rotation')
})

test('breaker: failures open it; then the fallback answers, nothing is sent, and the bulkhead slot is given back each time', async () => {
  br.reset()
  const before_ = await metrics()
  for (let i = 0; i < 4; i++) assert.equal((await send(['GET /br/x HTTP/1.1', 'X-R0: 503'])).status, 503)
  for (let i = 0; i < 3; i++) {
    const r = await send(['GET /br/y HTTP/1.1'])
    assert.equal(r.status, 503)
    assert.deepEqual(JSON.parse(r.text), { error: 'try_later' }, 'the route\'s fallback')
    assert.equal(r.header('retry-after'), '7')
  }
  assert.equal(br.received.length, 4, 'nothing sent while open')
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_breaker_state', { upstream: 'br' }), 2, 'open')
  assert.equal(m(after_, 'gw_breaker_rejected_total', { upstream: 'br' }) - m(before_, 'gw_breaker_rejected_total', { upstream: 'br' }), 3)
  assert.equal(m(after_, 'gw_upstream_bulkhead_rejected_total', { upstream: 'br' }) - m(before_, 'gw_upstream_bulkhead_rejected_total', { upstream: 'br' }), 0, 'the breaker refused them, not a leaked bulkhead slot')
})

test('split: the upstream at its bulkhead is counted as rejected; its slot comes back after each exchange', async () => {
  sa.reset(); sb.reset()
  const before_ = await metrics()
  const holder = send(['GET /split/stall HTTP/1.1'])
  while (sa.received.length === 0) await new Promise(r => setTimeout(r, 5))
  assert.equal((await send(['GET /split/b HTTP/1.1'])).status, 200)
  assert.equal(sb.received.length, 1)
  assert.equal((await holder).status, 504)
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_bulkhead_rejected_total', { upstream: 'sa' }) - m(before_, 'gw_upstream_bulkhead_rejected_total', { upstream: 'sa' }), 1)
  sa.reset(); sb.reset()
  for (let i = 0; i < 3; i++) assert.equal((await send(['GET /split/ok HTTP/1.1'])).status, 200)
  assert.deepEqual([sa.received.length, sb.received.length], [3, 0], 'each completed exchange gave its slot back')
})

test('an interim 103 from the upstream is not forwarded; the client gets the final answer', async () => {
  const r = await send(['GET /misc/hints HTTP/1.1'])
  assert.equal(r.status, 200)
  assert.deepEqual(r.interim, [])
  assert.equal(r.text, 'ok')
})

test('Expect: 100-continue is answered with 100 Continue before the body is sent', async () => {
  misc.reset()
  const c = await WireConnection.open(gw.running.address.port)
  try {
    await c.write(req('PUT /misc/upload HTTP/1.1', 'Host: shop.test', 'Expect: 100-continue', 'Content-Length: 5'))
    for (const t0 = Date.now(); !c.unread().toString('latin1').includes('\r\n\r\n') && Date.now() - t0 < 3000;) await new Promise(r => setTimeout(r, 5))
    assert.match(c.unread().toString('latin1'), /^HTTP\/1.1 100 Continue\r\n/)
    await c.write('hello')
    const r = await c.read({ timeoutMs: 3000 })
    assert.equal(r.status, 200)
  } finally { c.close() }
  assert.equal(misc.received[0].body.toString(), 'hello')
})

test('the time to response headers is observed once per attempt, in seconds', async () => {
  const before_ = await metrics()
  assert.equal((await send(['GET /misc/slow HTTP/1.1'])).status, 200)
  const after_ = await metrics()
  const count = m(after_, 'gw_upstream_request_duration_seconds_count', { upstream: 'misc' }) - m(before_, 'gw_upstream_request_duration_seconds_count', { upstream: 'misc' })
  const sum = m(after_, 'gw_upstream_request_duration_seconds_sum', { upstream: 'misc' }) - m(before_, 'gw_upstream_request_duration_seconds_sum', { upstream: 'misc' })
  assert.equal(count, 1)
  assert.ok(sum >= 0.14 && sum < 10, `observed ${sum} s for a 150 ms answer`)
})

test('a route timeout shorter than two wheel ticks still fires (a Node timer)', async () => {
  const t0 = performance.now()
  const r = await send(['GET /misc/tiny/stall HTTP/1.1'])
  assert.equal(r.status, 504)
  assert.ok(performance.now() - t0 >= 14)
})
