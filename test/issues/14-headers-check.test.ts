// test/issues/14-headers-check.test.ts: a `headers` statement none of whose edits checked gives no stage, so its
// route is broken and the route-level lints (W0704 no timeout, …) do not speak about it; an edit whose name or
// value was refused is left out, never handed on half-checked. Written for the mutation run (area policies:
// policies/headers/check.ts, the paths after a refused name or value).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'

/** The diagnostics of one route without a timeout (W0704 shows whether the route was checked on). */
const diags = (stmt: string): string[] =>
  compile(['p.gwp'], { host: memoryHost({ 'p.gwp': `route r {\n  match path "/"\n  ${stmt}\n  respond 200\n}\n` }) }).diagnostics.map(d => `${d.code} ${d.message}`)
const W0704 = 'W0704 route `r` has no timeout'

test('a checked edit: the route is linted (the control case)', () => {
  assert.deepEqual(diags('headers set x-a "1"'), [W0704])
  assert.deepEqual(diags('headers response remove x-b'), [W0704])
})

test('every edit refused by its name: the error alone, no stage, the route is not linted', () => {
  assert.deepEqual(diags('headers response set "bad name" "v"'), ['E0306 `bad name` is not a valid header name'])
  assert.deepEqual(diags('headers remove Content-Length'), ['E0306 header `Content-Length` cannot be changed by a policy'])
})

test('every edit refused by its value: the error alone, no stage, the route is not linted', () => {
  assert.deepEqual(diags('headers request set X-Note "line one\\nline two"'), ['E0306 a header value cannot contain control characters such as newlines'])
})
