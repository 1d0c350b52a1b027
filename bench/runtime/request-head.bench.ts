// bench/runtime/request-head.bench.ts: runtime/request-head.ts readHead, the first thing every request pays:
// header-count and Host checks over rawHeaders, target and path normalisation, request id and trace context,
// the client address (X-Forwarded-For through a trusted proxy). One context per case, overwritten by each call.
// Run: npm run build && node --expose-gc dist/bench/runtime/request-head.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { trustedProxyList } from '../../config/settings.js'
import { RequestContext } from '../../runtime/context.js'
import { readHead } from '../../runtime/request-head.js'
import { browserHeaders, fakeRequest, fakeResponse, type FakeRequestInit } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const HOST = 'api.bench.test'
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
const { res } = fakeResponse()
const trusted = { trusted: trustedProxyList(['10.0.0.0/8']) }
const untrusted = { trusted: null }

const suite = createSuite(import.meta.url, 'readHead (runtime/request-head.ts) on a browser request (15 fields)')

function add(name: string, note: string, init: FakeRequestInit, o: typeof trusted | typeof untrusted, check: (ctx: RequestContext, ok: boolean) => void): void {
  const ctx = new RequestContext(fakeRequest(init), res, performance.now())
  check(ctx, readHead(ctx, o))
  suite.add(name, note, () => readHead(ctx, o))
}

add('browser GET, no ids: generates request id and trace', 'request id string, TraceContext + 32-hex trace id, 16-hex span id, host lower-cased',
  { url: '/v1/orders/lookup?id=7', headers: browserHeaders(HOST) }, untrusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.trace?.propagated, false); assert.equal(ctx.query, '?id=7') })
add('browser GET with X-Request-Id and traceparent', 'TraceContext + regex match array and its three id substrings, span id',
  { url: '/v1/orders/lookup', headers: browserHeaders(HOST, [['X-Request-Id', 'client-7f3a9c'], ['traceparent', TRACEPARENT]]) }, untrusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.id, 'client-7f3a9c'); assert.equal(ctx.trace?.propagated, true) })
add('via trusted proxy: X-Forwarded-For client', 'as no ids + the XFF split array; three BlockList checks (peer, two XFF entries)',
  { url: '/v1/orders/lookup', headers: browserHeaders(HOST, [['X-Forwarded-For', '203.0.113.7, 10.1.2.3']]), remoteAddress: '10.0.0.5' }, trusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.clientIp, '203.0.113.7') })
add('trusted proxies configured, direct client', 'as no ids + one BlockList.check: a SocketAddress (JS object + native handle) per call',
  { url: '/v1/orders/lookup', headers: browserHeaders(HOST), remoteAddress: '198.51.100.23' }, trusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.peerTrusted, false) })
add('absolute-form target http://api.bench.test/v1/...', 'as no ids + the regex match array and two host copies',
  { url: `http://${HOST}/v1/orders/lookup`, headers: browserHeaders(HOST) }, untrusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.path, '/v1/orders/lookup') })
add('dot segments /v1/./orders/../orders/lookup', 'as no ids + normalizePath\'s copy, split and join',
  { url: '/v1/./orders/../orders/lookup', headers: browserHeaders(HOST) }, untrusted,
  (ctx, ok) => { assert.ok(ok); assert.equal(ctx.path, '/v1/orders/lookup') })
add('refused early: two Host fields', 'lower-cased copies of the 4-letter names while counting Host',
  { url: '/v1/orders/lookup', headers: browserHeaders(HOST, [['Host', 'evil.example']]) }, untrusted,
  (ctx, ok) => { assert.equal(ok, false); assert.equal(ctx.reason, 'duplicate_host') })

await suite.run()
