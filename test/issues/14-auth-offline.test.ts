// test/issues/14-auth-offline.test.ts: the `auth` stage as `gwc test` runs it (policies/auth/stage.ts
// createOfflineAuthStage, reached through the runtime half's `offline` factory), in-process: a case's declared
// claims stand in for a verified token; without them a request is refused as the gateway refuses it (no or a
// malformed Authorization: 401 Bearer; a well-formed bearer token: 401 invalid_token); the audience check and the
// identity headers are the gateway's own. bin/gwc-test checks the same through gwc at seconds per case; this is
// the fast test the mutation run (area policies) runs for the offline stage.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { loadSettings } from '../../config/settings.js'
import { CONTINUE } from '../../config/stage.js'
import { policy } from '../../policies/auth/runtime.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import type { Reply } from '../../runtime/reply.js'
import { createStageEnv } from '../../runtime/stage-env.js'

const provider: JwtProviderIR = {
  kind: 'jwt', name: 'idp', issuer: 'https://idp.example/', jwksUrl: 'http://127.0.0.1:9/jwks', refreshMs: 300_000, refreshAheadMs: 30_000, unknownKidCooldownMs: 30_000,
  maxStaleMs: 900_000, fetchTimeoutMs: 2000, algorithms: ['ES256'], audience: [], leewayMs: 0,
  forward: [{ claim: 'sub', header: 'x-user' }, { claim: 'tid', header: 'x-tenant' }], tokenCacheSize: 100, source: { file: 'p.gwp', line: 1, col: 1 },
}
type Ctx = { req: { headers: { authorization?: string } }; claims?: Record<string, unknown>; state: { claims: unknown; identity: unknown } }
const ctxWith = (authorization?: string, claims?: Record<string, unknown>): Ctx =>
  ({ req: { headers: authorization === undefined ? {} : { authorization } }, claims, state: { claims: null, identity: null } })

function offlineStage(audience: string[], offline: boolean = true) {
  const shared = new Map<string, unknown>()
  const env = createStageEnv({ declarations: [provider], identityHeaders: provider.forward.map(f => f.header) }, {
    settings: loadSettings(undefined, {}), metrics: new GatewayMetrics({ defaultMetrics: false }), log: pino({ level: 'silent' }), redis: null,
    shared: <T>(k: string, create: () => T): T => { if (!shared.has(k)) shared.set(k, create()); return shared.get(k) as T },
    offline: offline ? { claims: ctx => (ctx as unknown as Ctx).claims, consumer: () => undefined } : null,
  })
  const stage = policy.offline!({ route: 'api', provider: 'idp', audience } as never, env)
  return { call: (ctx: Ctx) => stage(ctx as never), env }
}
const codeOf = (r: unknown) => { assert.notEqual(r, CONTINUE); const x = r as Reply; return { code: x.code, headers: x.headers } }
const MISSING = { code: 'GW_ERR_UNAUTHORIZED', headers: ['www-authenticate', 'Bearer'] }
const INVALID = { code: 'GW_ERR_UNAUTHORIZED', headers: ['www-authenticate', 'Bearer error="invalid_token"'] }
const FORBIDDEN = { code: 'GW_ERR_FORBIDDEN', headers: ['www-authenticate', 'Bearer error="insufficient_scope"'] }

test('no declared claims: refused as the gateway refuses the request', () => {
  const s = offlineStage([])
  assert.deepEqual(codeOf(s.call(ctxWith())), MISSING)
  assert.deepEqual(codeOf(s.call(ctxWith('Basic dXNlcjpwYXNz'))), MISSING, 'not a bearer token: as if none were sent')
  assert.deepEqual(codeOf(s.call(ctxWith('Bearer a.b'))), MISSING)
  assert.deepEqual(codeOf(s.call(ctxWith('Bearer a.b.c'))), INVALID, 'a bearer token the case does not vouch for')
})

test('declared claims: CONTINUE with the claims and the provider\'s identity headers, the route audience checked', () => {
  const s = offlineStage(['api'])
  const ctx = ctxWith(undefined, { sub: 'alice', tid: 7, aud: ['web', 'api'] })
  assert.equal(s.call(ctx), CONTINUE)
  assert.deepEqual(ctx.state.claims, { sub: 'alice', tid: 7, aud: ['web', 'api'] })
  assert.deepEqual(ctx.state.identity, [{ header: 'x-user', value: 'alice' }, { header: 'x-tenant', value: '7' }])
  const wrong = ctxWith('Bearer a.b.c', { sub: 'bob', aud: 'web' })
  assert.deepEqual(codeOf(s.call(wrong)), FORBIDDEN)
  assert.equal(wrong.state.claims, null, 'nothing is handed on from a refused token')
  assert.equal(wrong.state.identity, null)
  assert.deepEqual(codeOf(s.call(ctxWith(undefined, { sub: 'carol' }))), FORBIDDEN, 'no aud at all')
  assert.equal(offlineStage([]).call(ctxWith(undefined, { sub: 'dave' })), CONTINUE, 'no route audience: any')
})

test('the offline stage is for `gwc test` only, and names an unknown provider', () => {
  assert.throws(() => offlineStage([], false), { message: 'the offline auth stage runs only under `gwc test`' })
  const s = offlineStage([])
  assert.throws(() => policy.offline!({ route: 'orders', provider: 'nope', audience: [] } as never, s.env), { message: 'auth of route "orders" names unknown provider "nope"' })
})
