// test/issues/14-retry-check.test.ts: a `retry` whose count did not check gives no retry settings, so its route is
// broken and the route-level lints (W0704 no timeout, the retry lints) do not speak about it; other retry errors
// (conflicting modes) leave a usable retry and the route is linted as usual. Written for the mutation run (area
// upstream: compiler/check/upstream-retry.ts, the path after a refused count).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'

/** The diagnostics of one route without a timeout (W0704 shows whether the route was checked on). */
const diags = (retry: string): string[] =>
  compile(['p.gwp'], { host: memoryHost({ 'p.gwp': `upstream a { replicas 10.0.0.1:80; breaker }\nroute r { match path "/"; ${retry}; proxy a }\n` }) }).diagnostics.map(d => `${d.code} ${d.message}`)
const W0704 = 'W0704 route `r` has no timeout'

test('a checked retry: the route is linted (the control cases)', () => {
  assert.deepEqual(diags('retry 2 per_try 100ms'), [W0704])
  assert.deepEqual(diags('retry 0'), [W0704])
  assert.deepEqual(diags('retry 2 per_try 100ms idempotent_only all_methods'), [W0704, 'E0404 `idempotent_only` and `all_methods` cannot both be given'])
})

test('a retry count out of range or of the wrong kind: the error alone, the route is not linted', () => {
  assert.deepEqual(diags('retry 11 per_try 100ms'), ['E0303 the retry count must be between 0 and 10, got `11`'])
  assert.deepEqual(diags('retry 2s per_try 100ms'), ['E0301 `2s` is a duration, but the retry count takes a count'])
})
