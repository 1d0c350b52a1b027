// bench/runtime/ids.bench.ts: runtime/ids.ts — request ids (generated, or a client's checked for sanity) and
// W3C trace context (traceparent parsed valid and invalid, span and trace ids from the random pool).
// Run: npm run build && node --expose-gc dist/bench/runtime/ids.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { formatTraceparent, newRequestId, newSpanId, newTraceId, parseTraceparent, saneRequestId } from '../../runtime/ids.js'
import { createSuite } from './kit/suite.js'

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const BAD_SHAPE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x'
const ZERO_TRACE = '00-00000000000000000000000000000000-00f067aa0ba902b7-01'
const UUID = '3f2b8c1e-9d4a-4e6b-8a7c-1b2d3e4f5a6b'
const HOSTILE = 'x'.repeat(40) + '\r\nSet-Cookie: a=b'

assert.equal(parseTraceparent(VALID).propagated, true)
assert.equal(parseTraceparent(BAD_SHAPE).propagated, false)
assert.equal(parseTraceparent(ZERO_TRACE).propagated, false)
assert.ok(saneRequestId(UUID) && !saneRequestId(HOSTILE))

// Varying inputs: with constant arguments V8 folds the template literal into a constant string.
const TRACE_IDS = Array.from({ length: 8 }, () => newTraceId())
let t = 0

const suite = createSuite(import.meta.url, 'request ids and trace context (runtime/ids.ts)')
suite
  .add('new request id', 'the id string (boot prefix + base-36 counter)', () => newRequestId())
  .add('sane client id: UUID (36 chars)', 'nothing: one anchored regex test', () => saneRequestId(UUID))
  .add('hostile client id: CRLF injection (56 chars)', 'nothing: the regex fails at the CR', () => saneRequestId(HOSTILE))
  .add('traceparent: valid', 'TraceContext, the regex match array with its 4 substrings, the trimmed copy', () => parseTraceparent(VALID))
  .add('traceparent: invalid flags (new trace)', 'a failed match, then a new trace: TraceContext + 32-hex trace id', () => parseTraceparent(BAD_SHAPE))
  .add('traceparent: all-zero trace id (new trace)', 'the match array and substrings, /^0+$/ test, then a new trace as above', () => parseTraceparent(ZERO_TRACE))
  .add('traceparent: absent (new trace)', 'TraceContext + 32-hex trace id', () => parseTraceparent(undefined))
  .add('new span id (16 hex)', 'the hex string; the 8 KiB pool refill is amortised (one randomFillSync per 1,024 ids)', () => newSpanId())
  .add('new trace id (32 hex)', 'the hex string (pool refill every 512 ids)', () => newTraceId())
  .add('format traceparent', 'a chain of cons strings (5 × 32 B) for the 55 chars, flattened when sent', () => formatTraceparent(TRACE_IDS[t = (t + 1) & 7], '00f067aa0ba902b7', '01'))

await suite.run()
