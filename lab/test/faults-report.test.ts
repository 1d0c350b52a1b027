// lab/test/faults-report.test.ts: the faults experiment's counting on synthetic trace records — sent vs answered,
// statuses, transport errors by kind, the last second — and that a check fails on what it is meant to catch.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { faultChecks, summarize } from '../experiments/faults-report.js'
import type { TraceRecord } from '../experiments/tracer.js'

const T0 = 1_800_000_000_000
const rec = (dueMs: number, status: number, error?: TraceRecord['error']): TraceRecord =>
  ({ i: 0, due: T0 + dueMs, end: T0 + dueMs + 5, ms: 5, status, ...(error === undefined ? {} : { error, message: `${error}!` }) })

test('summarize counts sent, answered, statuses and each kind of transport error', () => {
  const s = summarize({ name: 'x', records: [rec(0, 200), rec(10, 503), rec(20, 0, 'reset'), rec(30, 0, 'connect_refused'), rec(40, 0, 'timeout'), rec(2500, 200)] })
  assert.equal(s.sent, 6)
  assert.equal(s.answered, 3)
  assert.deepEqual(s.byStatus, { 200: 2, 503: 1 })
  assert.deepEqual([s.resets, s.refused, s.timeouts, s.other], [1, 1, 1, 0])
  assert.deepEqual(s.lastSecond, { 200: 1 }, 'only the requests due in the last second of the window')
  assert.deepEqual(s.samples, ['reset!', 'connect_refused!', 'timeout!'])
  assert.deepEqual(s.p99BySecond, [5, null, 5], 'seconds counted from the first request due; a second with no answer is null')
})

test('the checks catch a 401 during an IdP outage and a reset during a reload', () => {
  const ok = summarize({ name: 'a', records: [rec(0, 200), rec(10, 200)] })
  const reset = summarize({ name: 'a', records: [rec(0, 200), rec(10, 0, 'reset')] })
  const told401 = summarize({ name: 'a', records: [rec(0, 503), rec(10, 401)] })
  const checks = faultChecks([
    { id: 'sighup-reload', fault: '', streams: [ok], facts: { 'gw alive after': 'yes' } },
    { id: 'sighup-reload-workers-2', fault: '', streams: [reset], facts: { 'gw alive after': 'yes' } },
    { id: 'idp-503', fault: '', streams: [told401], facts: {} },
  ])
  assert.deepEqual(checks.map(c => c.verdict), ['PASS', 'MISS', 'MISS'])
})
