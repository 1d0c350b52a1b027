// bench/runtime/cors.bench.ts: the `cors` stage's per-request cost (policies/cors/stage.ts) — an allowed origin
// (exact: a Set lookup; wildcard: a suffix check and a label scan), a refused one, no Origin, `origins "*"`, the
// preflight answers — and what its edits cost where the answer's headers are made (gatewayResponseHeaders over a
// typical upstream answer, with and without the stage's four edits).
// Run: npm run build && node --expose-gc dist/bench/runtime/cors.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { CONTINUE } from '../../config/stage.js'
import { createCorsStage } from '../../policies/cors/stage.js'
import type { CorsOptions } from '../../policies/cors/options.js'
import { RequestContext } from '../../runtime/context.js'
import { clientResponseHeaders, gatewayResponseHeaders } from '../../runtime/headers.js'
import { Reply } from '../../runtime/reply.js'
import { loadBenchBundle } from './kit/bench-bundle.js'
import { browserHeaders, fakeRequest, fakeResponse, upstreamResponseRaw, type RawHeaders } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const b = await loadBenchBundle({ tokens: 1 })
const HOST = 'api.example.com'
const opts: CorsOptions = {
  route: 'cors_bench', origins: ['https://app.example.com', 'https://admin.example.com'], wildcards: ['https://*.partner.example.com'],
  methods: ['GET', 'POST', 'PUT'], headers: ['x-trace', 'content-type'], expose: ['x-request-id'], credentials: true, maxAgeS: 600,
}
const echo = createCorsStage(opts, b.env)
const any = createCorsStage({ ...opts, origins: ['*'], wildcards: [], credentials: false }, b.env)

function ctxWith(extra: RawHeaders, method = 'GET'): RequestContext {
  const c = new RequestContext(fakeRequest({ method, url: '/v1/orders', headers: browserHeaders(HOST, extra) }), fakeResponse().res, performance.now())
  c.id = 'b3c1f0a2d4e5'
  return c
}
const exact = ctxWith([['Origin', 'https://app.example.com']])
const wild = ctxWith([['Origin', 'https://eu.shop.partner.example.com']])
const refused = ctxWith([['Origin', 'https://partner.example.com.evil.test']])
const none = ctxWith([])
const preflight = ctxWith([['Origin', 'https://app.example.com'], ['Access-Control-Request-Method', 'PUT'], ['Access-Control-Request-Headers', 'content-type,x-trace']], 'OPTIONS')
const badPreflight = ctxWith([['Origin', 'https://evil.test'], ['Access-Control-Request-Method', 'PUT']], 'OPTIONS')

/** Runs the stage on a context whose edits are cleared first (a fresh request has none). */
const run = (stage: typeof echo, c: RequestContext) => { c.resEdits = null; return stage(c) }

for (const c of [exact, wild, refused, none]) assert.equal(run(echo, c), CONTINUE)
assert.deepEqual(exact.resEdits, [null, 'vary', 'Origin', 'access-control-allow-origin', 'https://app.example.com', 'access-control-allow-credentials', 'true', 'access-control-expose-headers', 'x-request-id'])
assert.ok(run(echo, preflight) instanceof Reply && (run(echo, preflight) as Reply).status === 204)
assert.equal((run(echo, badPreflight) as Reply).status, 403)

const upstream = upstreamResponseRaw()
run(echo, exact)
const withEdits = exact
const plain = ctxWith([])
const merged = gatewayResponseHeaders(withEdits, clientResponseHeaders(upstream), false, performance.now())
assert.ok(merged.includes('Accept-Encoding, Authorization') && merged.includes('Origin'), 'Vary kept and added')

const suite = createSuite(import.meta.url, 'the cors stage (policies/cors/stage.ts) and its response-header edits')
suite
  .add('cors: allowed origin, exact (Set lookup)', 'the resEdits array (4 edits: 10 slots), nothing else: the origin string is the request\'s own', () => run(echo, exact))
  .add('cors: allowed origin, wildcard (suffix + label scan)', 'as above', () => run(echo, wild))
  .add('cors: disallowed origin (look-alike)', 'the resEdits array (3 edits)', () => run(echo, refused))
  .add('cors: no Origin', 'the resEdits array (Vary only)', () => run(echo, none))
  .add('cors: origins "*"', 'the resEdits array (2 edits)', () => run(any, exact))
  .add('cors: preflight allowed (204 built per request)', 'the requested-header split, the header array and the Reply', () => run(echo, preflight))
  .add('cors: preflight refused (403, prebuilt)', 'nothing: the 403 is built at load', () => run(echo, badPreflight))
  .add('response headers: upstream answer, no edits (a route without cors)', 'the client list and the gateway\'s two headers', () => gatewayResponseHeaders(plain, clientResponseHeaders(upstream), false, performance.now()))
  .add('response headers: upstream answer + the cors edits of an allowed origin', 'as above + the edited lines appended in place (applyEdits: one pass, no copy of the list)', () => gatewayResponseHeaders(withEdits, clientResponseHeaders(upstream), false, performance.now()))

await suite.run()
