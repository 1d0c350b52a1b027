// Issue 14 (mutation survivors in runtime/upstream/retry.ts): which methods a route's `retry` may resend, and the
// jittered backoff before a retry, pinned exactly (Math.random held still) rather than through timing.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RetryIR } from '../../config/ir.js'
import type { RequestContext } from '../../runtime/context.js'
import { RetryBudget, backoffDelay, retryableMethod } from '../../runtime/upstream/retry.js'

const rule = (methods: RetryIR['methods'], backoffMs = 100): RetryIR => ({ count: 1, methods, budget: null, perTryMs: null, backoffMs })
const request = (method: string | undefined, headers: Record<string, string> = {}): RequestContext =>
  ({ req: { method, headers } }) as unknown as RequestContext

test('retry methods: idempotent_only resends only idempotent methods; all_methods resends a POST; idempotency_key a POST carrying the key', () => {
  assert.equal(retryableMethod(request('GET'), rule('idempotent')), true)
  assert.equal(retryableMethod(request('PUT'), rule('idempotent')), true)
  assert.equal(retryableMethod(request('POST'), rule('idempotent')), false)
  assert.equal(retryableMethod(request('POST', { 'idempotency-key': 'k1' }), rule('idempotent')), false)
  assert.equal(retryableMethod(request('POST'), rule('all')), true)
  assert.equal(retryableMethod(request('PATCH'), rule('all')), true)
  assert.equal(retryableMethod(request('POST', { 'idempotency-key': 'k1' }), rule('idempotency_key')), true)
  assert.equal(retryableMethod(request('POST'), rule('idempotency_key')), false)
})

test('a request without a method (node:http always sets one) counts as GET', () => {
  assert.equal(retryableMethod(request(undefined), rule('idempotent')), true)
})

test('backoff: the configured wait with ±50% jitter, never past the time left', (t) => {
  const random = t.mock.method(Math, 'random', () => 0)
  assert.equal(backoffDelay(rule('idempotent', 100), 1000), 50)
  random.mock.mockImplementation(() => 0.5)
  assert.equal(backoffDelay(rule('idempotent', 100), 1000), 100)
  random.mock.mockImplementation(() => 0.99)
  assert.equal(backoffDelay(rule('idempotent', 100), 1000), 149)
  assert.equal(backoffDelay(rule('idempotent', 100), 30), 30)
})

test('the retry budget on its default clock (performance.now) forgets a window once it has passed', (t) => {
  let now = 5_000
  t.mock.method(performance, 'now', () => now)
  const budget = new RetryBudget()
  for (let i = 0; i < 100; i++) budget.request()
  let allowed = 0
  while (budget.tryRetry(0.1)) allowed++
  assert.equal(allowed, 10) // 10% of 100 requests
  now += 20_000 // two windows later: nothing of the burst is left, the floor of 3 applies again
  assert.equal(budget.tryRetry(0.1), true)
})
