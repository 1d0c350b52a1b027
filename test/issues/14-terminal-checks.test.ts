// test/issues/14-terminal-checks.test.ts: a terminal that did not check leaves its route out of the route-level
// lints. `proxy` and `respond` (compiler/check/terminal.ts) give no IR when their statement has an error, so the
// route is broken and W0704 (no timeout), the retry lints and the routing analysis do not speak about it; a
// terminal that handed on a half-checked IR would add those warnings to the error. Written for the mutation run
// (area upstream: the weight, weight-sum and status paths of terminal.ts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'

const UPSTREAMS = 'upstream a { replicas 10.0.0.1:80 }\nupstream b { replicas 10.0.0.2:80 }\n'
/** The diagnostics of one route without a timeout (W0704 shows whether the route was checked on). */
const diags = (terminal: string): string[] =>
  compile(['p.gwp'], { host: memoryHost({ 'p.gwp': UPSTREAMS + `route r { match path "/"; ${terminal} }` }) }).diagnostics.map(d => `${d.code} ${d.message}`)
const unused = (...names: string[]) => names.map(n => `W0709 upstream \`${n}\` is never used`)

test('a checked terminal lets the route-level lints speak (the control case)', () => {
  assert.deepEqual(diags('proxy a 50%, b 50%'), ['W0704 route `r` has no timeout'])
  assert.deepEqual(diags('respond 200'), [...unused('a', 'b'), 'W0704 route `r` has no timeout'])
})

test('respond with a status out of range: the error alone, the route is not linted', () => {
  assert.deepEqual(diags('respond 99'), [...unused('a', 'b'), 'E0303 the status code must be between 100 and 599, got `99`'])
  assert.deepEqual(diags('respond 600 json "{}"'), [...unused('a', 'b'), 'E0303 the status code must be between 100 and 599, got `600`'])
})

test('proxy with a weight out of range: the error alone, no weight sum, the route is not linted', () => {
  assert.deepEqual(diags('proxy a 150%, b 50%'), ['E0303 a proxy weight must be between 0% and 100%, got `150%`'])
})

test('proxy whose weights do not add up to 100%: the error alone, the route is not linted', () => {
  assert.deepEqual(diags('proxy a 70%, b 70%'), ['E0308 proxy weights add up to 140%, not 100%'])
})

test('proxy with an unknown upstream in a split: that error alone, the rest of the split is not summed', () => {
  assert.deepEqual(diags('proxy a 60%, nope 40%'), [...unused('b'), 'E0201 unknown upstream `nope`'])
})

test('respond redirect: a status out of range is that error alone; not a redirect status is E0495; a bad target is its error alone; the route is not linted', () => {
  assert.deepEqual(diags('respond redirect 700 "/x"'), [...unused('a', 'b'), 'E0303 the redirect status must be between 100 and 599, got `700`'])
  assert.deepEqual(diags('respond redirect 200 "/x"'), [...unused('a', 'b'), 'E0495 `200` is not a redirect status'])
  const bad = diags('respond redirect 308 "/x/{nope}"')
  assert.equal(bad.length, 3, bad.join('\n'))
  assert.match(bad[2], /^E0496 /)
  assert.deepEqual(diags('respond redirect 308 "/x"'), [...unused('a', 'b'), 'W0704 route `r` has no timeout'])
})
