// Issue 14 (mutation target, upstream area): one client request's trip through runtime/upstream/exchange.ts,
// observed as a client and a recording upstream see it, with every request bounded (raw-socket client, 3 s):
// what the client gets for each way an attempt ends (status class passed through and counted by outcome, the
// held 5xx passed on unchanged, 413 / 502 / 503 / 504 from the gateway), which replica got which attempt
// (per_try and route deadlines, retries only where allowed, never to a replica already tried, a connection
// refused retried whatever the method, backoff), the request exactly as forwarded (target with query, body
// replayed on a retry), and the split's failover before sending and on a retry. Replicas take their next
// behaviour from a queue, so the order of attempts does not depend on the balancer's cursor.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type Behaviour, type RecordingUpstream, type Received } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange, type WireResponse } from '../helpers/wire.js'

/** Upstreams whose replicas answer from a shared queue (default: 200 naming the replica). */
interface Queued { up: RecordingUpstream; queue: Behaviour[]; at: number[] }

async function queued(n: number): Promise<Queued> {
  const q: Queued = { up: null as unknown as RecordingUpstream, queue: [], at: [] }
  const script = (_r: Received): Behaviour => { q.at.push(performance.now()); return q.queue.shift() ?? { kind: 'answer' } }
  q.up = await startRecordingUpstream(Array.from({ length: n }, () => ({ behaviour: script })))
  return q
}
const reset = (...qs: Queued[]) => { for (const q of qs) { q.up.reset(); q.queue.length = 0; q.at.length = 0 } }

let two: Queued, one: Queued, sa: Queued, sb: Queued
let deadPort: number
let gw: TestGateway

before(async () => {
  ;[two, one, sa, sb] = await Promise.all([queued(2), queued(1), queued(1), queued(1)])
  deadPort = await new Promise<number>(resolve => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) }) })
  // no passive ejection and no breaker: which replica gets an attempt is the exchange's doing
  gw = await startGateway(`
upstream two { replicas ${two.up.addrs}; health passive eject_after 1000 }
upstream one { replicas ${one.up.addrs}; health passive eject_after 1000; pool connections 1 }
upstream mixed { replicas 127.0.0.1:${deadPort} ${one.up.addrs}; health passive eject_after 1000 }
upstream sa { replicas ${sa.up.addrs}; health passive eject_after 1000; bulkhead max_in_flight 1 }
upstream sb { replicas ${sb.up.addrs}; health passive eject_after 1000 }
route plain   { match path prefix "/plain"; timeout 2s; max_body 1KB; proxy two }
route retry   { match path prefix "/retry"; timeout 2s; max_body 1KB; retry 1 no_budget; proxy two }
route allm    { match path prefix "/allm"; timeout 2s; retry 1 all_methods no_budget; proxy two }
route pertry  { match path prefix "/pertry"; timeout 2s; retry 1 per_try 150ms no_budget; proxy two }
route total   { match path prefix "/total"; timeout 250ms; retry 1 no_budget; proxy two }
route backoff { match path prefix "/backoff"; timeout 3s; retry 1 backoff 300ms no_budget; proxy two }
route bufslow { match path prefix "/bufslow"; timeout 300ms; retry 1 no_budget; proxy two }
route pool    { match path prefix "/pool"; timeout 300ms; proxy one }
route hold    { match path prefix "/hold"; timeout 1500ms; proxy one }
route mixed   { match path prefix "/mixed"; timeout 2s; retry 1 no_budget; proxy mixed }
route split   { match path prefix "/split"; timeout 2s; retry 1 no_budget; proxy sa 100%, sb 0% }
route splitnr { match path prefix "/nsplit"; timeout 1200ms; proxy sa 100%, sb 0% }
`)
})
after(async () => { await gw?.close(); await Promise.all([two, one, sa, sb].map(q => q?.up.close())) })

const send = (lines: string[], body = '', extra: string[] = []): Promise<WireResponse> =>
  wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test', ...extra, ...(body === '' ? [] : [`Content-Length: ${body.length}`])) + body, { timeoutMs: 3000 })

async function metrics(): Promise<string> {
  const r = await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })
  return r.text()
}
const m = (text: string, name: string, labels: Record<string, string>) => metric(text, name, labels) ?? 0

function assertGatewayError(r: WireResponse, status: number, error: string): void {
  assert.equal(r.status, status, `${r.head}\n\n${r.text}`)
  assert.deepEqual(JSON.parse(r.text), { error, request_id: r.header('x-request-id') })
}

test('each status class is passed through unchanged and counted by its outcome (boundaries 200, 300, 400, 500)', async () => {
  reset(two)
  const before = await metrics()
  for (const status of [200, 300, 400, 500, 599]) {
    two.queue.push({ kind: 'answer', status, headers: [['x-from', 'upstream'], ['content-type', 'text/plain']], body: `s${status}` })
    const r = await send([`GET /plain/${status}?a=1&b=two HTTP/1.1`])
    assert.equal(r.status, status)
    assert.equal(r.text, `s${status}`)
    assert.equal(r.header('x-from'), 'upstream')
  }
  assert.equal(two.up.received.length, 5, 'no status of a route without retry is retried')
  assert.deepEqual(two.up.received.map(x => x.target), ['/plain/200?a=1&b=two', '/plain/300?a=1&b=two', '/plain/400?a=1&b=two', '/plain/500?a=1&b=two', '/plain/599?a=1&b=two'])
  const after_ = await metrics()
  const d = (outcome: string) => m(after_, 'gw_upstream_requests_total', { upstream: 'two', outcome }) - m(before, 'gw_upstream_requests_total', { upstream: 'two', outcome })
  assert.deepEqual({ '2xx': d('2xx'), '3xx': d('3xx'), '4xx': d('4xx'), '5xx': d('5xx') }, { '2xx': 1, '3xx': 1, '4xx': 1, '5xx': 2 })
  assert.equal(m(after_, 'gw_upstream_dispatched_total', { upstream: 'two' }) - m(before, 'gw_upstream_dispatched_total', { upstream: 'two' }), 5)
  assert.equal(m(after_, 'gw_upstream_in_flight_requests', { upstream: 'two' }), 0)
})

test('a retryable 5xx on the last attempt reaches the client exactly as the upstream sent it (status, headers, body)', async () => {
  reset(two)
  for (const status of [502, 503, 504]) {
    reset(two)
    two.queue.push({ kind: 'answer', status, headers: [['x-attempt', 'first']], body: 'first' },
      { kind: 'answer', status, headers: [['x-attempt', 'second'], ['content-type', 'text/plain']], body: `second-${status}` })
    const r = await send(['GET /retry/x HTTP/1.1'])
    assert.equal(r.status, status)
    assert.equal(r.text, `second-${status}`)
    assert.equal(r.header('x-attempt'), 'second')
    assert.deepEqual(two.up.counts(), { r0: 1, r1: 1 }, 'one attempt per replica')
  }
  // a 500 is the upstream's answer, not "this replica could not serve it": not retried
  reset(two)
  two.queue.push({ kind: 'answer', status: 500, body: 'five hundred' })
  const r = await send(['GET /retry/y HTTP/1.1'])
  assert.equal(r.status, 500)
  assert.equal(r.text, 'five hundred')
  assert.equal(two.up.received.length, 1)
})

test('a retry after a 503 goes to the other replica, resends the same request and body, and is counted', async () => {
  reset(two)
  const before = await metrics()
  two.queue.push({ kind: 'answer', status: 503, body: 'busy' })
  const r = await send(['PUT /retry/item?v=3 HTTP/1.1', 'Content-Type: application/json'], '{"put":1}')
  assert.equal(r.status, 200)
  assert.deepEqual(two.up.counts(), { r0: 1, r1: 1 })
  const [a, b] = two.up.received
  assert.notEqual(a.name, b.name)
  assert.equal(JSON.parse(r.text).replica, b.name, 'the answer is the second replica\'s')
  for (const x of [a, b]) {
    assert.equal(x.target, '/retry/item?v=3')
    assert.equal(x.method, 'PUT')
    assert.equal(x.body.toString(), '{"put":1}')
  }
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_retries_total', { upstream: 'two' }) - m(before, 'gw_upstream_retries_total', { upstream: 'two' }), 1)
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'two', outcome: '5xx' }) - m(before, 'gw_upstream_requests_total', { upstream: 'two', outcome: '5xx' }), 1)
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'two', outcome: '2xx' }) - m(before, 'gw_upstream_requests_total', { upstream: 'two', outcome: '2xx' }), 1)
})

test('a POST is retried only on an all_methods route; a reset GET is retried, then 502 when no replica is left', async () => {
  reset(two)
  two.queue.push({ kind: 'answer', status: 502 })
  assert.equal((await send(['POST /allm/pay HTTP/1.1'], '{"n":1}')).status, 200)
  assert.equal(two.up.received.length, 2, 'all_methods: the POST is retried')
  reset(two)
  two.queue.push({ kind: 'answer', status: 502, body: 'bad' })
  const r = await send(['POST /retry/pay HTTP/1.1'], '{"n":2}')
  assert.equal(r.status, 502)
  assert.equal(r.text, 'bad', 'the upstream\'s own 502, passed on')
  assert.equal(two.up.received.length, 1, 'the default (idempotent_only): a POST is not retried')
  reset(two)
  two.queue.push({ kind: 'reset' }, { kind: 'reset' }, { kind: 'answer' })
  const g = await send(['GET /retry/z HTTP/1.1'])
  assertGatewayError(g, 502, 'bad_gateway')
  assert.deepEqual(two.up.counts(), { r0: 1, r1: 1 }, 'retry 1: two attempts, one per replica')
})

test('a connection refused is retried on the next replica whatever the method (nothing was sent)', async () => {
  reset(one)
  const before = await metrics()
  for (let i = 0; i < 2; i++) { // one of the two first attempts meets the refusing replica
    const r = await send(['POST /mixed/pay HTTP/1.1'], `{"i":${i}}`)
    assert.equal(r.status, 200, r.text)
  }
  assert.deepEqual(one.up.received.map(x => x.body.toString()), ['{"i":0}', '{"i":1}'], 'each POST ran once, on the live replica')
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'mixed', outcome: 'connect_error' }) - m(before, 'gw_upstream_requests_total', { upstream: 'mixed', outcome: 'connect_error' }), 1)
  assert.equal(m(after_, 'gw_upstream_retries_total', { upstream: 'mixed' }) - m(before, 'gw_upstream_retries_total', { upstream: 'mixed' }), 1)
})

test('per_try: a stalled attempt is cut at per_try and retried on the other replica, well within the route timeout', async () => {
  // A kept-alive connection to each replica first (round robin on `two`), so that neither attempt waits for a
  // connect that a loaded machine could stretch past the 150 ms per_try.
  reset(two)
  for (let i = 0; i < 2; i++) assert.equal((await send(['GET /plain/warm HTTP/1.1'])).status, 200)
  reset(two)
  two.queue.push({ kind: 'stall' })
  const t0 = performance.now()
  const r = await send(['GET /pertry/a HTTP/1.1'])
  const ms = performance.now() - t0
  assert.equal(r.status, 200)
  assert.deepEqual(two.up.counts(), { r0: 1, r1: 1 })
  // Measured from the client's send, which precedes the first attempt's dispatch: the retry cannot reach a
  // replica before t0 + per_try, however late the first replica read its request.
  assert.ok(two.at[1] - t0 >= 149, `retried ${Math.round(two.at[1] - t0)} ms after the request was sent: per_try is 150 ms`)
  assert.ok(ms < 2000, `answered after ${Math.round(ms)} ms: before the route timeout (2 s)`)
})

test('the route deadline ends the request with 504 upstream_timeout and no retry, even with attempts left', async () => {
  reset(two)
  two.queue.push({ kind: 'stall' }, { kind: 'stall' })
  const before = await metrics()
  const t0 = performance.now()
  const r = await send(['GET /total/a HTTP/1.1'])
  const ms = performance.now() - t0
  assertGatewayError(r, 504, 'upstream_timeout')
  assert.equal(two.up.received.length, 1, 'no per_try: the attempt ran into the route timeout (250 ms), so no retry')
  assert.ok(ms >= 240, `504 after ${Math.round(ms)} ms`)
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'two', outcome: 'timeout' }) - m(before, 'gw_upstream_requests_total', { upstream: 'two', outcome: 'timeout' }), 1)
})

test('backoff: the retry waits between half and one and a half times the backoff', async () => {
  reset(two)
  two.queue.push({ kind: 'answer', status: 503 })
  const r = await send(['GET /backoff/a HTTP/1.1'])
  assert.equal(r.status, 200)
  const gap = two.at[1] - two.at[0]
  assert.ok(gap >= 145, `retried after ${Math.round(gap)} ms (backoff 300 ms × 0.5–1.5)`)
})

test('max_body: a Content-Length at the limit is forwarded, one byte over gets 413 without reaching the upstream', async () => {
  for (const path of ['/plain/b', '/retry/b']) { // streamed, and buffered for a retry
    reset(two)
    const ok = await send([`POST ${path} HTTP/1.1`], 'x'.repeat(1024))
    assert.equal(ok.status, 200, path)
    assert.equal(two.up.received[0].body.length, 1024)
    reset(two)
    const big = await send([`POST ${path} HTTP/1.1`], 'x'.repeat(1025))
    assertGatewayError(big, 413, 'payload_too_large')
    assert.equal(two.up.received.length, 0, `${path}: nothing sent upstream`)
  }
})

test('a request queued for the only pooled connection gets 503 pool_exhausted (Retry-After: 1) at its deadline, not charged to the replica', async () => {
  reset(one)
  one.queue.push({ kind: 'stall' })
  const before = await metrics()
  const holder = send(['GET /hold/a HTTP/1.1']) // takes the connection until its 1.5 s deadline (well past the queued one's 300 ms, even when the replica reads it late)
  while (one.up.received.length === 0) await new Promise(r => setTimeout(r, 5))
  const r = await send(['GET /pool/b HTTP/1.1'])
  assertGatewayError(r, 503, 'upstream_pool_exhausted')
  assert.equal(r.header('retry-after'), '1')
  assertGatewayError(await holder, 504, 'upstream_timeout')
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'one', outcome: 'pool_exhausted' }) - m(before, 'gw_upstream_requests_total', { upstream: 'one', outcome: 'pool_exhausted' }), 1)
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'one', outcome: 'timeout' }) - m(before, 'gw_upstream_requests_total', { upstream: 'one', outcome: 'timeout' }), 1, 'only the holder\'s attempt is a timeout')
})

test('split: an upstream at its bulkhead hands the request to the next before sending; a retry goes to the upstream not tried yet', async () => {
  reset(sa, sb)
  const before = await metrics()
  // a stalled request holds sa's only bulkhead slot until its 1.2 s deadline (room for a replica that reads it late)
  sa.queue.push({ kind: 'stall' })
  const holder = send(['GET /nsplit/hold HTTP/1.1'])
  while (sa.up.received.length === 0) await new Promise(r => setTimeout(r, 5))
  const r = await send(['GET /nsplit/next HTTP/1.1'])
  assert.equal(r.status, 200)
  assert.equal(JSON.parse(r.text).replica, 'r0')
  assert.equal(sb.up.received.length, 1, 'served by sb')
  assert.equal(sa.up.received.length, 1, 'never sent to sa')
  assertGatewayError(await holder, 504, 'upstream_timeout')
  // retry on the split: sa answers 503, the retry goes to sb
  reset(sa, sb)
  sa.queue.push({ kind: 'answer', status: 503 })
  const s = await send(['GET /split/x HTTP/1.1'])
  assert.equal(s.status, 200)
  assert.deepEqual([sa.up.received.length, sb.up.received.length], [1, 1])
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_failovers_total', { from: 'sa', to: 'sb' }) - m(before, 'gw_upstream_failovers_total', { from: 'sa', to: 'sb' }), 2)
  assert.equal(m(after_, 'gw_upstream_failovers_total', { from: 'sb', to: 'sa' }) - m(before, 'gw_upstream_failovers_total', { from: 'sb', to: 'sa' }), 0)
  // the slot was given back each time: sa takes requests again
  reset(sa, sb)
  assert.equal((await send(['GET /nsplit/again HTTP/1.1'])).status, 200)
  assert.deepEqual([sa.up.received.length, sb.up.received.length], [1, 0])
})

test('a retryable body still arriving at the route deadline: 504 upstream_timeout at the deadline, nothing sent upstream', async () => {
  reset(two)
  const c = await WireConnection.open(gw.running.address.port)
  try {
    const t0 = performance.now()
    // PUT is retryable and its 100-byte body is buffered before the first attempt; only half of it comes
    const r = await c.send(req('PUT /bufslow/a HTTP/1.1', 'Host: shop.test', 'Content-Length: 100') + 'x'.repeat(50), { timeoutMs: 3000 })
    const ms = performance.now() - t0
    assertGatewayError(r, 504, 'upstream_timeout')
    assert.ok(ms >= 250, `504 after ${Math.round(ms)} ms (route timeout 300 ms)`)
  } finally { c.close() }
  assert.equal(two.up.received.length, 0)
})

test('a streamed body the upstream has read is not sent again: a chunked POST answered 503 on an all_methods route runs once', async () => {
  reset(two)
  two.queue.push({ kind: 'answer', status: 503, body: 'read it' })
  const body = '5\r\nhello\r\n0\r\n\r\n'
  const r = await wireExchange(gw.running.address.port, req('POST /allm/chunked HTTP/1.1', 'Host: shop.test', 'Transfer-Encoding: chunked') + body, { timeoutMs: 3000 })
  assert.equal(r.status, 503)
  assert.equal(r.text, 'read it')
  assert.equal(two.up.received.length, 1)
  assert.equal(two.up.received[0].body.toString(), 'hello')
})

test('a response cut mid-body reaches the client cut (its connection closed), never followed by a retry or a gateway error', async () => {
  reset(two)
  const before = await metrics()
  two.queue.push({ kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial', close: true })
  const c = await WireConnection.open(gw.running.address.port)
  try {
    await c.write(req('GET /retry/cut HTTP/1.1', 'Host: shop.test'))
    const r = await c.read({ head: true, timeoutMs: 3000 })
    assert.equal(r.status, 200)
    await Promise.race([c.closed, new Promise((_, rej) => setTimeout(() => rej(new Error('the client connection stayed open')), 3000))])
    assert.ok(!c.unread().toString('latin1').includes('HTTP/1.1'), 'no second response')
  } finally { c.close() }
  assert.equal(two.up.received.length, 1, 'not retried: the client already has the head')
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'two', outcome: 'reset' }) - m(before, 'gw_upstream_requests_total', { upstream: 'two', outcome: 'reset' }), 1)
})
