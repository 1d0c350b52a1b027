// test/policies/jwt-stage.test.ts: the `auth` stage and its provider in-process, against a real mock IdP (its
// JWKS served over HTTP), with exact answers: which reply (401 missing / 401 invalid_token / 403 / 503 with
// Retry-After) and rejection counter for each kind of token, the Authorization header's parsing limits, the claims
// handed on as identity headers, the verified-token cache (expiry at exp + leeway, a rotated-away key, its size
// bound) and single-flight verification. The gateway-level tests (jwt-auth, jwt-attacks, jwks-*) check the same
// answers on the wire; this file is what the mutation run (area policies) runs first for policies/auth/stage.ts
// and runtime.ts (the stage is built through the runtime half, as the gateway's registry builds it).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import { startIdp, unknownKid, type Idp } from '../../testkit/idp/index.js'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { loadSettings } from '../../config/settings.js'
import { CONTINUE } from '../../config/stage.js'
import { JWT_DEFAULTS } from '../../policies/auth/check.js'
import { policy } from '../../policies/auth/runtime.js'
import { bearerToken, JwtProvider, providerKey } from '../../policies/auth/stage.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import type { Reply } from '../../runtime/reply.js'
import { createStageEnv, type StageEnv } from '../../runtime/stage-env.js'
import { metric } from '../helpers/gateway.js'

let idp: Idp
before(async () => { idp = await startIdp({ algorithms: ['ES256', 'RS256'] }) })
after(() => idp.close())
const stops: (() => void)[] = []
after(() => { for (const s of stops) s() })

const providerIR = (o: Partial<JwtProviderIR> = {}): JwtProviderIR => ({
  kind: 'jwt', name: 'idp', issuer: idp.issuer, jwksUrl: idp.jwksUrl, refreshMs: 300_000, refreshAheadMs: 30_000, unknownKidCooldownMs: 30_000,
  maxStaleMs: 900_000, fetchTimeoutMs: 2000, algorithms: ['ES256'], audience: [], leewayMs: 0, forward: [],
  tokenCacheSize: JWT_DEFAULTS.tokenCacheSize, source: { file: 'p.gwp', line: 1, col: 1 }, ...o,
})

/** The stage environment the gateway builds (createStageEnv), with the gateway metrics it reads from kept as `gm`. */
function envFor(p: JwtProviderIR): StageEnv & { gm: GatewayMetrics } {
  const shared = new Map<string, unknown>()
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const env = createStageEnv({ declarations: [p], identityHeaders: p.forward.map(f => f.header) }, {
    settings: loadSettings(undefined, {}), metrics: gm, log: pino({ level: 'silent' }), redis: null,
    shared: <T>(k: string, create: () => T): T => { if (!shared.has(k)) shared.set(k, create()); return shared.get(k) as T },
  })
  return Object.assign(env, { gm })
}

type Ctx = { req: { headers: { authorization?: string } }; deadline: number; state: { claims: unknown; identity: unknown } }
const ctxWith = (authorization?: string, msLeft = 2000): Ctx =>
  ({ req: { headers: authorization === undefined ? {} : { authorization } }, deadline: performance.now() + msLeft, state: { claims: null, identity: null } })

/** A stage over its own provider (its own metrics), built by the runtime half (policies/auth/runtime.ts), ready (first JWKS fetch done). */
async function stage(p: Partial<JwtProviderIR> = {}, audience: string[] = []) {
  const ir = providerIR(p)
  const env = envFor(ir)
  const auth = policy.create({ route: 'api', provider: 'idp', audience } as never, env)   // as the gateway's registry builds it
  await Promise.all(env.warmups)
  const provider = env.shared(providerKey(ir), () => { throw new Error('the stage did not register its provider') }) as JwtProvider
  stops.push(() => provider.stop())
  const call = async (ctx: Ctx) => auth(ctx as never)
  const rejects = async (code: string) => metric(await env.gm.registry.metrics(), 'gw_stage_rejects_total', { stage: 'auth', route: 'api', code }) ?? 0
  const cache = async (result: string) => metric(await env.gm.registry.metrics(), 'gw_jwt_cache_total', { provider: 'idp', result }) ?? 0
  return { auth, call, rejects, cache, provider, env }
}

const replyOf = (r: unknown): { code: string | null; headers: readonly string[] } => {
  assert.notEqual(r, CONTINUE, 'expected a reply, got CONTINUE')
  const x = r as Reply
  return { code: x.code, headers: x.headers }
}
const MISSING = { code: 'GW_ERR_UNAUTHORIZED', headers: ['www-authenticate', 'Bearer'] }
const INVALID = { code: 'GW_ERR_UNAUTHORIZED', headers: ['www-authenticate', 'Bearer error="invalid_token"'] }
const FORBIDDEN = { code: 'GW_ERR_FORBIDDEN', headers: ['www-authenticate', 'Bearer error="insufficient_scope"'] }
const unavailable = (s: number) => ({ code: 'GW_ERR_AUTH_UNAVAILABLE', headers: ['retry-after', String(s)] })
const sub = (() => { let n = 0; return () => `user-${++n}` })()

test('bearerToken: the scheme in any case, one space, a compact JWS of at most 8192 characters, trimmed', () => {
  assert.equal(bearerToken(undefined), undefined)
  assert.equal(bearerToken('Bearer a.b.c'), 'a.b.c')
  assert.equal(bearerToken('bearer a.b.c'), 'a.b.c')
  assert.equal(bearerToken('BEARER  a.b.c '), 'a.b.c')
  assert.equal(bearerToken('Bearer\ta.b.c'), undefined, 'the separator is a space')
  assert.equal(bearerToken('Basic  a.b.c'), undefined)
  assert.equal(bearerToken('Bearerxa.b.c'), undefined)
  assert.equal(bearerToken('Bearer '), undefined)
  assert.equal(bearerToken('Bearer a'), undefined)
  assert.equal(bearerToken('Bearer a.b'), undefined)
  assert.equal(bearerToken('Bearer a.b.c.d'), undefined)
  assert.equal(bearerToken('Bearer a+b.c.d'), undefined)
  assert.equal(bearerToken('Bearer a.b.c!'), undefined)
  assert.equal(bearerToken('Bearer _-.b.c'), '_-.b.c')
  const longest = 'a.b.' + 'c'.repeat(8188)                        // 8192 characters
  assert.equal(bearerToken('Bearer ' + longest), longest)
  assert.equal(bearerToken('Bearer ' + longest + 'c'), undefined, '8193 characters is over the limit')
})

test('no Authorization: 401 Bearer; a malformed one: 401 invalid_token; each counted as a 401', async () => {
  const s = await stage()
  assert.deepEqual(replyOf(await s.call(ctxWith())), MISSING)
  assert.deepEqual(replyOf(await s.call(ctxWith('Basic dXNlcjpwYXNz'))), INVALID)
  assert.deepEqual(replyOf(await s.call(ctxWith('Bearer not-a-jwt'))), INVALID)
  assert.equal(await s.rejects('401'), 3)
  assert.equal(await s.rejects('403'), 0)
  assert.equal(await s.rejects('503'), 0)
})

test('a valid token: CONTINUE with its claims and the configured identity headers', async () => {
  const s = await stage({
    forward: [
      { claim: 'sub', header: 'x-user' }, { claim: 'n', header: 'x-n' }, { claim: 'b', header: 'x-b' }, { claim: 'roles', header: 'x-roles' },
      { claim: 'mixed', header: 'x-mixed' }, { claim: 'obj', header: 'x-obj' }, { claim: 'nl', header: 'x-nl' }, { claim: 'missing', header: 'x-missing' },
      { claim: 'max', header: 'x-max' }, { claim: 'over', header: 'x-over' },
    ],
  })
  const token = await idp.sign({ n: 42, b: false, roles: ['a', 'b'], mixed: ['a', 1], obj: { a: 1 }, nl: 'a\nb', max: 'm'.repeat(1024), over: 'o'.repeat(1025) }, { subject: 'alice' })
  const ctx = ctxWith('Bearer ' + token)
  assert.equal(await s.call(ctx), CONTINUE)
  assert.equal((ctx.state.claims as { sub: string }).sub, 'alice')
  assert.deepEqual(ctx.state.identity, [
    { header: 'x-user', value: 'alice' }, { header: 'x-n', value: '42' }, { header: 'x-b', value: 'false' }, { header: 'x-roles', value: 'a,b' },
    { header: 'x-max', value: 'm'.repeat(1024) },
  ], 'numbers, booleans and string arrays are text; mixed arrays, objects, line breaks, missing claims and values over 1024 characters are left out')
  assert.equal(await s.rejects('401'), 0)
})

test('tokens refused as invalid: wrong issuer, expired, not yet valid, no exp, bad signature, unknown kid, disallowed algorithm', async () => {
  const s = await stage()
  const bad = [
    await idp.sign({}, { subject: sub(), issuer: 'https://elsewhere.example/' }),
    await idp.sign({}, { subject: sub(), expiresIn: -120 }),
    await idp.sign({}, { subject: sub(), notBefore: 120 }),
    await idp.sign({}, { subject: sub(), expiresIn: null }),
    (await idp.sign({}, { subject: sub() })).replace(/\.([A-Za-z0-9_-])([^.]*)$/, (_, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}`), // signature's first byte changed
    await idp.sign({}, { subject: sub(), alg: 'RS256' }),               // RS256 is published but not allowed here
  ]
  for (const t of bad) assert.deepEqual(replyOf(await s.call(ctxWith('Bearer ' + t))), INVALID, t)
  assert.equal(await s.rejects('401'), bad.length)
})

test('leeway: a token expired less than the leeway ago is accepted, and cached only until exp + leeway', async () => {
  const s = await stage({ leewayMs: 60_000 })
  const token = await idp.sign({}, { subject: sub(), expiresIn: -30 })
  const h = 'Bearer ' + token
  assert.equal(await s.call(ctxWith(h)), CONTINUE, '30 s past exp, within 60 s of leeway')
  const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number
  const until = exp * 1000 + 60_000
  assert.ok(s.provider.cached(h, until - 1) !== undefined, 'cached until exp + leeway')
  assert.equal(s.provider.cached(h, until), undefined, 'not at exp + leeway')
  assert.equal(s.provider.cached(h, until - 1), undefined, 'and the expired entry is gone')
})

test('the verified-token cache: hits and misses counted, bounded by `cache` (oldest out), off with cache 0', async () => {
  const s = await stage({ tokenCacheSize: 2 })
  const [a, b, c] = [await idp.sign({}, { subject: sub() }), await idp.sign({}, { subject: sub() }), await idp.sign({}, { subject: sub() })].map(t => 'Bearer ' + t)
  for (const h of [a, b]) assert.equal(await s.call(ctxWith(h)), CONTINUE)
  assert.equal(await s.cache('miss'), 2)
  assert.equal(await s.call(ctxWith(a)), CONTINUE)
  assert.equal(await s.cache('hit'), 1)
  assert.equal(await s.call(ctxWith(c)), CONTINUE)            // the cache holds 2: a (the oldest) goes
  const now = Date.now()
  assert.equal(s.provider.cached(a, now), undefined)
  assert.ok(s.provider.cached(b, now) !== undefined)
  assert.ok(s.provider.cached(c, now) !== undefined)
  const off = await stage({ tokenCacheSize: 0 })
  assert.equal(await off.call(ctxWith(a)), CONTINUE)
  assert.equal(off.provider.cached(a, Date.now()), undefined, 'cache 0 keeps nothing')
})

test('a cached token whose key was rotated away is verified again (and refused)', async () => {
  const own = await startIdp({ algorithms: ['ES256'] })
  try {
    const s = await stage({ issuer: own.issuer, jwksUrl: own.jwksUrl, unknownKidCooldownMs: 100 })
    const h = 'Bearer ' + await own.sign({}, { subject: sub() })
    assert.equal(await s.call(ctxWith(h)), CONTINUE)
    assert.ok(s.provider.cached(h, Date.now()) !== undefined)
    const old = own.keys()[0].kid
    await own.rotate('ES256')
    own.retire(old)
    await s.provider.jwks.refresh()
    assert.equal(s.provider.cached(h, Date.now()), undefined, 'its kid is no longer in the JWKS')
    assert.deepEqual(replyOf(await s.call(ctxWith(h))), INVALID)
  } finally { await own.close() }
})

test('audience: a route audience needs an aud claim naming one of its values (string or array), else 403', async () => {
  const s = await stage({}, ['api', 'web'])
  const tok = async (audience?: string | string[]) => 'Bearer ' + await idp.sign({}, { subject: sub(), ...(audience === undefined ? {} : { audience }) })
  assert.equal(await s.call(ctxWith(await tok('web'))), CONTINUE)
  assert.equal(await s.call(ctxWith(await tok(['other', 'api']))), CONTINUE)
  const h = await tok('other')
  assert.deepEqual(replyOf(await s.call(ctxWith(h))), FORBIDDEN)
  assert.deepEqual(replyOf(await s.call(ctxWith(h))), FORBIDDEN, 'also when the token is a cache hit')
  assert.deepEqual(replyOf(await s.call(ctxWith(await tok(['x', 'y'])))), FORBIDDEN)
  assert.deepEqual(replyOf(await s.call(ctxWith(await tok()))), FORBIDDEN, 'no aud at all')
  assert.equal(await s.rejects('403'), 4)
  assert.equal(await s.rejects('401'), 0)
  // without a route audience any aud (or none) is accepted
  const any = await stage()
  assert.equal(await any.call(ctxWith(await tok('other'))), CONTINUE)
})

test('the route deadline: none left is 503 at once; verification outlasting it is 503 at the deadline', async () => {
  const own = await startIdp({ algorithms: ['ES256'] })
  try {
    const s = await stage({ issuer: own.issuer, jwksUrl: own.jwksUrl, unknownKidCooldownMs: 100 })
    const h = 'Bearer ' + await own.sign({}, { subject: sub() })
    assert.deepEqual(replyOf(await s.call(ctxWith(h, 0))), unavailable(1))
    assert.deepEqual(replyOf(await s.call(ctxWith(h, -5))), unavailable(1))
    // a new key: its token makes the stage fetch the JWKS, which the IdP answers after 800 ms
    await own.rotate('ES256')
    own.setDelay(800)
    const fresh = 'Bearer ' + await own.sign({}, { subject: sub() })
    const t0 = performance.now()
    assert.deepEqual(replyOf(await s.call(ctxWith(fresh, 150))), unavailable(1))
    const ms = performance.now() - t0
    assert.ok(ms >= 100, `answered at the deadline (${Math.round(ms)} ms); after the fetch the token would have been accepted`)
    assert.equal(await s.rejects('503'), 3)
    assert.equal(await s.rejects('401'), 0)
  } finally { await own.close() }
})

test('an unknown kid while the JWKS cannot be fetched: 503 with Retry-After until the next fetch, not 401', async () => {
  const own = await startIdp({ algorithms: ['ES256'] })
  try {
    const s = await stage({ issuer: own.issuer, jwksUrl: own.jwksUrl, refreshMs: 20_000, unknownKidCooldownMs: 100 })
    own.setDown('error')
    await s.provider.jwks.refresh()                               // fails: the next attempt is a tenth of refresh away
    await own.rotate('ES256')
    const h = 'Bearer ' + await own.sign({}, { subject: sub() })
    assert.deepEqual(replyOf(await s.call(ctxWith(h))), unavailable(2))
    assert.equal(await s.rejects('503'), 1)
    // a kid the cache holds is judged with the cached key even while fetches fail
    const known = 'Bearer ' + await own.sign({}, { subject: sub(), kid: own.keys()[0].kid })
    assert.equal(await s.call(ctxWith(known)), CONTINUE)
    // an attacker's kid while the keys are known (the last fetch worked): 401
    own.setDown(false)
    await s.provider.jwks.refresh()
    assert.deepEqual(replyOf(await s.call(ctxWith('Bearer ' + await unknownKid({ sub: sub(), iss: own.issuer }, { alg: 'ES256' })))), INVALID)
  } finally { await own.close() }
})

test('a token in an algorithm the provider does not allow is refused without fetching the JWKS', async () => {
  const own = await startIdp({ algorithms: ['RS256', 'ES256'] })
  try {
    const s = await stage({ issuer: own.issuer, jwksUrl: own.jwksUrl, algorithms: ['ES256'], unknownKidCooldownMs: 100 })
    own.resetFetches()
    const rs = await own.sign({}, { subject: sub(), alg: 'RS256' })
    const forged = await unknownKid({ sub: sub(), iss: own.issuer }, { alg: 'RS256' })
    for (const t of [rs, forged]) assert.deepEqual(replyOf(await s.call(ctxWith('Bearer ' + t))), INVALID)
    assert.equal(own.fetches, 0)
    // a token without a kid is refused without a fetch too
    const noKid = await own.signJws(JSON.stringify({ sub: sub(), iss: own.issuer, exp: Math.floor(Date.now() / 1000) + 60 }), { alg: 'ES256', header: { kid: undefined } })
    assert.deepEqual(replyOf(await s.call(ctxWith('Bearer ' + noKid))), INVALID)
    assert.equal(own.fetches, 0)
  } finally { await own.close() }
})

test('verification is single-flight per header, and a settled one is not reused for a later call', async () => {
  const s = await stage({ tokenCacheSize: 0 })
  const good = await idp.sign({}, { subject: sub() })
  const [v1, v2] = [s.provider.verify(good, 'k'), s.provider.verify(good, 'k')]
  assert.equal(v1, v2, 'one verification for concurrent calls')
  assert.ok(typeof (await v1) === 'object' && (await v1) !== null)
  assert.equal(await s.provider.verify('a.b.c', 'k'), null, 'a later call with another token is verified afresh')
})

test('one provider per configuration, shared by routes and reloads (its place in the file does not matter)', async () => {
  const a = providerIR(), b = { ...providerIR(), source: { file: 'other.gwp', line: 9, col: 3 } }, c = providerIR({ refreshMs: 60_000 })
  assert.equal(providerKey(a), providerKey(b))
  assert.notEqual(providerKey(a), providerKey(c))
  assert.ok(providerKey(a).startsWith('jwt:{'))
  const env = envFor(a)
  assert.throws(() => policy.create({ route: 'orders', provider: 'nope', audience: [] } as never, env), { message: 'auth of route "orders" names unknown provider "nope"' })
})
