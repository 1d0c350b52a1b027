// Issue 14 (mutation target, upstream area), exchange.ts: how a retry that does not happen ends.
// - A retryable 5xx is held back while its body arrives; when the upstream cuts that body short and no other
//   replica is left, the client gets the gateway's 502, never the held 503 with a truncated body.
// - A client that goes away while its request waits out a retry's backoff gives its bulkhead slot back at once
//   (with a streamed body as with a buffered one), not when the backoff timer runs: the request is over.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange, type WireResponse } from '../helpers/wire.js'

let cut: RecordingUpstream, bk: RecordingUpstream
let gw: TestGateway

before(async () => {
  ;[cut, bk] = await Promise.all([
    startRecordingUpstream([{ behaviour: { kind: 'raw', bytes: 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\nabcde', close: true } }]),
    startRecordingUpstream(Array.from({ length: 2 }, () => ({ behaviour: (r: { target: string }) => r.target.includes('fail') ? { kind: 'answer' as const, status: 503 } : { kind: 'answer' as const } }))),
  ])
  gw = await startGateway(`
upstream cut { replicas ${cut.addrs}; health passive eject_after 1000 }
upstream bk { replicas ${bk.addrs}; health passive eject_after 1000; bulkhead max_in_flight 1 }
route cut { match path prefix "/cut"; timeout 2s; retry 1 no_budget; proxy cut }
route bk  { match path prefix "/bk"; timeout 60s; retry 1 no_budget backoff 20s; proxy bk }
`)
})
after(async () => { await gw?.close(); await Promise.all([cut, bk].map(u => u?.close())) })

const send = (lines: string[], body = ''): Promise<WireResponse> =>
  wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test', ...(body === '' ? [] : [`Content-Length: ${body.length}`])) + body, { timeoutMs: 3000 })
const metrics = async () => (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
const m = (text: string, name: string, labels: Record<string, string>) => metric(text, name, labels) ?? 0

test('a held 503 whose body is cut short, with no replica left to retry on: the client gets 502 bad_gateway', async () => {
  const before_ = await metrics()
  const r = await send(['GET /cut/x HTTP/1.1'])
  assert.equal(r.status, 502, r.head)
  assert.equal(JSON.parse(r.text).error, 'bad_gateway')
  const after_ = await metrics()
  assert.equal(m(after_, 'gw_upstream_requests_total', { upstream: 'cut', outcome: 'reset' }) - m(before_, 'gw_upstream_requests_total', { upstream: 'cut', outcome: 'reset' }), 1)
})

for (const [kind, lines, body] of [
  ['a PUT whose body was buffered', ['PUT /bk/fail HTTP/1.1', 'Content-Length: 5'], 'hello'],
  ['a GET (nothing buffered)', ['GET /bk/fail HTTP/1.1'], ''],
] as const) {
  test(`${kind}: a client that leaves during the retry's backoff gives its bulkhead slot back at once`, async () => {
    const retried = m(await metrics(), 'gw_upstream_retries_total', { upstream: 'bk' })
    const c = await WireConnection.open(gw.running.address.port)
    await c.write(req(...lines, 'Host: shop.test') + body)
    for (let i = 0; m(await metrics(), 'gw_upstream_retries_total', { upstream: 'bk' }) === retried; i++) {
      if (i > 300) assert.fail('the retry was never scheduled')
      await new Promise(r => setTimeout(r, 10))
    }
    // the backoff is 10 to 30 s: the slot is still held by the request waiting it out
    assert.equal((await send(['GET /bk/ok HTTP/1.1'])).status, 503, 'bulkhead full during the backoff')
    c.close()
    const t0 = Date.now()
    for (;;) {
      const r = await send(['GET /bk/ok HTTP/1.1'])
      if (r.status === 200) break
      assert.equal(JSON.parse(r.text).error, 'upstream_unavailable')
      assert.ok(Date.now() - t0 < 3000, 'the slot came back within 3 s of the client leaving (the backoff runs 10 s or more)')
      await new Promise(res => setTimeout(res, 20))
    }
  })
}
