// bench/runtime/headers.bench.ts: header filtering at the proxy boundary (runtime/headers.ts, reply.ts) —
// the list sent upstream for a typical browser request (untrusted peer, through a trusted proxy, after auth
// with identity headers and an edit), and the client's response headers built from undici's raw Buffers.
// Run: npm run build && node --expose-gc dist/bench/runtime/headers.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { trustedProxyList } from '../../config/settings.js'
import { RequestContext } from '../../runtime/context.js'
import { clientResponseHeaders, gatewayResponseHeaders, upstreamRequestHeaders, type OutboundOptions } from '../../runtime/headers.js'
import { readHead } from '../../runtime/request-head.js'
import { browserHeaders, fakeRequest, fakeResponse, upstreamResponseRaw, type RawHeaders } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const HOST = 'shop.example.com'
const trusted = trustedProxyList(['10.0.0.0/8'])
const outbound: OutboundOptions = { identity: new Set(['x-user-id', 'x-tenant-id']), via: true }
const AUTHORIZATION: ReadonlySet<string> = new Set(['authorization'])
const { res } = fakeResponse()

function context(extra: RawHeaders, remoteAddress: string): RequestContext {
  const req = fakeRequest({ url: '/v1/orders/lookup?id=7', headers: browserHeaders(HOST, extra), remoteAddress })
  const ctx = new RequestContext(req, res, performance.now())
  assert.ok(readHead(ctx, { trusted }), ctx.reason)
  return ctx
}

const plain = context([], '198.51.100.23')
const proxied = context([
  ['X-Forwarded-For', '203.0.113.7, 10.1.2.3'], ['X-Forwarded-Proto', 'https'], ['X-Forwarded-Host', HOST],
], '10.0.0.5')
assert.equal(proxied.peerTrusted, true)
const authed = context([['Authorization', 'Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl']], '198.51.100.23')
authed.state.identity = [{ header: 'x-user-id', value: 'user-1' }, { header: 'x-tenant-id', value: 'tenant-1' }]
authed.setRequestHeader('x-bench-chain', 'full')

// The outbound lists must be what the rules say, or the cases would time the wrong work.
const names = (h: string[]): string[] => h.filter((_, i) => i % 2 === 0).map(n => n.toLowerCase())
assert.ok(!names(upstreamRequestHeaders(plain, outbound, null)).includes('connection'))
assert.ok(upstreamRequestHeaders(proxied, outbound, null).includes('203.0.113.7, 10.1.2.3, 10.0.0.5'))
const authedOut = names(upstreamRequestHeaders(authed, outbound, AUTHORIZATION))
assert.ok(!authedOut.includes('authorization') && authedOut.includes('x-user-id') && authedOut.includes('x-bench-chain'))

plain.upstreamMs = 3.2174 // a proxied answer: Server-Timing names both durations
const typical = upstreamResponseRaw()
const closing = upstreamResponseRaw([['Connection', 'close, X-Internal'], ['X-Internal', 'debug']])
assert.ok(!names(clientResponseHeaders(typical)).includes('keep-alive'))
assert.ok(!names(clientResponseHeaders(closing)).includes('x-internal'))

const suite = createSuite(import.meta.url, 'header filtering at the proxy boundary (runtime/headers.ts, reply.ts)')
suite
  .add('upstream request: browser set (15 fields), untrusted peer', 'the out array (~40 slots), lower-cased copies of mixed-case names, traceparent string',
    () => upstreamRequestHeaders(plain, outbound, null))
  .add('upstream request: via trusted proxy (X-Forwarded-* extended)', 'as above + the extended X-Forwarded-For string',
    () => upstreamRequestHeaders(proxied, outbound, null))
  .add('upstream request: after auth (identity headers, 1 edit)', 'as above; the edit applied in place (applyEdits: one pass, names compared without lower-cased copies)',
    () => upstreamRequestHeaders(authed, outbound, AUTHORIZATION))
  .add('client response: 9 fields from raw Buffers', 'a latin1 string per name and value, the out array',
    () => clientResponseHeaders(typical))
  .add('client response: Connection: close, X-Internal', 'as above + the Connection token array and a second filtered copy',
    () => clientResponseHeaders(closing))
  .add('client response + gateway headers (request id, Server-Timing, Via)', 'as 9 fields + two toFixed strings and the Server-Timing string',
    () => gatewayResponseHeaders(plain, clientResponseHeaders(typical), true, performance.now()))

await suite.run()
