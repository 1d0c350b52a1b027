// Issue 14, survivor 3: the exact traceparent the upstream receives (W3C Trace Context §3.2): version 00, the
// caller's trace id when its header is valid (a fresh random one otherwise), a new span id for this hop, and
// the flags: the caller's when it sent a valid header, sampled (01) for a trace the gateway starts. A trace
// started here and sent as not sampled (-00) would be dropped by every tracer downstream.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
let gw: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream web { replicas ${up.addrs} }
route all { match path prefix "/"; timeout 2s; proxy web }
`)
})
after(async () => { await gw?.close(); await up?.close() })

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'
const SHAPE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** Sends one request with the extra header lines; returns the traceparent and tracestate values the upstream got. */
async function sent(lines: string[]): Promise<{ tp: string; parts: RegExpExecArray; tracestate: string[] }> {
  up.reset()
  const r = await wireExchange(gw.running.address.port, req('GET /t HTTP/1.1', 'Host: shop.test', ...lines))
  assert.equal(r.status, 200, r.head)
  assert.equal(up.received.length, 1)
  const tps = up.received[0].all('traceparent')
  assert.equal(tps.length, 1, `exactly one traceparent upstream: ${JSON.stringify(tps)}`)
  const parts = SHAPE.exec(tps[0])
  assert.ok(parts !== null, `traceparent ${JSON.stringify(tps[0])} is not version 00 with lower-case hex ids`)
  assert.notEqual(parts[1], '0'.repeat(32), 'the all-zero trace id is invalid')
  assert.notEqual(parts[2], '0'.repeat(16), 'the all-zero span id is invalid')
  return { tp: tps[0], parts, tracestate: up.received[0].all('tracestate') }
}

test('a trace the gateway starts goes upstream sampled: 00-<new trace id>-<new span id>-01', async () => {
  const seen = new Set<string>()
  for (const lines of [[], ['tracestate: vendor=x'], ['traceparent: garbage'], [`traceparent: 00-${TRACE}-${PARENT}-01-extra`], [`traceparent: ff-${TRACE}-${PARENT}-01`]]) {
    const { parts, tracestate } = await sent(lines)
    assert.equal(parts[3], '01', `flags of a fresh trace (client sent ${JSON.stringify(lines)})`)
    assert.notEqual(parts[1], TRACE, `${JSON.stringify(lines)} must not be continued`)
    assert.deepEqual(tracestate, [], 'no tracestate without a valid traceparent')
    seen.add(parts[1])
  }
  assert.equal(seen.size, 5, 'each fresh trace has its own id')
})

test('a valid caller trace keeps its trace id and flags; the span id is new for this hop, per request', async () => {
  const spans = new Set<string>()
  for (const flags of ['01', '00', '01', '00']) {
    const { tp, parts, tracestate } = await sent([`traceparent: 00-${TRACE}-${PARENT}-${flags}`, 'tracestate: vendor=opaque'])
    assert.equal(tp, `00-${TRACE}-${parts[2]}-${flags}`)
    assert.notEqual(parts[2], PARENT, 'the caller\'s span id is the parent, not this hop\'s')
    assert.deepEqual(tracestate, ['vendor=opaque'])
    spans.add(parts[2])
  }
  assert.equal(spans.size, 4, 'a new span id per request')
})

test('a future version is continued as version 00 (its trace id and flags kept, extra fields dropped)', async () => {
  const { tp, parts } = await sent([`traceparent: cc-${TRACE}-${PARENT}-00-what-the-future-holds`])
  assert.equal(tp, `00-${TRACE}-${parts[2]}-00`)
})
