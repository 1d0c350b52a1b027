// bench/runtime/head-request.bench.ts: the upstream request's headers for a route with 0, 2 and 6 `headers request`
// edits (issue 13 item 2). Before: the generated code recorded each edit on the context (ctx.setRequestHeader, an
// array push per edit) and applyEdits re-applied them to the built list. After: the route's head plan (built at
// load) handed to the context in one call, its block appended; as pairs (undici) and as the one string the http1
// pool writes (renderUpstreamHeaders). A browser's 15 fields, untrusted peer, via on.
// Run: npm run build && node --expose-gc dist/bench/runtime/head-request.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { HeadPlanBuilder, type StaticEdit } from '../../compiler/codegen/head-plan.js'
import { RequestContext } from '../../runtime/context.js'
import { HEAD_PLANS, type HeadPlan } from '../../runtime/head-plan.js'
import { renderUpstreamHeaders, upstreamRequestHeaders, type OutboundOptions } from '../../runtime/headers.js'
import { readHead } from '../../runtime/request-head.js'
import { browserHeaders, fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const outbound: OutboundOptions = { identity: new Set(['x-user-id']), via: true }
const req = fakeRequest({ url: '/v1/orders', headers: browserHeaders('shop.example.com'), remoteAddress: '198.51.100.23' })
const ctx = new RequestContext(req, fakeResponse().res, performance.now())
assert.ok(readHead(ctx, { trusted: null }), ctx.reason)

/** The edits of a route with `n` of them: sets of the route's own headers and removes of client ones. */
const EDITS: Record<number, StaticEdit[]> = {
  0: [],
  2: [{ name: 'x-env', value: 'prod' }, { name: 'cookie', value: null }],
  6: [
    { name: 'x-env', value: 'prod' }, { name: 'cookie', value: null }, { name: 'x-team', value: 'orders' },
    { name: 'referer', value: null }, { name: 'x-api-version', value: '2026-11-01' }, { name: 'sec-ch-ua', value: null },
  ],
}
const planOf = (ops: StaticEdit[]): HeadPlan => HEAD_PLANS.request(new HeadPlanBuilder().add(ops))

/** The old generated code's per-request work: one context call per edit. */
function recorded(ops: StaticEdit[]): () => string[] {
  return () => { // HOT PATH (as it was)
    ctx.reqEdits = null
    for (let i = 0; i < ops.length; i++) { const o = ops[i]; if (o.value === null) ctx.removeRequestHeader(o.name); else ctx.setRequestHeader(o.name, o.value) }
    return upstreamRequestHeaders(ctx, outbound, null)
  }
}

const suite = createSuite(import.meta.url, 'upstream request headers with a route\'s edits: recorded per request vs head plan (runtime/headers.ts)')
for (const n of [0, 2, 6]) {
  const ops = EDITS[n]
  const plan = n === 0 ? null : planOf(ops)
  // the three forms carry the same fields
  const before = recorded(ops)()
  ctx.reqEdits = null; ctx.reqPlan = plan
  assert.deepEqual(upstreamRequestHeaders(ctx, outbound, null), before)
  ctx.reqPlan = null
  suite
    .add(`${n} edits: recorded per request (before), pairs`, 'an edits array grown per edit; applyEdits over the ~40-slot out array',
      recorded(ops))
    .add(`${n} edits: head plan, pairs (undici)`, 'the out array; the plan\'s pairs copied in; no edit array',
      () => { ctx.reqEdits = null; ctx.reqPlan = null; if (plan !== null) ctx.requestPlan(plan); return upstreamRequestHeaders(ctx, outbound, null) })
    .add(`${n} edits: head plan, one string (http1 pool)`, 'one latin1 string grown line by line, the block appended; no array',
      () => { ctx.reqEdits = null; ctx.reqPlan = null; if (plan !== null) ctx.requestPlan(plan); return renderUpstreamHeaders(ctx, outbound, null, '10.0.1.10:8080') })
}

await suite.run()
