// Issue 14 (mutation target, upstream area), exchange.ts: a request remembers the replicas it tried in a 31-bit
// mask (replica indexes 0 … 30; the balancer treats replicas past index 30 as never tried). The last tracked
// index, 30, is not retried by the same request; and a replica past index 30 marks nothing, so after it failed
// the retry may go to replica 0 (1 << 32 would be 1 << 0 in JavaScript: replica 0 would look tried).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange, type WireResponse } from '../helpers/wire.js'

let u31: RecordingUpstream, u33: RecordingUpstream
let gw: TestGateway

const failOnHeader = (r: { header(n: string): string | undefined }) => r.header('x-fail') !== undefined ? { kind: 'answer' as const, status: 503 } : { kind: 'answer' as const }

before(async () => {
  ;[u31, u33] = await Promise.all([
    // r0 … r29 always fail; r30 fails when asked to
    startRecordingUpstream(Array.from({ length: 31 }, (_, i) => i < 30 ? { behaviour: { kind: 'answer' as const, status: 503 } } : { behaviour: failOnHeader })),
    startRecordingUpstream(Array.from({ length: 33 }, () => ({ behaviour: failOnHeader }))),
  ])
  gw = await startGateway(`
upstream u31 { replicas ${u31.addrs}; health passive eject_after 2 errors for 60s }
upstream u33 { replicas ${u33.addrs}; health passive eject_after 1000 }
route e31 { match path prefix "/e31"; timeout 2s; proxy u31 }
route r31 { match path prefix "/r31"; timeout 2s; retry 1 no_budget; proxy u31 }
route a33 { match path prefix "/a33"; timeout 2s; proxy u33 }
route r33 { match path prefix "/r33"; timeout 2s; retry 1 no_budget; proxy u33 }
`)
})
after(async () => { await gw?.close(); await Promise.all([u31, u33].map(u => u?.close())) })

const send = (lines: string[]): Promise<WireResponse> => wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test'), { timeoutMs: 3000 })

test('replica index 30, the last one the mask tracks, is not tried twice by one request', async () => {
  // round robin over 31 replicas, twice: r0 … r29 fail twice in a row and are ejected, r30 answers
  for (let i = 0; i < 62; i++) await send([`GET /e31/${i} HTTP/1.1`])
  assert.equal(u31.replicas[30].received.length, 2)
  u31.reset()
  const r = await send(['GET /r31/x HTTP/1.1', 'X-Fail: 1'])
  assert.equal(r.status, 503)
  assert.deepEqual(u31.counts(), { ...Object.fromEntries(u31.replicas.map(x => [x.name, 0])), r30: 1 }, 'r30 failed, and no other replica is in rotation: no retry')
})

test('a replica past index 30 marks nothing: after it failed, the retry goes to replica 0', async () => {
  for (let i = 0; i < 32; i++) assert.equal((await send([`GET /a33/${i} HTTP/1.1`])).status, 200) // r0 … r31: the next first attempt goes to r32
  u33.reset()
  const r = await send(['GET /r33/x HTTP/1.1', 'X-Fail: 1'])
  assert.equal(r.status, 503)
  assert.deepEqual(u33.received.map(x => x.name), ['r32', 'r0'])
})
