// bench/runtime/access-log.bench.ts: runtime/access-log.ts AccessLog.log, one line per finished request, to
// /dev/null: a proxied request, a gateway refusal (no upstream fields), and a line whose client text needs
// JSON escaping. Batches are written asynchronously, so the cases yield to the event loop between batches
// (as a server does between requests) and the amortised join + write is part of the time.
// Run: npm run build && node --expose-gc dist/bench/runtime/access-log.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { AccessLog } from '../../runtime/access-log.js'
import { RequestContext } from '../../runtime/context.js'
import type { RefusalCode } from '../../runtime/errors.js'
import type { RouteRuntime } from '../../runtime/route-runtime.js'
import { readHead } from '../../runtime/request-head.js'
import { browserHeaders, fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const log = new AccessLog('/dev/null')
const { res } = fakeResponse()

function finished(url: string, o: { route: string | null; status: number; upstream?: string; error?: RefusalCode }): RequestContext {
  const ctx = new RequestContext(fakeRequest({ url, headers: browserHeaders('api.bench.test') }), res, performance.now())
  assert.ok(readHead(ctx, { trusted: null }))
  ctx.route = o.route === null ? null : ({ name: o.route } as RouteRuntime)
  ctx.status = o.status
  if (o.upstream !== undefined) { ctx.upstreamAddr = o.upstream; ctx.upstreamName = 'orders'; ctx.upstreamMs = 3.2174; ctx.attempts = 1 }
  if (o.error !== undefined) ctx.errorCode = o.error
  return ctx
}

const proxied = finished('/v1/orders/lookup/1042', { route: 'orders_lookup', status: 200, upstream: '127.0.0.1:9204' })
const refused = finished('/v9/nothing', { route: null, status: 404, error: 'GW_ERR_NO_ROUTE' })
const escaped = finished('/v1/search/caf%C3%A9/"quoted"', { route: 'search_lookup', status: 200, upstream: '127.0.0.1:9213' })
escaped.host = 'api.bench.test' // readHead lower-cased it already; the path keeps its quotes
assert.ok(escaped.path.includes('"'))

const suite = createSuite(import.meta.url, 'access log lines (runtime/access-log.ts) to /dev/null')
suite
  .add('proxied request (upstream fields)', 'the line (~330 chars, one template literal), Date.now(), round3 numbers; UTF-8 into the pooled buffer, the amortised writev', () => log.log(proxied, 4.7391, false), { yields: true })
  .add('gateway refusal (404, no route)', 'the shorter line (~250 chars) and its pieces', () => log.log(refused, 0.0812, false), { yields: true })
  .add('path needs escaping (JSON.stringify)', 'as proxied + the JSON.stringify copy of the path', () => log.log(escaped, 4.7391, false), { yields: true })

// What the hand-built line replaced (docs/FINDINGS.md): the same fields through pino.info and an async pino
// destination, as the first version of the access log did.
const pinoLog = pino({ base: { pid: process.pid } }, pino.destination({ dest: '/dev/null', sync: false }))
suite.add('pino.info, same fields (what the access line replaced)', 'the field object, pino\'s serialisation, the destination\'s buffer bookkeeping',
  () => pinoLog.info({ id: proxied.id, trace: proxied.trace?.traceId, method: 'GET', host: proxied.host, path: proxied.path, route: 'orders_lookup', status: 200, ms: 4.739, ip: proxied.clientIp, upstream: '127.0.0.1:9204', upstreamMs: 3.217, tries: 1 }, 'access'),
  { yields: true })

await suite.run()
assert.equal(log.dropped, 0, 'no line was dropped (the writes kept up)')
await log.close()
