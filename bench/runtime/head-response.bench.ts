// bench/runtime/head-response.bench.ts: an upstream answer's head for a route with 0, 2 and 6 `headers response`
// edits (issue 13 item 2), up to the bytes the http1 engine writes (runtime/http1/writer.ts renderHead). Before:
// each edit recorded on the context per request, the answer's pairs built from undici's Buffers, the gateway's
// pairs pushed, applyEdits, then the head rendered from the pairs. After: the route's head plan handed to the
// context in one call; on http1 the kept lines, request id, timing and the plan's block (Via included) rendered
// as one string (writeUpstreamHead), no pair array; the node:http pairs path from the same plan for comparison.
// Run: npm run build && node --expose-gc dist/bench/runtime/head-response.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { HeadPlanBuilder, type StaticEdit } from '../../compiler/codegen/head-plan.js'
import { RequestContext } from '../../runtime/context.js'
import type { EdgeResponse } from '../../runtime/edge.js'
import { HEAD_PLANS, type HeadPlan } from '../../runtime/head-plan.js'
import { clientResponseHeaders, gatewayResponseHeaders, writeUpstreamHead, type OutboundOptions } from '../../runtime/headers.js'
import { renderHead } from '../../runtime/http1/writer.js'
import { fakeRequest, upstreamResponseRaw } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

/** A response whose writeHead renders the head as the http1 engine does (keep-alive, chunked by default). */
let last = ''
const st = { chunked: false, last: false, shouldKeepAlive: true }
const res = {
  writeHead(status: number, headers: string[], lines?: string, facts?: number) {
    st.chunked = false; st.last = false; st.shouldKeepAlive = true
    last = renderHead(st, status, headers, true, true, 5, lines, facts)
    return this
  },
} as unknown as EdgeResponse
const ctx = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'shop.example.com']] }), res, performance.now())
ctx.id = 'f3b2a1c4d5e6-1a2b'
ctx.upstreamMs = 3.2174
const raw = upstreamResponseRaw()
const pairs: OutboundOptions = { identity: new Set(), via: true }
const rendered: OutboundOptions = { identity: new Set(), via: true, rendered: true }

const EDITS: Record<number, StaticEdit[]> = {
  0: [],
  2: [{ name: 'x-frame-options', value: 'DENY' }, { name: 'x-upstream-instance', value: null }],
  6: [
    { name: 'x-frame-options', value: 'DENY' }, { name: 'x-upstream-instance', value: null }, { name: 'x-content-type-options', value: 'nosniff' },
    { name: 'etag', value: null }, { name: 'strict-transport-security', value: 'max-age=63072000' }, { name: 'referrer-policy', value: 'no-referrer' },
  ],
}
const planOf = (ops: StaticEdit[]): HeadPlan => HEAD_PLANS.response(new HeadPlanBuilder().add(ops))

function recorded(ops: StaticEdit[]): () => string {
  return () => { // HOT PATH (as it was)
    ctx.resEdits = null
    for (let i = 0; i < ops.length; i++) { const o = ops[i]; if (o.value === null) ctx.removeResponseHeader(o.name); else ctx.setResponseHeader(o.name, o.value) }
    res.writeHead(200, gatewayResponseHeaders(ctx, clientResponseHeaders(raw), true, 10))
    return last
  }
}

const suite = createSuite(import.meta.url, 'upstream answer head with a route\'s edits, to the http1 engine\'s bytes: recorded per request vs head plan')
const noDate = (s: string): string => s.replace(/^Date: .*\r\n/m, '')
for (const n of [0, 2, 6]) {
  const ops = EDITS[n]
  const plan = n === 0 ? null : planOf(ops)
  const run = (o: OutboundOptions) => () => { ctx.resEdits = null; ctx.resPlan = null; if (plan !== null) ctx.responsePlan(plan); writeUpstreamHead(ctx, 200, raw, o, 10); return last }
  // all three write the same head
  const before = noDate(recorded(ops)())
  assert.equal(noDate(run(pairs)()), before)
  assert.equal(noDate(run(rendered)()), before)
  suite
    .add(`${n} edits: recorded per request (before), pairs → head`, 'an edits array per request, latin1 strings + the pairs array, applyEdits, the head string',
      recorded(ops))
    .add(`${n} edits: head plan, pairs → head (node:http's form)`, 'latin1 strings + the pairs array, the plan\'s pairs copied in, the head string',
      run(pairs))
    .add(`${n} edits: head plan, rendered lines → head (http1)`, 'latin1 strings for kept lines only, one lines string, the head string; no array',
      run(rendered))
}

await suite.run()
