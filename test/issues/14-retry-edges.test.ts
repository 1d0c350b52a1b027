// Issue 14, survivors 4, 6 and 8: what a retrying route does at its edges, counted per replica on a recording
// upstream. Every attempt hitting per_try is a timeout (504 upstream_timeout), not a connection failure; an
// `idempotent_only` route never retries a POST, Idempotency-Key or not; a POST whose connection was reset after
// it was written may have run, so it is never sent to another replica (a request that was never written may
// be: the stale-socket and connection-refused tests cover that side).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange, type WireResponse } from '../helpers/wire.js'

let stalls: RecordingUpstream
let fails: RecordingUpstream
let resets: RecordingUpstream
let gw: TestGateway

/** Answers the warm-up (which opens a kept-alive connection to the replica), stalls anything else. */
const stallUnlessWarm = { behaviour: (r: { target: string }) => r.target.endsWith('/warm') ? { kind: 'answer' as const } : { kind: 'stall' as const } }

before(async () => {
  ;[stalls, fails, resets] = await Promise.all([
    startRecordingUpstream([stallUnlessWarm, stallUnlessWarm]),
    startRecordingUpstream([{ behaviour: { kind: 'answer', status: 503 } }, { behaviour: { kind: 'answer', status: 503 } }]),
    startRecordingUpstream([{ behaviour: { kind: 'reset' } }, { behaviour: { kind: 'reset' } }, { behaviour: { kind: 'reset' } }]),
  ])
  // Passive ejection is out of reach and there is no breaker: which replicas are tried is the retry's doing.
  gw = await startGateway(`
upstream stalls { replicas ${stalls.addrs}; health passive eject_after 1000 }
upstream fails { replicas ${fails.addrs}; health passive eject_after 1000 }
upstream resets { replicas ${resets.addrs}; health passive eject_after 1000 }
route pertry { match path prefix "/pertry"; timeout 3s; retry 1 per_try 250ms no_budget; proxy stalls }
route idem { match path prefix "/idem"; timeout 2s; retry 1 idempotent_only no_budget; proxy fails }
route keyed { match path prefix "/keyed"; timeout 2s; retry 1 idempotency_key no_budget; proxy fails }
route resets { match path prefix "/resets"; timeout 2s; retry 2 no_budget; proxy resets }
route resets_keyed { match path prefix "/rkeyed"; timeout 2s; retry 2 idempotency_key no_budget; proxy resets }
`)
})
after(async () => { await gw?.close(); await Promise.all([stalls?.close(), fails?.close(), resets?.close()]) })

const send = (lines: string[], body = ''): Promise<WireResponse> =>
  wireExchange(gw.running.address.port, req(...lines, 'Host: shop.test', ...(body === '' ? [] : [`Content-Length: ${body.length}`])) + body)

/** The gateway's own error answer: status, JSON body naming the error and the request id of the header. */
function assertGatewayError(r: WireResponse, status: number, error: string): void {
  assert.equal(r.status, status, `${r.head}\n\n${r.text}`)
  assert.equal(r.header('content-type'), 'application/json')
  assert.deepEqual(JSON.parse(r.text), { error, request_id: r.header('x-request-id') })
}

test('every attempt hitting per_try: 504 upstream_timeout after both tries, each replica asked once', async () => {
  // Each replica's connection is opened first (round robin: one warm-up per replica), so that each attempt
  // writes its request at once: a connect on a loaded machine could outlast the per_try, and the
  // replica would then never see the attempt it is counted for. Even so, a replica that reads its request
  // only after the per_try has cut the connection (a loaded process runs its timers before it polls) loses
  // it: such a round says nothing about the count and is run again; the answer is checked in every round.
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < stalls.replicas.length; i++) assert.equal((await send(['GET /pertry/warm HTTP/1.1'])).status, 200)
    stalls.reset()
    const t0 = performance.now()
    const r = await send(['GET /pertry/a HTTP/1.1'])
    const ms = performance.now() - t0
    assertGatewayError(r, 504, 'upstream_timeout')
    assert.ok(ms >= 475 && ms < 2900, `answered after ${Math.round(ms)} ms: two tries of 250 ms, before the 3 s route timeout (a loose bound: the machine is shared)`)
    const counts = stalls.counts()
    if (counts.r0 === 1 && counts.r1 === 1) return
    assert.ok(counts.r0 <= 1 && counts.r1 <= 1, `at most one attempt per replica: ${JSON.stringify(counts)}`)
  }
  assert.fail('in 5 rounds the two replicas never both read their attempt: one attempt per replica')
})

test('idempotent_only: a POST is not retried, with or without an Idempotency-Key; a GET is', async () => {
  for (const key of [[], ['Idempotency-Key: k-1']]) {
    fails.reset()
    const r = await send(['POST /idem/pay HTTP/1.1', ...key], '{"amount":1}')
    assert.equal(r.status, 503, 'the upstream\'s own answer, passed through')
    assert.equal(fails.received.length, 1, `POST ${key.join('') || 'without a key'} ran ${fails.received.length} times`)
  }
  fails.reset()
  assert.equal((await send(['GET /idem/x HTTP/1.1'])).status, 503)
  assert.deepEqual(fails.counts(), { r0: 1, r1: 1 }, 'a GET is retried on the other replica')
})

test('idempotency_key: a POST carrying a key is retried on the other replica, one without is not', async () => {
  fails.reset()
  assert.equal((await send(['POST /keyed/pay HTTP/1.1', 'Idempotency-Key: k-2'], '{"amount":2}')).status, 503)
  assert.deepEqual(fails.counts(), { r0: 1, r1: 1 })
  assert.ok(fails.received.every(x => x.body.toString() === '{"amount":2}' && x.header('idempotency-key') === 'k-2'), 'the retry resends the same body and key')
  fails.reset()
  assert.equal((await send(['POST /keyed/pay HTTP/1.1'], '{"amount":3}')).status, 503)
  assert.equal(fails.received.length, 1)
})

test('a POST reset after it was written runs once: 502, never resent to another replica (with a body or without)', async () => {
  // a body already streamed upstream cannot be sent again anyway; a bodyless POST (POST /orders/7/cancel) could
  for (const body of ['{"n":1}', '', '{"n":2}', '', '{"n":3}', '']) { // the first attempt starts on each replica in turn
    resets.reset()
    const r = await send(['POST /resets/pay HTTP/1.1', ...(body === '' ? ['Content-Length: 0'] : [])], body)
    assertGatewayError(r, 502, 'bad_gateway')
    assert.equal(resets.received.length, 1, `POST ${body || '(no body)'}: executions per replica ${JSON.stringify(resets.counts())}`)
    assert.ok(resets.received[0].complete, 'the replica had the whole request before the reset')
  }
})

test('the same reset is retried for a GET and for a keyed POST on an idempotency_key route: once per replica', async () => {
  for (const lines of [['GET /resets/x HTTP/1.1'], ['POST /rkeyed/pay HTTP/1.1', 'Idempotency-Key: k-3']]) {
    resets.reset()
    assertGatewayError(await send(lines, lines[0].startsWith('POST') ? '{}' : ''), 502, 'bad_gateway')
    assert.deepEqual(resets.counts(), { r0: 1, r1: 1, r2: 1 }, lines[0])
  }
})
