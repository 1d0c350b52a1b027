// test/testkit/upstream-sampler.test.ts: the stub's PRNG, latency samplers, error draws, padded bodies and byte
// pattern, tested directly (no sockets, no sleeping).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { createLatencySampler, parseLatency, Z99 } from '../../testkit/upstream/latency.js'
import { patternBytes, patternSha256, patternSlice, PERIOD } from '../../testkit/upstream/pattern.js'
import { createRng } from '../../testkit/upstream/prng.js'
import { jsonBody } from '../../testkit/upstream/rules.js'

const draws = (seed: number | string, name: string, n: number): number[] => {
  const rng = createRng(seed, name)
  return Array.from({ length: n }, () => rng.next())
}
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}
const sample = (spec: Parameters<typeof createLatencySampler>[0], n: number, seed = 1): number[] => {
  const f = createLatencySampler(spec), rng = createRng(seed, 'sampler')
  return Array.from({ length: n }, () => f(rng.next(), rng.next()))
}

test('prng: same seed and name give the same stream; another seed or name gives another', () => {
  assert.deepEqual(draws(42, 'payments-1', 100), draws(42, 'payments-1', 100))
  assert.notDeepEqual(draws(42, 'payments-1', 100), draws(43, 'payments-1', 100))
  assert.notDeepEqual(draws(42, 'payments-1', 100), draws(42, 'payments-2', 100))
  assert.notDeepEqual(draws(42, 'payments-1', 100), draws('42x', 'payments-1', 100))
})

test('prng: values are uniform in [0, 1) and reset() rewinds', () => {
  const rng = createRng(7, 'r')
  const xs = Array.from({ length: 20_000 }, () => rng.next())
  assert.ok(xs.every((x) => x >= 0 && x < 1))
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`)
  const buckets = new Array(10).fill(0)
  for (const x of xs) buckets[Math.floor(x * 10)]++
  for (const b of buckets) assert.ok(Math.abs(b - 2000) < 200, `bucket ${b}`)
  rng.reset()
  assert.equal(rng.next(), xs[0])
})

test('fixed latency is exact', () => {
  assert.deepEqual(new Set(sample({ dist: 'fixed', ms: 12.5 }, 100)), new Set([12.5]))
})

test('uniform latency stays in [min, max) with the right mean', () => {
  const xs = sample({ dist: 'uniform', min: 10, max: 30 }, 2000)
  assert.ok(xs.every((x) => x >= 10 && x < 30))
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  assert.ok(Math.abs(mean - 20) < 0.6, `mean ${mean}`)
})

test('lognormal hits the requested p50 and p99 over 2,000 draws', () => {
  for (const [p50, p99] of [[200, 800], [5, 50], [1, 1.5]]) {
    const xs = sample({ dist: 'lognormal', p50, p99 }, 2000, p50)
    const q50 = quantile(xs, 0.5), q99 = quantile(xs, 0.99)
    assert.ok(Math.abs(q50 / p50 - 1) < 0.1, `p50 ${q50} vs ${p50}`)
    assert.ok(Math.abs(q99 / p99 - 1) < 0.25, `p99 ${q99} vs ${p99}`)
    assert.ok(xs.every((x) => x > 0 && Number.isFinite(x)))
  }
  // The fitted curve itself: z = 0 gives p50 and z = Z99 gives p99 (sigma = (ln p99 - ln p50) / 2.3263).
  const f = createLatencySampler({ dist: 'lognormal', p50: 200, p99: 800 })
  assert.ok(Math.abs(f(0, 0.25) - 200) < 1e-9, 'u1 = 0 means z = 0: the median')
  assert.ok(Math.abs(f(1 - Math.exp(-(Z99 ** 2) / 2), 0) - 800) < 1e-9, 'z = Z99: the 99th percentile')
})

test('lognormal with p99 = p50 degenerates to fixed', () => {
  assert.ok(sample({ dist: 'lognormal', p50: 7, p99: 7 }, 50).every((x) => Math.abs(x - 7) < 1e-9))
})

test('an error rate of 30% over 10,000 draws lands within 1.5 points', () => {
  const rng = createRng(42, 'errors')
  let fails = 0
  for (let i = 0; i < 10_000; i++) if (rng.next() < 0.3) fails++
  assert.ok(Math.abs(fails / 10_000 - 0.3) < 0.015, `rate ${fails / 10_000}`)
})

test('parseLatency accepts numbers and specs, and names the bad field', () => {
  assert.deepEqual(parseLatency(5, 'l'), { dist: 'fixed', ms: 5 })
  assert.deepEqual(parseLatency({ dist: 'lognormal', p50: 200, p99: 800 }, 'l'), { dist: 'lognormal', p50: 200, p99: 800 })
  assert.throws(() => parseLatency({ dist: 'uniform', min: 5, max: 1 }, 'l'), /max \(1\) is below min \(5\)/)
  assert.throws(() => parseLatency({ dist: 'lognormal', p50: 0, p99: 1 }, 'l'), /l\.p50/)
  assert.throws(() => parseLatency({ dist: 'gamma' }, 'l'), /l\.dist/)
  assert.throws(() => parseLatency(-1, 'l'), /l: expected a number >= 0/)
})

test('jsonBody is exactly the requested size, valid JSON, and the same every time', () => {
  const fields = { replica: 'payments-1', rule: '/v1/payments', status: 200 }
  for (let size = 1; size <= 200; size++) {
    const b = jsonBody(size, fields)
    assert.equal(b.length, size)
    assert.doesNotThrow(() => JSON.parse(b.toString()), `size ${size}: ${b.toString()}`)
  }
  assert.equal(jsonBody(0, fields).length, 0)
  assert.equal(jsonBody(4096, fields).length, 4096)
  assert.deepEqual(jsonBody(1000, fields), jsonBody(1000, fields))
  assert.deepEqual(JSON.parse(jsonBody(undefined, fields).toString()), fields)
  assert.equal(jsonBody(300, { replica: 'zahlungen-ü' }).length, 300, 'sizes count bytes, not characters')
})

test('the byte pattern: hashes match the bytes, slices wrap, sizes around the period', () => {
  for (const n of [0, 1, 1000, PERIOD - 1, PERIOD, PERIOD + 1, 3 * PERIOD + 17]) {
    const bytes = patternBytes(n)
    assert.equal(bytes.length, n)
    assert.equal(patternSha256(n), createHash('sha256').update(bytes).digest('hex'), `n = ${n}`)
  }
  const long = patternBytes(2 * PERIOD + 100)
  assert.deepEqual(patternSlice(PERIOD - 10, 100), long.subarray(PERIOD - 10, PERIOD + 90))
  assert.deepEqual(patternSlice(5 * PERIOD + 3, 7), long.subarray(3, 10))
})
