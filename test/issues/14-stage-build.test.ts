// test/issues/14-stage-build.test.ts: what runtime/stages.ts decides at load, pinned (the mutation run, area
// edge, found it unpinned): only a route that verifies a bearer token (`auth`) strips the client's
// Authorization, and keeps every other header; a route without stages or with other stages (ratelimit,
// headers) forwards it untouched. The gateway builds each policy's own stage, never the `gwc test` stand-in
// (the offline auth stage refuses to run in a gateway); `gwc test` builds the stand-in only for a policy that
// has one (`headers` has none and runs as itself).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startIdp, type Idp } from '../../testkit/idp/index.js'
import { pino } from 'pino'
import { DEFAULT_SETTINGS } from '../../config/settings.js'
import { CONTINUE, type Stage } from '../../config/stage.js'
import type { RequestContext } from '../../runtime/context.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { runSuite } from '../../runtime/offline.js'
import { createStageEnv } from '../../runtime/stage-env.js'
import { createBuildDeps } from '../../runtime/stages.js'
import { bundleFrom, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { maskHead, req, wireExchange } from '../helpers/wire.js'

let idp: Idp
let up: RecordingUpstream
let gw: TestGateway
let port: number

const policy = (upstream: string, idp: Idp) => `
upstream web { replicas ${upstream} }
jwt idp {
  issuer "${idp.issuer}"
  jwks "${idp.jwksUrl}" refresh 5m
}
route authed { match path "/authed"; auth idp; timeout 2s; proxy web }
route limited { match path "/limited"; ratelimit by ip 100 per 1m; timeout 2s; proxy web }
route edited { match path "/edited"; headers set X-Edit "1"; timeout 2s; proxy web }
route plain { match path "/plain"; timeout 2s; proxy web }
`

before(async () => {
  ;[idp, up] = await Promise.all([startIdp({ algorithms: ['ES256'] }), startRecordingUpstream(1)])
  gw = await startGateway(policy(up.addrs, idp))
  port = gw.running.address.port
})
after(async () => { await gw?.close(); await up?.close(); await idp?.close() })

test('a route with auth verifies the token and strips Authorization only: the headers around it are forwarded', async () => {
  up.reset()
  const token = await idp.sign({}, { subject: 'alice' })
  const r = await wireExchange(port, req('GET /authed HTTP/1.1', 'Host: shop.test', 'X-Before: 1', `Authorization: Bearer ${token}`,
    'X-After: 2', 'Cookie: c=3', 'X-Request-Id: sb-1'))
  assert.equal(r.status, 200, r.head)
  assert.equal(up.received.length, 1)
  assert.equal(maskHead(up.received[0].rawHead, ['traceparent']), [
    'GET /authed HTTP/1.1',
    'host: shop.test',
    'connection: keep-alive',
    'X-Before: 1',
    'X-After: 2',
    'Cookie: c=3',
    'x-forwarded-for: 127.0.0.1',
    'x-forwarded-proto: http',
    'x-forwarded-host: shop.test',
    'x-request-id: sb-1',
    'traceparent: *',
    'via: 1.1 gwp',
  ].join('\r\n'))
})

test('a route without auth forwards Authorization as sent, whatever its other stages', async () => {
  for (const path of ['/limited', '/edited', '/plain']) {
    up.reset()
    const r = await wireExchange(port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test', 'Authorization: Basic dTpw', 'X-After: 2'))
    assert.equal(r.status, 200, `${path}: ${r.head}`)
    assert.equal(up.received.length, 1)
    assert.deepEqual(up.received[0].all('authorization'), ['Basic dTpw'], `${path} forwards Authorization`)
    assert.deepEqual(up.received[0].all('x-after'), ['2'], path)
  }
})

test('gwc test strips Authorization on the auth route only, as the gateway does', () => {
  const b = bundleFrom(policy('127.0.0.1:1', idp))
  const res = runSuite(b.manifest, b.moduleText, [
    { name: 'edited', request: 'GET http://x.test/edited', headers: { Authorization: 'Basic dTpw' },
      expect: { status: 200, stages: ['headers', 'proxy'], forwarded: { 'X-Edit': '1', Authorization: 'Basic dTpw' } } },
    { name: 'authed', request: 'GET http://x.test/authed', headers: { Authorization: 'Bearer x' }, as: { sub: 'alice' },
      expect: { status: 200, stages: ['auth', 'proxy'], forwarded: { Authorization: null } } },
  ])
  assert.deepEqual(res.cases.map(c => `${c.name}: ${c.ok ? 'ok' : c.failures.join('; ')}`), ['edited: ok', 'authed: ok'])
})

test('built for gwc test, a policy without an offline stand-in (headers) is made by its own factory', () => {
  const ir = bundleFrom(policy('127.0.0.1:1', idp)).manifest.ir
  const env = createStageEnv(ir, {
    settings: DEFAULT_SETTINGS, metrics: new GatewayMetrics({ defaultMetrics: false }), log: pino({ enabled: false }), redis: null,
    now: () => 0, shared: <T>(_key: string, create: () => T): T => create(), offline: { claims: () => undefined, consumer: () => undefined },
  })
  const deps = createBuildDeps(ir, env, { offline: true, proxy: () => () => { throw new Error('not called') } })
  // generated code emits `headers` inline; anything building stages from options gets the policy's own stage
  const stage = deps.stages.headers({ route: 'edited', target: 'request', ops: [{ op: 'set', name: 'x-edit', value: '1' }] } as never) as Stage
  const edits: string[] = []
  const ctx = { setRequestHeader: (n: string, v: string) => { edits.push(n, v) } } as unknown as RequestContext
  assert.equal(stage(ctx), CONTINUE)
  assert.deepEqual(edits, ['x-edit', '1'])
})
