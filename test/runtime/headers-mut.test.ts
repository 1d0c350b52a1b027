// test/runtime/headers-mut.test.ts: the exact header lists runtime/headers.ts builds, at the corners mutating it
// showed no test pinned: Connection values that name no header (the http1 engine's rendered head stays in use),
// names of the same length as the ones the code looks for (Content-Length, Connection, Host), the route's plan
// dropping the gateway's own lines, an encrypted or vanished client socket, a zero upstream time, the `gwc test`
// response edits, and edit names compared case-insensitively. Came from mutating runtime/headers.ts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { trustedProxyList } from '../../config/settings.js'
import { HeadPlanBuilder, type StaticEdit } from '../../compiler/codegen/head-plan.js'
import { RequestContext } from '../../runtime/context.js'
import { HEAD_CONTENT_LENGTH, HEAD_DATE } from '../../runtime/edge.js'
import { HEAD_PLANS } from '../../runtime/head-plan.js'
import { applyEdits, editResponseHeaders, gatewayResponseHeaders, renderUpstreamHeaders, upstreamRequestHeaders, writeUpstreamHead, type OutboundOptions } from '../../runtime/headers.js'
import { readHead } from '../../runtime/request-head.js'
import { fakeRequest, fakeResponse, type RawHeaders } from '../../bench/runtime/kit/fake-http.js'

const identity: ReadonlySet<string> = new Set(['x-user-id'])
const o: OutboundOptions = { identity, via: false }
const trusted = trustedProxyList(['10.0.0.0/8'])
const TP = /^(traceparent: )\S+(\r\n)/m

/** A request that passed readHead, from `remoteAddress` (10.0.0.5 is a trusted proxy). */
function request(headers: RawHeaders, init: { remoteAddress?: string; encrypted?: boolean } = {}): RequestContext {
  const ctx = new RequestContext(fakeRequest({ url: '/p', headers, ...init }), fakeResponse().res, 1000)
  assert.ok(readHead(ctx, { trusted }), ctx.reason)
  ctx.id = 'rid'
  return ctx
}

/** The upstream pairs with the traceparent value (random per request) replaced by `*`. */
function pairs(ctx: RequestContext): string[] {
  const h = upstreamRequestHeaders(ctx, o, null)
  const t = h.indexOf('traceparent')
  if (t >= 0) h[t + 1] = '*'
  return h
}
const lines = (ctx: RequestContext): string => renderUpstreamHeaders(ctx, o, null, 'replica:1').replace(TP, '$1*$2')

const plan = (target: 'request' | 'response', ops: StaticEdit[]) => HEAD_PLANS[target](new HeadPlanBuilder().add(ops))

/** What writeUpstreamHead hands the engine's writeHead for an upstream's answer (raw as undici's Buffers). */
function head(ctx: RequestContext, raw: string[], opts: OutboundOptions): unknown[] {
  const writes: unknown[][] = []
  ;(ctx as { res: RequestContext['res'] }).res = { writeHead: (...a: unknown[]) => { writes.push(a) } } as unknown as RequestContext['res']
  writeUpstreamHead(ctx, 200, raw.map(s => Buffer.from(s, 'latin1')), opts, ctx.start + 2)
  assert.equal(writes.length, 1)
  return writes[0]
}

test('a client Connection naming headers: those go, in any case, on both the pairs and the string form', () => {
  const ctx = request([['Host', 'shop.test'], ['Connection', 'close, X-Private'], ['X-Private', 's'], ['X-Kept', 'k']])
  assert.deepEqual(pairs(ctx), ['Host', 'shop.test', 'X-Kept', 'k', 'x-forwarded-for', '198.51.100.23', 'x-forwarded-proto', 'http',
    'x-forwarded-host', 'shop.test', 'x-request-id', 'rid', 'traceparent', '*'])
  assert.equal(lines(ctx), 'host: shop.test\r\nX-Kept: k\r\nx-forwarded-for: 198.51.100.23\r\nx-forwarded-proto: http\r\n' +
    'x-forwarded-host: shop.test\r\nx-request-id: rid\r\ntraceparent: *\r\n')
})

test('an upstream Connection that names only close/keep-alive (any case, spaces, empty items) keeps the http1 engine\'s rendered head; one naming a header does not', () => {
  for (const conn of ['keep-alive, close', 'Close, Keep-Alive', 'keep-alive,', ' close ', 'CLOSE', ', ,keep-alive']) {
    const ctx = request([['Host', 'a.test']])
    assert.deepEqual(head(ctx, ['Content-Length', '2', 'Connection', conn, 'Keep-Alive', 'timeout=5', 'X-A', '1'], { identity, via: true, rendered: true }),
      [200, [], 'Content-Length: 2\r\nX-A: 1\r\nx-request-id: rid\r\nserver-timing: gw;dur=2\r\nvia: 1.1 gwp\r\n', HEAD_CONTENT_LENGTH], conn)
  }
  // a header named in Connection goes wherever it stands: the pairs form, which filters it
  const ctx = request([['Host', 'a.test']])
  assert.deepEqual(head(ctx, ['X-Hop', 'h', 'Content-Length', '2', 'Connection', 'close, x-hop', 'X-A', '1'], { identity, via: true, rendered: true }),
    [200, ['Content-Length', '2', 'X-A', '1', 'x-request-id', 'rid', 'server-timing', 'gw;dur=2', 'via', '1.1 gwp']])
})

test('a 14-character name other than Content-Length is an ordinary line: sent upstream, and not taken for a length in the rendered head', () => {
  const ctx = request([['Host', 'shop.test'], ['Accept-Charset', 'utf-8'], ['Content-Length', '0'], ['X-Abcdefghijkl', 'x']])
  const want = 'host: shop.test\r\nAccept-Charset: utf-8\r\nX-Abcdefghijkl: x\r\nx-forwarded-for: 198.51.100.23\r\nx-forwarded-proto: http\r\n' +
    'x-forwarded-host: shop.test\r\nx-request-id: rid\r\ntraceparent: *\r\n'
  assert.equal(lines(ctx), want)
  // the generic path (an edit recorded per request) writes the same lines
  ctx.setRequestHeader('x-edit', 'e')
  assert.equal(lines(ctx), want + 'x-edit: e\r\n')
  // the answer: no Content-Length among the upstream's lines, so the engine is told of none (it frames the body)
  const res = request([['Host', 'a.test']])
  assert.deepEqual(head(res, ['X-Request-Cost', '3', 'Accept-Charset', 'utf-8', 'Date', 'Sun, 29 Nov 2026 01:50:00 GMT'], { identity, via: false, rendered: true }),
    [200, [], 'X-Request-Cost: 3\r\nAccept-Charset: utf-8\r\nDate: Sun, 29 Nov 2026 01:50:00 GMT\r\nx-request-id: rid\r\nserver-timing: gw;dur=2\r\n', HEAD_DATE])
})

test('a trusted proxy\'s Forwarded is replaced when the route sets forwarded (the plan\'s line only)', () => {
  const ctx = request([['Host', 'shop.test'], ['Forwarded', 'for=192.0.2.1'], ['X-A', '1']], { remoteAddress: '10.0.0.5' })
  ctx.requestPlan(plan('request', [{ name: 'forwarded', value: 'for=gw' }]))
  assert.deepEqual(pairs(ctx), ['Host', 'shop.test', 'X-A', '1', 'x-forwarded-for', '10.0.0.5', 'x-forwarded-proto', 'http',
    'x-forwarded-host', 'shop.test', 'x-request-id', 'rid', 'traceparent', '*', 'forwarded', 'for=gw'])
  // and kept, as sent, when the route does not touch it
  const kept = request([['Host', 'shop.test'], ['Forwarded', 'for=192.0.2.1']], { remoteAddress: '10.0.0.5' })
  assert.deepEqual(pairs(kept).slice(0, 4), ['Host', 'shop.test', 'Forwarded', 'for=192.0.2.1'])
})

test('X-Forwarded-Proto: https from a TLS client; none at all when the route removes it', () => {
  const tls = request([['Host', 'shop.test']], { encrypted: true })
  assert.deepEqual(pairs(tls), ['Host', 'shop.test', 'x-forwarded-for', '198.51.100.23', 'x-forwarded-proto', 'https',
    'x-forwarded-host', 'shop.test', 'x-request-id', 'rid', 'traceparent', '*'])
  assert.equal(lines(tls), 'host: shop.test\r\nx-forwarded-for: 198.51.100.23\r\nx-forwarded-proto: https\r\nx-forwarded-host: shop.test\r\n' +
    'x-request-id: rid\r\ntraceparent: *\r\n')
  const removed = request([['Host', 'shop.test'], ['X-Forwarded-Proto', 'https']], { encrypted: true })
  removed.requestPlan(plan('request', [{ name: 'x-forwarded-proto', value: null }]))
  assert.deepEqual(pairs(removed), ['Host', 'shop.test', 'x-forwarded-for', '198.51.100.23', 'x-forwarded-host', 'shop.test',
    'x-request-id', 'rid', 'traceparent', '*'])
  assert.equal(lines(removed), 'host: shop.test\r\nx-forwarded-for: 198.51.100.23\r\nx-forwarded-host: shop.test\r\nx-request-id: rid\r\ntraceparent: *\r\n')
})

test('a client socket already gone (no remote address): X-Forwarded-For is empty, not made up', () => {
  const ctx = request([['Host', 'shop.test']])
  ;(ctx.req.socket as { remoteAddress?: string }).remoteAddress = undefined
  assert.deepEqual(pairs(ctx).slice(2, 4), ['x-forwarded-for', ''])
  assert.match(lines(ctx), /^x-forwarded-for: \r\n/m)
})

test('Server-Timing names the upstream when its time was 0 ms (only -1 means no upstream)', () => {
  const ctx = request([['Host', 'a.test']])
  ctx.upstreamMs = 0
  assert.deepEqual(gatewayResponseHeaders(ctx, [], false, ctx.start + 2), ['x-request-id', 'rid', 'server-timing', 'gw;dur=2, upstream;dur=0'])
  ctx.upstreamMs = -1
  assert.deepEqual(gatewayResponseHeaders(ctx, [], false, ctx.start + 2), ['x-request-id', 'rid', 'server-timing', 'gw;dur=2'])
})

/** A list that refuses to grow past 32 entries: a runaway loop fails the test at once instead of eating memory. */
function bounded(xs: string[]): string[] {
  return Object.assign(xs, { push(this: string[], ...v: string[]) { if (this.length + v.length > 32) throw new Error('runaway push'); return Array.prototype.push.apply(this, v) } })
}

test('gwc test\'s answer headers: the route\'s response plan drops and sets over the upstream\'s lines, then the per-request edits', () => {
  const ctx = request([['Host', 'a.test']])
  ctx.responsePlan(plan('response', [{ name: 'x-frame-options', value: 'DENY' }, { name: 'server', value: null }, { name: 'x-b', value: '2' }]))
  const up = ['Server', 'nginx', 'X-Frame-Options', 'SAMEORIGIN', 'Content-Type', 'text/plain']
  assert.deepEqual([...editResponseHeaders(ctx, bounded([...up]))], ['Content-Type', 'text/plain', 'x-frame-options', 'DENY', 'x-b', '2'])
  ctx.addResponseHeader('vary', 'Origin')
  assert.deepEqual([...editResponseHeaders(ctx, bounded([...up]))], ['Content-Type', 'text/plain', 'x-frame-options', 'DENY', 'x-b', '2', 'vary', 'Origin'])
})

test('an edit names its header exactly: not a shorter name it begins with; Z and z are the same letter', () => {
  assert.deepEqual(applyEdits(['X-Cache', 'HIT', 'X-Zone', 'eu', 'Zz', '1'], ['x-cache-status', null, 'x-zone', null, 'zz', '2']), ['X-Cache', 'HIT', 'zz', '2'])
})
