// test/issues/14-exchange-buffering.test.ts: which request bodies runtime/upstream/exchange.ts collects before the
// first attempt so that a retry can send them again: a retryable request whose Content-Length is at most
// RETRY_BUFFER_MAX (64 KiB) is buffered and replayed whole on the next replica after a 503; one byte more and it
// is streamed, so once the upstream has read it no retry is possible and the 503 is the answer. A body that
// cannot be retried is never held back: the upstream gets the head while the body still arrives. A body being
// collected when the route deadline passes (504) is dropped, never sent upstream when it completes later; a
// client that leaves while its body is collected gives its bulkhead slot back at once. The mutation run (area
// upstream) found these unpinned. Replicas answer from a shared queue, so the order of attempts does not
// depend on the balancer's cursor.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { RETRY_BUFFER_MAX } from '../../runtime/upstream/retry.js'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type Behaviour, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange } from '../helpers/wire.js'
import { waitFor } from '../runtime/fixtures.js'

let up: RecordingUpstream
let solo: RecordingUpstream
const queue: Behaviour[] = []
let gw: TestGateway

before(async () => {
  const script = (): Behaviour => queue.shift() ?? { kind: 'answer' }
  ;[up, solo] = await Promise.all([startRecordingUpstream([{ behaviour: script }, { behaviour: script }]), startRecordingUpstream(1)])
  gw = await startGateway(`
upstream two { replicas ${up.addrs}; health passive eject_after 1000 }
upstream solo { replicas ${solo.addrs}; bulkhead max_in_flight 1 }
route retry { match path prefix "/retry"; timeout 3s; max_body 1MB; retry 1 no_budget; proxy two }
route plain { match path prefix "/plain"; timeout 3s; proxy two }
route slowbuf { match path prefix "/slowbuf"; timeout 300ms; retry 1 no_budget; proxy two }
route held { match path prefix "/held"; timeout 3s; retry 1 no_budget; proxy solo }
`)
})
after(async () => { await gw?.close(); await up?.close(); await solo?.close() })

const put = (size: number) => wireExchange(gw.running.address.port,
  Buffer.concat([Buffer.from(req('PUT /retry/blob HTTP/1.1', 'Host: shop.test', `Content-Length: ${size}`)), Buffer.alloc(size, 0x61)]), { timeoutMs: 5000 })

test(`a retryable body of exactly RETRY_BUFFER_MAX (${RETRY_BUFFER_MAX}) bytes is buffered: after a 503 the next replica gets it whole`, async () => {
  up.reset()
  queue.length = 0
  queue.push({ kind: 'answer', status: 503, body: 'busy' })
  const r = await put(RETRY_BUFFER_MAX)
  assert.equal(r.status, 200, r.head)
  assert.deepEqual(up.received.map(x => [x.body.length, x.complete]), [[RETRY_BUFFER_MAX, true], [RETRY_BUFFER_MAX, true]])
  assert.notEqual(up.received[0].name, up.received[1].name, 'retried on the other replica')
})

test('one byte more is streamed: the upstream read it, so the 503 is the answer and nothing is sent again', async () => {
  up.reset()
  queue.length = 0
  queue.push({ kind: 'answer', status: 503, body: 'busy' })
  const r = await put(RETRY_BUFFER_MAX + 1)
  assert.equal(r.status, 503, r.head)
  assert.equal(r.text, 'busy')
  assert.deepEqual(up.received.map(x => x.body.length), [RETRY_BUFFER_MAX + 1])
})

test('a body that cannot be retried is streamed: the upstream gets the request while the body is still arriving', async () => {
  up.reset()
  queue.length = 0
  for (const [method, path] of [['POST', '/plain/a'], ['PUT', '/plain/b'], ['POST', '/retry/c']]) { // no retry; no retry; POST not retryable
    up.reset()
    const c = await WireConnection.open(gw.running.address.port)
    try {
      await c.write(req(`${method} ${path} HTTP/1.1`, 'Host: shop.test', 'Content-Length: 10') + 'half-')
      await waitFor(() => up.received.length === 1, 2000, `${method} ${path}: the upstream gets the head before the body is complete`)
      assert.equal(up.received[0].complete, false)
      const r = await c.send('body!', { timeoutMs: 3000 })
      assert.equal(r.status, 200, r.head)
      assert.equal(up.received[0].body.toString(), 'half-body!')
    } finally { c.close() }
  }
})

test('a body still being collected at the route deadline gets 504 and is dropped: no attempt is made, even when it completes', async () => {
  up.reset()
  queue.length = 0
  const before = await attempts()
  const c = await WireConnection.open(gw.running.address.port)
  try {
    const r = await c.send(req('PUT /slowbuf/a HTTP/1.1', 'Host: shop.test', 'Content-Length: 10') + 'half-', { timeoutMs: 3000 })
    assert.equal(r.status, 504, r.head)
    assert.equal(c.isClosed, false, 'the connection stays open for the rest of the body')
    await c.write('body!') // the rest arrives after the answer
    await new Promise(res => setTimeout(res, 300))
  } finally { c.close() }
  assert.equal(up.received.length, 0, 'nothing sent upstream')
  assert.deepEqual(await attempts(), before, 'no attempt started or counted (none charged to a replica)')
})

/** Attempts of upstream `two` by outcome, from the admin /metrics. */
async function attempts(): Promise<Record<string, number>> {
  const text = await (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
  const out: Record<string, number> = {}
  for (const outcome of ['2xx', '5xx', 'timeout', 'pool_exhausted', 'reset', 'connect_error', 'aborted']) out[outcome] = metric(text, 'gw_upstream_requests_total', { upstream: 'two', outcome }) ?? 0
  return out
}

test('a client that leaves while its body is being collected gives its bulkhead slot back at once', async () => {
  solo.reset()
  const c = await WireConnection.open(gw.running.address.port)
  await c.write(req('PUT /held/a HTTP/1.1', 'Host: shop.test', 'Content-Length: 10') + 'half-')
  await new Promise(res => setTimeout(res, 100))
  c.close()
  await new Promise(res => setTimeout(res, 100))
  // the route deadline (3 s) is far: only the client leaving can have freed the one slot
  const r = await wireExchange(gw.running.address.port, req('GET /held/b HTTP/1.1', 'Host: shop.test'), { timeoutMs: 2000 })
  assert.equal(r.status, 200, `${r.head}\n\n${r.text}`)
  assert.deepEqual(solo.received.map(x => x.target), ['/held/b'])
})
