// test/runtime/head-plan-mut.test.ts: what a head plan (runtime/head-plan.ts) refuses at load from a bundle the
// generated module's `heads` dependency is handed (HEAD_PLANS, runtime/stages.ts), and what its precomputed pieces
// put on the wire where the seeded equivalence test (head-plan.test.ts) has no case: X-Forwarded-Proto replaced by
// a route, a value that reads `host` or `date`, a plan without a block. From mutating runtime/head-plan.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { HeadPlanOptions } from '../../config/bundle.js'
import { HeadPlanBuilder } from '../../compiler/codegen/head-plan.js'
import { RequestContext } from '../../runtime/context.js'
import { HEAD_PLANS } from '../../runtime/head-plan.js'
import { renderUpstreamHeaders, upstreamRequestHeaders, writeUpstreamHead, type OutboundOptions } from '../../runtime/headers.js'
import { renderHead } from '../../runtime/http1/writer.js'
import { readHead } from '../../runtime/request-head.js'
import { fakeRequest, fakeResponse } from '../../bench/runtime/kit/fake-http.js'

const o: OutboundOptions = { identity: new Set(), via: false }

function request(headers: [string, string][], minor = 1): RequestContext {
  const ctx = new RequestContext(fakeRequest({ url: '/', headers, minor }), fakeResponse().res, 0)
  assert.ok(readHead(ctx, { trusted: null }), ctx.reason)
  return ctx
}

/** The load error of a plan the generated module hands `heads.request`, or null when it loads. */
function refusal(p: unknown): string | null {
  try { HEAD_PLANS.request(p as HeadPlanOptions); return null } catch (e) { return (e as Error).message }
}

test('a plan refuses at load each bad name on its own: upper-case, not a token, not a string (with its own error)', () => {
  assert.equal(refusal({ drop: ['x-a'], block: '', edits: ['x-a', null] }), null)
  assert.equal(refusal({ drop: ['X-A'], block: '', edits: [] }), 'head plan: bad header name "X-A"')
  assert.equal(refusal({ drop: ['x-a'], block: '', edits: ['X-A', null] }), 'head plan: bad header name "X-A"')
  assert.equal(refusal({ drop: ['x a'], block: '', edits: [] }), 'head plan: bad header name "x a"')
  assert.equal(refusal({ drop: ['x-a'], block: '', edits: ['x-a\r\nx-evil: 1', '2'] }), 'head plan: bad header name "x-a\\r\\nx-evil: 1"')
  for (const n of [42, null, undefined, ['x-a']]) {
    assert.equal(refusal({ drop: [n], block: '', edits: [] }), `head plan: bad header name ${JSON.stringify(n)}`, String(n))
  }
})

test('a plan refuses at load an edit value that is not a string: a number, or the value missing from an odd-length list', () => {
  assert.equal(refusal({ drop: ['x-a'], block: '', edits: ['x-a', 42] }), 'head plan: bad header value 42')
  assert.equal(refusal({ drop: ['x-a'], block: '', edits: ['x-a'] }), 'head plan: bad header value undefined')
})

test('a block line without ": " is refused at load (the string form would send it as it is, the pairs form would not)', () => {
  assert.equal(refusal({ drop: ['x-a', 'x-ab'], block: 'x-ab\r\n', edits: [] }), 'head plan: block line "x-ab" has no ": "')
  assert.equal(refusal({ drop: ['x-a'], block: 'x-a\r\n', edits: [] }), 'head plan: block line "x-a" has no ": "')
  assert.equal(refusal({ drop: ['x-a'], block: ': 1\r\n', edits: [] }), 'head plan: bad header name ""')
  assert.equal(refusal({ drop: ['x-a'], block: 'x-a: \r\n', edits: [] }), null) // an empty value is a value
})

test('a plan without a block (not a string) loads: it drops its names and adds no line', () => {
  const p = HEAD_PLANS.request({ drop: ['x-a'], edits: ['x-a', null] } as unknown as HeadPlanOptions)
  const ctx = request([['Host', 'a.test'], ['X-A', '1'], ['X-B', '2']])
  ctx.id = 'rid'
  ctx.requestPlan(p)
  const h = upstreamRequestHeaders(ctx, o, null)
  assert.deepEqual(h.slice(0, 4), ['Host', 'a.test', 'X-B', '2'])
  assert.ok(!h.some(n => n.toLowerCase() === 'x-a'), JSON.stringify(h))
  assert.doesNotMatch(renderUpstreamHeaders(ctx, o, null, 'replica:1'), /x-a/i)
})

test('a route that sets X-Forwarded-Proto sends its value alone, in pairs and in the string form', () => {
  const p = HEAD_PLANS.request(new HeadPlanBuilder().add([{ name: 'x-forwarded-proto', value: 'https' }]))
  const ctx = request([['Host', 'a.test']])
  ctx.id = 'rid'
  ctx.requestPlan(p)
  const h = upstreamRequestHeaders(ctx, o, null)
  assert.deepEqual(h.filter((_, i) => i % 2 === 0 && h[i] === 'x-forwarded-proto').length, 1, JSON.stringify(h))
  assert.deepEqual(h.slice(-2), ['x-forwarded-proto', 'https'])
  const s = renderUpstreamHeaders(ctx, o, null, 'replica:1')
  assert.deepEqual(s.match(/^x-forwarded-proto: .*$/gm), ['x-forwarded-proto: https'])
})

test('a value that reads `host` is not the plan\'s Host line: the string form names the replica', () => {
  // headers request set x-a host, remove host: the client's Host goes, no plan Host comes, undici names the replica
  const p = HEAD_PLANS.request(new HeadPlanBuilder().add([{ name: 'x-a', value: 'host' }, { name: 'host', value: null }]))
  const ctx = request([['Host', 'a.test']])
  ctx.id = 'rid'
  ctx.requestPlan(p)
  const s = renderUpstreamHeaders(ctx, o, null, 'replica:1')
  assert.match(s, /^host: replica:1\r\n/)
  assert.ok(s.endsWith('\r\nx-a: host\r\n'), JSON.stringify(s))
  assert.equal(s.match(/^host: /gm)?.length, 1)
})

test('a value that reads `date` is not the plan\'s Date line: the http1 engine still writes its own Date', () => {
  const p = HEAD_PLANS.response(new HeadPlanBuilder().add([{ name: 'x-a', value: 'date' }]))
  const ctx = request([['Host', 'a.test']])
  ctx.id = 'rid'
  ctx.responsePlan(p)
  const writes: unknown[][] = []
  ;(ctx as { res: RequestContext['res'] }).res = { writeHead: (...a: unknown[]) => { writes.push(a) } } as unknown as RequestContext['res']
  writeUpstreamHead(ctx, 200, ['Content-Length', '2'], { identity: new Set(), via: false, rendered: true }, 1)
  const [status, pairs, lines, facts] = writes[0] as [number, string[], string, number]
  assert.equal(lines, 'Content-Length: 2\r\nx-request-id: rid\r\nserver-timing: gw;dur=1\r\nx-a: date\r\n')
  const head = renderHead({ chunked: false, last: false, shouldKeepAlive: true }, status, pairs, true, true, 2, lines, facts)
  assert.match(head, /^Date: .+\r\n/m)
})
