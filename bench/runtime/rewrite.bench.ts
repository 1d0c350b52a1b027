// bench/runtime/rewrite.bench.ts: the per-request cost of issue 12's rewrites and redirects — the `rewrite`
// stage (policies/rewrite/stage.ts: strip, prefix, regex with its normal-form re-check, host), the
// `respond redirect` terminal (runtime/respond.ts with config/location.ts) and the `redirect https` stage
// (policies/redirect/stage.ts). A route without them pays nothing of this: the proxy reads ctx.upstreamPath,
// which readHead sets (request-head.bench.ts times that).
// Run: npm run build && node --expose-gc dist/bench/runtime/rewrite.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { CONTINUE } from '../../config/stage.js'
import { createRedirectStage } from '../../policies/redirect/stage.js'
import { createRewriteStage } from '../../policies/rewrite/stage.js'
import { RequestContext } from '../../runtime/context.js'
import { readHead } from '../../runtime/request-head.js'
import { Reply } from '../../runtime/reply.js'
import { createRespondStage } from '../../runtime/respond.js'
import { BlockList } from 'node:net'
import { fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const PATH = '/api/users/42?page=2'
function context(url: string, headers: [string, string][] = [['Host', 'api.bench.test']], remoteAddress = '198.18.0.9'): RequestContext {
  const ctx = new RequestContext(fakeRequest({ url, headers, remoteAddress }), fakeResponse().res, performance.now())
  const trusted = new BlockList()
  trusted.addSubnet('198.18.0.0', 16)
  assert.ok(readHead(ctx, { trusted }), ctx.reason)
  return ctx
}
const ctx = context(PATH)
const odd = context('/api/caf%C3%A9/%22quoted%22?q="x"')
const viaProxy = context(PATH, [['Host', 'api.bench.test'], ['X-Forwarded-Proto', 'https']])

const strip = createRewriteStage({ route: 'b', op: 'prefix', from: '/api', to: '' })
const prefix = createRewriteStage({ route: 'b', op: 'prefix', from: '/api/users', to: '/v2/people' })
const other = createRewriteStage({ route: 'b', op: 'prefix', from: '/admin', to: '' })
const regex = createRewriteStage({ route: 'b', op: 'regex', pattern: '^/api/users/([0-9]+)$', lits: ['/u/', ''], refs: [1] })
const regexMiss = createRewriteStage({ route: 'b', op: 'regex', pattern: '^/api/orders/([0-9]+)$', lits: ['/o/', ''], refs: [1] })
const host = createRewriteStage({ route: 'b', op: 'host', host: 'users.internal', keep: false })
const redirect = createRespondStage({ route: 'b', status: 308, body: '', contentType: 'text/plain', headers: [], redirect: { target: 'https://{host}{path}?{query}', parts: [{ text: 'https://' }, { part: 'host' }, { part: 'path' }, { part: 'query', lead: '?' }] } })
const https = createRedirectStage({ route: 'b', status: 308 })

const run = (stage: (c: RequestContext) => unknown, c: RequestContext) => { c.upstreamPath = PATH; return stage(c) }
assert.equal(run(strip, ctx), CONTINUE); assert.equal(ctx.upstreamPath, '/users/42?page=2')
assert.equal(run(prefix, ctx), CONTINUE); assert.equal(ctx.upstreamPath, '/v2/people/42?page=2')
assert.equal(run(regex, ctx), CONTINUE); assert.equal(ctx.upstreamPath, '/u/42?page=2')
assert.equal(run(regexMiss, ctx), CONTINUE); assert.equal(ctx.upstreamPath, PATH)
assert.equal((redirect(ctx) as Reply).headers[1], 'https://api.bench.test/api/users/42?page=2')
assert.equal((redirect(odd) as Reply).headers[1], 'https://api.bench.test/api/caf%C3%A9/%22quoted%22?q=%22x%22')
assert.equal(https(viaProxy), CONTINUE)
assert.ok(https(ctx) instanceof Reply)

const suite = createSuite(import.meta.url, `rewrites and redirects (${PATH})`)
suite
  .add('rewrite strip /api: applies', 'the new path+query string (a slice and a concatenation)', () => run(strip, ctx))
  .add('rewrite prefix /api/users → /v2/people: applies', 'as strip', () => run(prefix, ctx))
  .add('rewrite strip: path outside the prefix', 'nothing', () => run(other, ctx))
  .add('rewrite regex: matches (with the normal-form re-check)', 'the match array, the new path, the query slice', () => run(regex, ctx))
  .add('rewrite regex: no match', 'the path slice', () => run(regexMiss, ctx))
  .add('rewrite host "users.internal"', 'the request-edit array (reset per call here, as per request)', () => { ctx.reqEdits = null; return host(ctx) })
  .add('respond redirect 308 https://{host}{path}?{query}', 'the Location string, a Reply and its header array', () => redirect(ctx))
  .add('respond redirect: path and query needing escapes', 'as above plus the encoded copies', () => redirect(odd))
  .add('redirect https: arrived over HTTPS (trusted X-Forwarded-Proto)', 'nothing', () => https(viaProxy))
  .add('redirect https: plain HTTP → 308', 'the Location string, a Reply and its header array', () => https(ctx))
await suite.run()
