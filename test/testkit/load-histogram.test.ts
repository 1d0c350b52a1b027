// test/testkit/load-histogram.test.ts: percentiles come out right on known data, and the mix and duration
// helpers do what the CLI relies on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createLatencyHistogram, recordMs, summarize, prepareMix, parseDuration, classifyError } from '../../testkit/load/index.js'

test('HDR percentiles of 1..10000 µs are right within 3 significant digits', () => {
  const h = createLatencyHistogram()
  for (let us = 1; us <= 10_000; us++) h.record(us)
  const s = summarize(h)
  assert.equal(s.count, 10_000)
  const near = (got: number, want: number): void => assert.ok(Math.abs(got - want) <= want * 0.002, `${got} vs ${want}`)
  near(s.p50, 5.0)
  near(s.p90, 9.0)
  near(s.p99, 9.9)
  near(s.p999, 9.99)
  near(s.max, 10.0)
  near(s.mean, 5.0005)
  assert.equal(s.min, 0.001)
})

test('recordMs rounds to µs and clamps below 1 µs; an empty histogram summarises to zeros', () => {
  const h = createLatencyHistogram()
  recordMs(h, 0)
  recordMs(h, 0.0004)
  recordMs(h, 12.3456)
  assert.equal(h.count, 3)
  assert.equal(h.min, 1)
  assert.ok(Math.abs(h.max - 12_346) <= 12_346 * 0.001)
  assert.deepEqual(summarize(createLatencyHistogram()), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, stddev: 0 })
})

test('the mix sequence follows the weights, spread out, and bodies are built once', () => {
  const m = prepareMix([{ path: '/a', weight: 2 }, { path: '/b', method: 'post', body: { size: 5 } }, { path: '/c', weight: 0 }])
  assert.equal(m.sequence.length, 3)
  assert.deepEqual([...m.sequence].sort(), [0, 0, 1])
  assert.equal(m.entries[1].method, 'POST')
  assert.deepEqual(m.entries[1].headers, ['content-length', '5'])
  assert.equal(m.entries[1].body?.toString(), 'xxxxx')
  assert.equal(m.entries[0].idempotent, true)
  const f = prepareMix([{ path: '/x', weight: 0.25 }, { path: '/y', weight: 0.75 }])
  const ys = [...f.sequence].filter((i) => i === 1).length
  assert.equal(ys, 750)
  // Spread: no run of the rarer entry's absence longer than ~1/weight.
  let run = 0
  let longest = 0
  for (const i of f.sequence) { run = i === 0 ? 0 : run + 1; longest = Math.max(longest, run) }
  assert.ok(longest <= 4, `longest run without /x: ${longest}`)
  assert.throws(() => prepareMix([]), /empty/)
  assert.throws(() => prepareMix([{ path: 'nope' }]), /must start with/)
  assert.deepEqual(prepareMix([{ path: '/h', host: 'api.shop.com', headers: { Host: 'ignored', 'X-A': '1' } }]).entries[0].headers, ['x-a', '1', 'host', 'api.shop.com'])
})

test('durations parse and errors classify', () => {
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('2.5s'), 2500)
  assert.equal(parseDuration('1m'), 60_000)
  assert.equal(parseDuration('750'), 750)
  assert.throws(() => parseDuration('10 parsecs'), /bad duration/)
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'connect_refused')
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' })), 'reset')
  assert.equal(classifyError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), 'timeout')
  assert.equal(classifyError(new Error('x')), 'other')
})
