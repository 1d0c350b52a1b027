// Issue 14 (mutation target, upstream area), exchange.ts: the route deadline at its exact edges, on a clock the
// test holds still. The gateway runs in this process and reads time with performance.now() (the request's
// deadline, each attempt's remaining time, the retry decision), so the test replaces performance.now with a
// clock that stands still and moves only when told, while Node timers (a retry's backoff, a deadline under two
// wheel ticks) keep running on real time. That makes the boundaries exact:
// - a retry whose backoff ends at or after the route deadline is not sent (remaining time 0 or less);
// - a deadline that is the route's (per_try equal to the time left counts as the route's) ends the request with
//   504 even when its timer ran while the clock still showed time left (a Node timer can run up to a
//   millisecond or more before performance.now() reaches its due time): no retry goes out after it.
import assert from 'node:assert/strict'
import { after, afterEach, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange, type WireResponse } from '../helpers/wire.js'

const realNow = performance.now.bind(performance)
/** The still clock: null = real time. */
let still: number | null = null
performance.now = () => still ?? realNow()

let late: RecordingUpstream, edge: RecordingUpstream, pt: RecordingUpstream
let gw: TestGateway
/** Where pt's r0 sets the still clock when it reads the request (before it answers 503). */
let ptMoveTo = 0

/** r0 and r1 fail what they are asked to fail, and answer anything else (the warm-up that opens their connections). */
const failOnPath = { behaviour: (r: { target: string }) => r.target.includes('fail') ? { kind: 'answer' as const, status: 503 } : { kind: 'answer' as const } }

before(async () => {
  ;[late, edge, pt] = await Promise.all([
    startRecordingUpstream([failOnPath, failOnPath]),
    startRecordingUpstream([failOnPath, failOnPath]),
    startRecordingUpstream([
      { behaviour: r => { if (!r.target.includes('go')) return { kind: 'answer' }; still = ptMoveTo; return { kind: 'answer', status: 503 } } },
      { behaviour: r => r.target.includes('go') ? { kind: 'stall' } : { kind: 'answer' } },
      {},
    ]),
  ])
  gw = await startGateway(`
upstream late { replicas ${late.addrs}; health passive eject_after 1000 }
upstream edge { replicas ${edge.addrs}; health passive eject_after 1000 }
upstream pt { replicas ${pt.addrs}; health passive eject_after 1000 }
route late { match path prefix "/late"; timeout 1s; retry 1 no_budget backoff 60s; proxy late }
route edge { match path prefix "/edge"; timeout 1s; retry 1 no_budget backoff 60s; proxy edge }
route pt   { match path prefix "/pt"; timeout 45ms; retry 2 no_budget per_try 15ms; proxy pt }
`)
})
afterEach(() => { still = null })
after(async () => { still = null; await gw?.close(); await Promise.all([late, edge, pt].map(u => u?.close())) })

const send = (path: string): Promise<WireResponse> => wireExchange(gw.running.address.port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test'), { timeoutMs: 5000 })
const retries = async (up: string) => metric(await (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text(), 'gw_upstream_retries_total', { upstream: up }) ?? 0

/** Opens a kept-alive connection to each replica (round robin, first attempts only: the next one starts at r0
 *  again), so that an attempt writes its request at once instead of waiting for a connect that its timer may
 *  cut short, and forgets those requests. */
async function warm(up: RecordingUpstream, name: string): Promise<void> {
  for (let i = 0; i < up.replicas.length; i++) await send(`/${name}/warm`)
  up.reset()
}

/** Sends a request that fails on r0 with the clock still at t0, waits until its retry is scheduled (the backoff
 *  is cut to the 1000 ms left, on real time), then sets the clock to t0 + `at` before the backoff ends. */
async function retryAt(up: RecordingUpstream, name: string, at: number): Promise<WireResponse> {
  await warm(up, name)
  const t0 = realNow()
  still = t0
  const before_ = await retries(name)
  const r = send(`/${name}/fail`)
  for (let i = 0; (await retries(name)) === before_; i++) {
    if (i > 100) assert.fail('the retry was never scheduled')
    await new Promise(res => setTimeout(res, 2))
  }
  still = t0 + at // the request's deadline is t0 + 1000, computed the same way
  const res = await r
  assert.deepEqual(up.counts(), { r0: 1, r1: 0 }, 'the retry was not sent')
  return res
}

test('a retry whose backoff ends after the route deadline is not sent: 504', async () => {
  const r = await retryAt(late, 'late', 1100)
  assert.equal(r.status, 504)
  assert.equal(JSON.parse(r.text).error, 'upstream_timeout')
})

test('a retry whose backoff ends exactly at the route deadline is not sent either: no time is left', async () => {
  const r = await retryAt(edge, 'edge', 1000)
  assert.equal(r.status, 504)
  assert.equal(JSON.parse(r.text).error, 'upstream_timeout')
})

test('per_try equal to the time left is the route deadline: when it fires, no retry follows, even if the clock still shows time', async () => {
  // r0 must answer its 503 within its own per_try (15 ms of real time, on a machine that may be loaded): a
  // round where its timer won the race is not this case, and is run again
  const outcomes = async () => {
    const text = await (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
    return { fivexx: metric(text, 'gw_upstream_requests_total', { upstream: 'pt', outcome: '5xx' }) ?? 0 }
  }
  // First attempts move the round-robin cursor, retries do not: each round's request must start on r0, so after
  // the warm-up (one per replica) as many more warm-ups are sent as line the cursor up on r0 again (a round
  // started on r2, whose answer lost the race with its per_try on a loaded machine, then retried to r0 and r1).
  let firsts = 0
  for (let round = 0; round < 20; round++) {
    still = null
    await warm(pt, 'pt')
    firsts += pt.replicas.length
    while (firsts % pt.replicas.length !== 0) { await send('/pt/warm'); firsts++ }
    pt.reset()
    const before_ = await outcomes()
    const t0 = realNow()
    still = t0
    ptMoveTo = t0 + 30 // r0 fails at t0 + 30: the retry to r1 has exactly 15 ms left, per_try is 15 ms
    const r = await send('/pt/go') // r1 stalls; its 15 ms Node timer fires on real time while the clock stays at t0 + 30
    firsts++
    if ((await outcomes()).fivexx - before_.fivexx !== 1) continue
    assert.equal(r.status, 504)
    assert.equal(JSON.parse(r.text).error, 'upstream_timeout')
    assert.deepEqual(pt.counts(), { r0: 1, r1: 1, r2: 0 })
    return
  }
  assert.fail('in 20 rounds r0\'s answer never arrived within its 15 ms per_try')
})
