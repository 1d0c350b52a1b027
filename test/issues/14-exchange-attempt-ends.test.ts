// Issue 14 (mutation target, upstream area), exchange.ts lines 366-433 (Attempt.onError's outcome names): how an
// attempt that ended without a complete answer is judged, as a client, a replica and an operator see it.
// - An attempt that queued for the only pooled connection, then got it and had its request written, and then
//   ran into the route deadline waiting for the answer, is the replica's timeout (504 upstream_timeout, charged),
//   not the pool's limit: it is no longer waiting for a connection when the deadline passes.
// - A chunked body that grows past max_body ends the attempt as the client's doing ('aborted', 413): the replica
//   did nothing wrong and stays in rotation (eject_after 1).
// - A client that leaves in the middle of its upload ends the attempt as 'aborted' on both client engines: not a
//   failure of the replica (eject_after 1 keeps it in rotation), never a 'reset'. On the http1 engine the
//   client's request reports the lost connection to the streamed body before the response's 'close' tells the
//   exchange that the client is gone: that error is the client's, not the replica's.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange, type WireResponse } from '../helpers/wire.js'

let qu: RecordingUpstream, cb: RecordingUpstream
let gw: TestGateway
/** One gateway per client engine, each with its own single replica (eject_after 1). */
const leave: { engine: 'node' | 'http1'; up: RecordingUpstream; gw: TestGateway }[] = []

const gwp = (up: RecordingUpstream) => `
upstream u { replicas ${up.addrs}; health passive eject_after 1 errors for 60s }
route all { match path prefix "/"; timeout 3s; max_body 1KB; proxy u }
`

before(async () => {
  ;[qu, cb] = await Promise.all([
    startRecordingUpstream([{ behaviour: r => r.target.includes('slow') ? { kind: 'answer', delayMs: 150 } : r.target.includes('stall') ? { kind: 'stall' } : { kind: 'answer' } }]),
    startRecordingUpstream(1),
  ])
  gw = await startGateway(`
upstream q { replicas ${qu.addrs}; health passive eject_after 1000; pool connections 1 }
upstream cb { replicas ${cb.addrs}; health passive eject_after 1 errors for 60s }
route q  { match path prefix "/q"; timeout 1500ms; proxy q }
route cb { match path prefix "/cb"; timeout 3s; max_body 1KB; proxy cb }
`)
  for (const engine of ['node', 'http1'] as const) {
    const up = await startRecordingUpstream(1)
    leave.push({ engine, up, gw: await startGateway(gwp(up), { engine }) })
  }
})
after(async () => {
  await Promise.all([gw, ...leave.map(l => l.gw)].map(g => g?.close()))
  await Promise.all([qu, cb, ...leave.map(l => l.up)].map(u => u?.close()))
})

const send = (g: TestGateway, lines: string[]): Promise<WireResponse> =>
  wireExchange(g.running.address.port, req(...lines, 'Host: shop.test'), { timeoutMs: 5000 })
const metrics = async (g: TestGateway) => (await fetch(g.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
const outcomes = async (g: TestGateway, up: string) => {
  const text = await metrics(g)
  const n = (outcome: string) => metric(text, 'gw_upstream_requests_total', { upstream: up, outcome }) ?? 0
  return { aborted: n('aborted'), reset: n('reset'), timeout: n('timeout'), pool_exhausted: n('pool_exhausted'), '2xx': n('2xx') }
}
const gone = (g: TestGateway, up: string) => outcomes(g, up).then(o => o.aborted + o.reset)

function assertGatewayError(r: WireResponse, status: number, error: string): void {
  assert.equal(r.status, status, `${r.head}\n\n${r.text}`)
  assert.deepEqual(JSON.parse(r.text), { error, request_id: r.header('x-request-id') })
}

test('an attempt that queued for the only connection, got it and then ran into the deadline is a timeout (504), not pool_exhausted', async () => {
  qu.reset()
  const before_ = await outcomes(gw, 'q')
  const holder = send(gw, ['GET /q/slow HTTP/1.1']) // holds the only connection for 150 ms, then answers
  while (qu.received.length === 0) await new Promise(r => setTimeout(r, 5))
  const queued = send(gw, ['GET /q/stall HTTP/1.1']) // dispatched while the connection is busy: it queues
  assert.equal((await holder).status, 200)
  const r = await queued
  assertGatewayError(r, 504, 'upstream_timeout')
  assert.deepEqual(qu.received.map(x => x.target), ['/q/slow', '/q/stall'], 'the queued request was written once the connection was free')
  const after_ = await outcomes(gw, 'q')
  assert.equal(after_.timeout - before_.timeout, 1)
  assert.equal(after_.pool_exhausted - before_.pool_exhausted, 0)
})

test('a chunked body past max_body: 413, counted as aborted, and the replica stays in rotation (eject_after 1)', async () => {
  cb.reset()
  const before_ = await outcomes(gw, 'cb')
  const r = await wireExchange(gw.running.address.port,
    req('POST /cb/upload HTTP/1.1', 'Host: shop.test', 'Transfer-Encoding: chunked') + '800\r\n' + 'x'.repeat(2048) + '\r\n0\r\n\r\n', { timeoutMs: 5000 })
  assertGatewayError(r, 413, 'payload_too_large')
  const after_ = await outcomes(gw, 'cb')
  assert.equal(after_.aborted - before_.aborted, 1, JSON.stringify({ before_, after_ }))
  assert.equal(after_.reset - before_.reset, 0)
  assert.equal((await send(gw, ['GET /cb/next HTTP/1.1'])).status, 200, 'the replica was not ejected')
})

test('a client that leaves mid-upload: the attempt is aborted, not a reset, and the replica stays in rotation (both engines)', async () => {
  for (const { engine, up, gw: g } of leave) {
    up.reset()
    const before_ = await outcomes(g, 'u')
    const c = await WireConnection.open(g.running.address.port)
    c.socket.write(req('POST /upload HTTP/1.1', 'Host: shop.test', 'Content-Length: 1000') + 'x'.repeat(100))
    // the attempt is under way: the replica has the head and part of the body
    for (let i = 0; up.received.length === 0; i++) {
      if (i > 1000) assert.fail(`${engine}: the request never reached the replica`)
      await new Promise(r => setTimeout(r, 5))
    }
    c.close()
    const total = before_.aborted + before_.reset
    for (let i = 0; (await gone(g, 'u')) === total; i++) {
      if (i > 300) assert.fail(`${engine}: the attempt never ended`)
      await new Promise(r => setTimeout(r, 10))
    }
    const after_ = await outcomes(g, 'u')
    assert.equal(after_.aborted - before_.aborted, 1, `${engine}: ${JSON.stringify({ before_, after_ })}`)
    assert.equal(after_.reset - before_.reset, 0, `${engine}: the client's leaving is not the replica's reset`)
    assert.equal((await send(g, ['GET /next HTTP/1.1'])).status, 200, `${engine}: the replica was not ejected`)
  }
})
