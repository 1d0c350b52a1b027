// bench/runtime/handler.bench.ts: generated route handlers of the benchmark topology (examples/bench.gwp),
// compiled by gwc in setup and run with the real auth, ratelimit and respond stages and a recording proxy.
// "handler" cases time only the handler call on a request whose head was read in setup; "e2e" cases time
// what the gateway does per request before dispatching: a new RequestContext, readHead, the route lookup,
// the handler, and writeReply for a gateway-made answer (Gateway.handle minus metrics and the close hook).
// Tokens are cache hits (verified in setup), 512 users and client addresses rotate so no limit trips.
// Run: npm run build && node --expose-gc dist/bench/runtime/handler.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { RequestContext } from '../../runtime/context.js'
import { Reply, writeReply } from '../../runtime/reply.js'
import { readHead } from '../../runtime/request-head.js'
import { clientIp, loadBenchBundle, sidecarRequest } from './kit/bench-bundle.js'
import { browserHeaders, fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const b = await loadBenchBundle({ tokens: 512 })
const MASK = b.tokens.length - 1 // a power of two
const HEAD = { trusted: null }
const via = b.env.settings.via
const { res, written } = fakeResponse()

/** One request per user for the sidecar's sample of `route`: browser headers, plus the bearer token when it authenticates. */
function requests(route: string): IncomingMessage[] {
  const s = sidecarRequest(b.sidecar, route)
  const auth = b.route(route).ir.stages.some(st => st.kind === 'auth')
  return b.tokens.map((t, i) => fakeRequest({
    method: s.method, url: s.path, remoteAddress: clientIp(i),
    headers: browserHeaders(s.host, [...Object.entries(s.headers), ...(auth ? [['Authorization', `Bearer ${t}`] as const] : [])]),
  }))
}

/** Requests with their head already read and routed: what a handler gets. */
function contexts(route: string): RequestContext[] {
  return requests(route).map(req => {
    const now = performance.now()
    const ctx = new RequestContext(req, res, now)
    assert.ok(readHead(ctx, HEAD), `${route}: sample request refused (${ctx.reason})`)
    const r = b.router.find(ctx.host, ctx.path, req.method!, req.headers as Record<string, string>, ctx.query)
    assert.equal(r?.name, route, 'the sample request reaches its route')
    ctx.route = r!
    ctx.deadline = now + r!.timeoutMs
    return ctx
  })
}

const suite = createSuite(import.meta.url, `generated handlers of ${b.routes.length}-route ${'examples/bench.gwp'} (real stages, recording proxy)`)

/** Handler only. The slots a handler writes are reset per call: a context normally serves one request. */
function handlerCase(name: string, route: string, note: string): void {
  const ctxs = contexts(route)
  const h = b.route(route).handler
  const respond = b.route(route).ir.terminal.kind === 'respond'
  let i = 0
  const fn = (): unknown => {
    const ctx = ctxs[i = (i + 1) & MASK]
    ctx.reqEdits = null
    ctx.state.claims = null
    ctx.state.identity = null
    const r = h(ctx)
    if (respond ? !(r instanceof Reply) : r !== undefined) throw new Error(`${route}: unexpected answer ${r instanceof Reply ? r.status : String(r)}`)
    return r
  }
  const before = b.proxy.calls
  fn()
  assert.equal(b.proxy.calls, before + (respond ? 0 : 1), `${route}: the handler reaches its terminal stage`)
  suite.add(name, note, fn)
}

/** The per-request path of Gateway.handle up to dispatch (or the written reply). */
function e2eCase(name: string, route: string, note: string, buildHeaders = false): void {
  const reqs = requests(route)
  const respond = b.route(route).ir.terminal.kind === 'respond'
  let i = 0
  const fn = (): unknown => {
    b.proxy.buildHeaders = buildHeaders
    const req = reqs[i = (i + 1) & MASK]
    const now = performance.now()
    const ctx = new RequestContext(req, res, now)
    if (!readHead(ctx, HEAD)) throw new Error(`${route}: refused (${ctx.reason})`)
    const r = b.router.find(ctx.host, ctx.path, req.method!, req.headers as Record<string, string>, ctx.query)
    if (r === undefined) throw new Error(`${route}: no route`)
    ctx.route = r
    ctx.deadline = now + r.timeoutMs
    const out = r.handler(ctx)
    if (out instanceof Reply) writeReply(ctx, out, via, performance.now())
    if (respond ? !(out instanceof Reply) : out !== undefined) throw new Error(`${route}: unexpected answer ${out instanceof Reply ? out.status : String(out)}`)
    return ctx
  }
  assert.equal((fn() as RequestContext).route?.name, route, 'the sample request reaches its route')
  suite.add(name, note, fn)
}

handlerCase('handler: passthrough (pass_through)', 'pass_through', 'nothing: the generated function calls the proxy stage')
handlerCase('handler: respond (bench_health)', 'bench_health', 'nothing: returns the Reply built at load')
handlerCase('handler: ratelimit by ip (pass_ratelimit)', 'pass_ratelimit', 'a HeapNumber for the arrival time the limiter Map keeps; the Decision is reused')
handlerCase('handler: auth, cache hit (pass_auth)', 'pass_auth', 'bearerToken\'s token slice and scheme copy, boxed clock readings; claims are reused')
handlerCase('handler: full chain (full_chain)', 'full_chain', 'as auth + two limiter HeapNumbers + the reqEdits array (`headers request set`)')
e2eCase('e2e: passthrough (pass_through)', 'pass_through', 'RequestContext + RequestState, request id, TraceContext + trace id, span id')
e2eCase('e2e: respond (bench_health)', 'bench_health', 'as passthrough + writeReply: the header arrays, content-length and Server-Timing strings')
e2eCase('e2e: full chain (full_chain)', 'full_chain', 'as passthrough + the full-chain handler above')
e2eCase('e2e: full chain + upstream request headers', 'full_chain', 'as above + the outbound list, lower-cased names, and one applyEdits copy of it all', true)
b.proxy.buildHeaders = false

await suite.run()
b.stop()
assert.ok(written.heads > 0, 'the respond case wrote its replies')
