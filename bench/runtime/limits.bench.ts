// bench/runtime/limits.bench.ts: the per-request admission checks that need no I/O — the GCRA decision and
// the local limiter (policies/ratelimit/{gcra,local,stage}.ts), bearer-token extraction and the verified-token
// cache (policies/auth/stage.ts). Tokens are real ES256 JWTs verified once in setup (kit/bench-bundle.ts).
// Run: npm run build && node --expose-gc dist/bench/runtime/limits.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { bearerToken, providerKey, type JwtProvider } from '../../policies/auth/stage.js'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { gcra, gcraParams, type Decision } from '../../policies/ratelimit/gcra.js'
import { LocalLimiter } from '../../policies/ratelimit/local.js'
import { createRatelimitStage } from '../../policies/ratelimit/stage.js'
import { RequestContext } from '../../runtime/context.js'
import { CONTINUE } from '../../config/stage.js'
import { Reply } from '../../runtime/reply.js'
import { clientIp, loadBenchBundle } from './kit/bench-bundle.js'
import { fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const b = await loadBenchBundle({ tokens: 64 })
const provider = b.env.sharedState.get(providerKey(b.ir.declarations.find(d => d.kind === 'jwt') as JwtProviderIR)) as JwtProvider
const token = b.tokens[0]
const header = `Bearer ${token}`

// Limits far above what a benchmark can reach (allowed) or spent after one request (refused).
const open = gcraParams(1_000_000_000, 1000, 0)
const d: Decision = { allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 0 }
const hot = new LocalLimiter(open, 60_000)
const many = new LocalLimiter(open, 60_000)
const KEYS = Array.from({ length: 10_000 }, (_, i) => clientIp(i))
const spent = new LocalLimiter(gcraParams(1, 3_600_000, 0), 60_000)
spent.take('198.18.0.1', Date.now(), d)
spent.take('198.18.0.1', Date.now(), d)
assert.equal(d.allowed, false)

const ctx = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'api.bench.test']] }), fakeResponse().res, performance.now())
ctx.clientIp = '198.18.0.9'
const stageOpts = { route: 'limits_bench', key: { kind: 'ip' as const }, windowMs: 1000, burst: 0, store: 'local' as const, failOpen: true }
const allowStage = createRatelimitStage({ ...stageOpts, id: 'limits_bench#0', limit: 1_000_000_000 }, b.env)
const refuseStage = createRatelimitStage({ ...stageOpts, id: 'limits_bench#1', limit: 1, windowMs: 3_600_000 }, b.env)
refuseStage(ctx)
assert.equal(allowStage(ctx), CONTINUE)
assert.ok(refuseStage(ctx) instanceof Reply)

assert.equal(bearerToken(header), token)
assert.ok(provider.cached(header, Date.now()) !== undefined)
assert.equal(provider.cached(header.slice(0, -4) + 'AAAA', Date.now()), undefined)

const suite = createSuite(import.meta.url, `rate limiting and bearer tokens (ES256 token of ${token.length} chars)`)
let tat = 0
let k = 0
suite
  .add('gcra decision alone', 'a HeapNumber for the returned arrival time (kept by the bench); the Decision is reused', () => { tat = gcra(tat, Date.now(), open, d); return tat })
  .add('local limiter: one hot key, allowed', 'a HeapNumber for the new arrival time stored in the Map; the Decision is reused', () => hot.take('198.18.0.7', Date.now(), d))
  .add('local limiter: 10,000 keys in turn, allowed', 'as one key (10,000 entries: the Map lookups miss the CPU cache more)', () => many.take(KEYS[k = (k + 1) % KEYS.length], Date.now(), d))
  .add('local limiter: refused', 'a boxed Date.now() only: the arrival time is unchanged', () => spent.take('198.18.0.1', Date.now(), d))
  .add('ratelimit stage by ip: allowed', 'as the limiter: the stage adds a key switch and no allocation', () => allowStage(ctx))
  .add('ratelimit stage by ip: refused (429 reply)', 'a new Reply per refusal: its header array and three header strings', () => refuseStage(ctx))
  .add('bearerToken: valid', 'the token slice (a SlicedString) and the scheme copy; the regex scans all 294 chars', () => bearerToken(header))
  .add('bearerToken: no Authorization header', 'nothing', () => bearerToken(undefined))
  .add('bearerToken: Basic credentials', 'none measured: the 6-char scheme slice does not escape', () => bearerToken('Basic dXNlcjpwYXNzd29yZA=='))
  .add('token cache: hit (JwtProvider.cached, keyed by the Authorization header)', 'boxed Date.now() and performance.now() (the JWKS freshness check)', () => provider.cached(header, Date.now()))
  .add('token cache: miss', 'a boxed Date.now() only', () => provider.cached('Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln', Date.now()))

await suite.run()
for (const l of [hot, many, spent]) l.stop()
b.stop()
