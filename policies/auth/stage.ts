// Runtime side of `auth`: verifies a bearer JWT (jose) against the provider's cached JWKS, checks iss, exp,
// nbf (with leeway), the allowed algorithms and the route's audience, then hands the configured claims to
// the proxy as identity headers. Verified tokens are cached until they expire, so a hot token costs a map
// lookup; a token is verified once however many requests carry it at the same time.
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose'
import type { IdentityHeader, RequestContext } from '../../config/context.js'
import { FIELD_VALUE } from '../../config/http.js'
import type { JwtProviderIR } from './options.js'
import { CONTINUE, type Continue, type Reply, type Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply } from '../../runtime/policy-api.js'
import { JwksCache, jwksMetrics } from './jwks.js'
import type { AuthOptions } from './options.js'

/** A token that verified: what later requests with the same token reuse. */
interface Verified {
  claims: JWTPayload
  identity: IdentityHeader[]
  /** ms since epoch after which the token is no longer accepted (exp + leeway). */
  expiresAt: number
  kid: string
}

const MISSING = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'Bearer'])
const INVALID = errorReply('GW_ERR_UNAUTHORIZED', ['www-authenticate', 'Bearer error="invalid_token"'])
const WRONG_AUDIENCE = errorReply('GW_ERR_FORBIDDEN', ['www-authenticate', 'Bearer error="insufficient_scope"'])
/** The token could not be checked in time (the IdP is slow to serve a new key): not the client's fault. */
const UNAVAILABLE = errorReply('GW_ERR_AUTH_UNAVAILABLE', ['retry-after', '1'])
/** 503s naming the seconds until the next JWKS fetch (index = seconds, built as needed: the IdP is failing). */
const unavailableIn: Reply[] = [UNAVAILABLE]
const unavailableAfter = (s: number): Reply => {
  const i = Math.min(s, 3600)
  return unavailableIn[i] ??= errorReply('GW_ERR_AUTH_UNAVAILABLE', ['retry-after', String(i)])
}

/** What verifying a token found when its key could not be known because fetching the JWKS failed. */
const KEYS_UNKNOWN = Symbol('keys unknown')
type Verdict = Verified | null | typeof KEYS_UNKNOWN

/** A compact JWS: three base64url parts. Anything else is refused before any crypto. */
const COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const MAX_TOKEN = 8192

export function bearerToken(h: string | undefined): string | undefined { // HOT PATH
  if (h === undefined || h.length < 8 || h.length > MAX_TOKEN + 7) return undefined
  if (h.charCodeAt(6) !== 32 || h.slice(0, 6).toLowerCase() !== 'bearer') return undefined
  const t = h.slice(7).trim()
  return COMPACT.test(t) ? t : undefined
}

function claimValue(v: unknown): string | undefined {
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : Array.isArray(v) && v.every(x => typeof x === 'string') ? v.join(',') : undefined
  // A claim is data from the token; it may not smuggle a line break into a header.
  return s !== undefined && s.length <= 1024 && FIELD_VALUE.test(s) ? s : undefined
}

/** The identity headers a provider's `forward claim … as …` list makes from verified claims. */
export function identityOf(forward: JwtProviderIR['forward'], claims: Record<string, unknown>): IdentityHeader[] {
  const identity: IdentityHeader[] = []
  for (const f of forward) {
    const v = claimValue(claims[f.claim])
    if (v !== undefined) identity.push({ header: f.header, value: v })
  }
  return identity
}

/** Does a token's `aud` (a string or a list) name one of the audiences a route accepts? Empty: any. */
export function audienceAccepts(audience: readonly string[], aud: unknown): boolean { // HOT PATH
  if (audience.length === 0) return true
  return typeof aud === 'string' ? audience.includes(aud) : Array.isArray(aud) && aud.some(a => audience.includes(a))
}

/** One per provider (shared across routes and reloads): the JWKS cache and the verified-token cache. */
export class JwtProvider {
  readonly jwks: JwksCache
  readonly ready: Promise<void>
  private readonly cache = new Map<string, Verified>()
  private readonly pending = new Map<string, Promise<Verdict>>()
  private readonly hits
  private readonly misses

  constructor(readonly p: JwtProviderIR, env: StageEnv) {
    this.jwks = new JwksCache(p, jwksMetrics(env.metrics, p.name), env.log)
    const cacheMetric = env.metrics.counter('gw_jwt_cache_total', 'Verified-token cache lookups, by provider and result', ['provider', 'result'])
    this.hits = cacheMetric.child(p.name, 'hit')
    this.misses = cacheMetric.child(p.name, 'miss')
    this.ready = this.jwks.start()
  }

  /**
   * A cached verification still valid now, or undefined. The key is the whole Authorization header value
   * as received, so a hit costs one Map lookup: no bearer parsing, no token slice to hash.
   */
  cached(header: string, now: number): Verified | undefined { // HOT PATH
    const v = this.cache.get(header)
    if (v === undefined) { this.misses.inc(); return undefined }
    if (now >= v.expiresAt || !this.jwks.has(v.kid)) { this.cache.delete(header); this.misses.inc(); return undefined }
    this.hits.inc()
    return v
  }

  /**
   * Verify a token (once, however many requests wait on it) and cache it under `header`. Null = invalid;
   * KEYS_UNKNOWN = its key is not cached and the JWKS cannot be fetched, so it cannot be judged either way.
   */
  verify(token: string, header: string = token): Promise<Verdict> {
    let p = this.pending.get(header)
    if (p === undefined) {
      p = this.verifyOnce(token, header).finally(() => this.pending.delete(header))
      this.pending.set(header, p)
    }
    return p
  }

  private async verifyOnce(token: string, header: string): Promise<Verdict> {
    let kid: unknown, alg: unknown
    try { ({ kid, alg } = decodeProtectedHeader(token)) } catch { return null }
    if (typeof alg !== 'string' || !(this.p.algorithms as readonly string[]).includes(alg)) return null
    if (typeof kid !== 'string') return null
    let key = this.jwks.get(kid, alg)
    if (key === undefined && !this.jwks.has(kid)) {
      await this.jwks.awaitUnknownKid()
      key = this.jwks.get(kid, alg)
    }
    // 401 only when the keys are known; a kid missing while fetches fail may be a key the IdP just published
    if (key === undefined) return this.jwks.has(kid) || this.jwks.knowsKeys() ? null : KEYS_UNKNOWN
    let claims: JWTPayload
    try {
      ({ payload: claims } = await jwtVerify(token, key.key, {
        issuer: this.p.issuer, algorithms: [alg], clockTolerance: this.p.leewayMs / 1000, requiredClaims: ['exp'],
      }))
    } catch { return null }
    const v: Verified = { claims, identity: identityOf(this.p.forward, claims), expiresAt: (claims.exp as number) * 1000 + this.p.leewayMs, kid }
    if (this.p.tokenCacheSize > 0) {
      if (this.cache.size >= this.p.tokenCacheSize) this.cache.delete(this.cache.keys().next().value as string)
      this.cache.set(header, v)
    }
    return v
  }

  stop(): void { this.jwks.stop() }
}

export function providerKey(p: JwtProviderIR): string {
  const { source: _s, ...rest } = p
  return 'jwt:' + JSON.stringify(rest)
}

function providerOf(o: AuthOptions, env: StageEnv): JwtProviderIR {
  const p = env.declarations.get(o.provider) as JwtProviderIR | undefined
  if (p === undefined) throw new Error(`auth of route ${JSON.stringify(o.route)} names unknown provider ${JSON.stringify(o.provider)}`)
  return p
}

export function createAuthStage(o: AuthOptions, env: StageEnv): Stage {
  const p = providerOf(o, env)
  const provider = env.shared(providerKey(p), () => new JwtProvider(p, env))
  env.warmups.push(provider.ready)
  const r401 = env.metrics.rejects('auth', o.route, '401')
  const r403 = env.metrics.rejects('auth', o.route, '403')
  const r503 = env.metrics.rejects('auth', o.route, '503')
  const audience = o.audience

  const admit = (ctx: RequestContext, v: Verified): Continue | Reply => { // HOT PATH
    if (!audienceAccepts(audience, v.claims.aud)) { r403.inc(); return WRONG_AUDIENCE }
    ctx.state.claims = v.claims as Record<string, unknown>
    ctx.state.identity = v.identity
    return CONTINUE
  }

  return function auth(ctx: RequestContext) { // HOT PATH
    const h = ctx.req.headers.authorization
    if (h === undefined) { r401.inc(); return MISSING }
    const hit = provider.cached(h, Date.now())
    if (hit !== undefined) return admit(ctx, hit)
    const token = bearerToken(h)
    if (token === undefined) { r401.inc(); return INVALID }
    // Verification may wait for a JWKS fetch (unknown kid): never past the route's deadline.
    const left = ctx.deadline - performance.now()
    if (left <= 0) { r503.inc(); return UNAVAILABLE }
    return new Promise<Continue | Reply>(resolve => {
      let settled = false
      const timer = setTimeout(() => { settled = true; r503.inc(); resolve(UNAVAILABLE) }, left)
      provider.verify(token, h).then(v => {
        if (settled) return
        clearTimeout(timer)
        if (v === null) { r401.inc(); resolve(INVALID) }
        else if (v === KEYS_UNKNOWN) { r503.inc(); resolve(unavailableAfter(provider.jwks.retryAfterSeconds())) }
        else resolve(admit(ctx, v))
      })
    })
  }
}

/**
 * `auth` in `gwc test`: the test case stands in for the identity provider. A case that declares claims (`as:`)
 * presents a token that verified with them; one that does not is refused as the gateway refuses a request
 * without a valid token. The audience check and the identity headers are the gateway's own.
 */
export function createOfflineAuthStage(o: AuthOptions, env: StageEnv): Stage {
  const p = providerOf(o, env)
  const offline = env.offline
  if (offline === null) throw new Error('the offline auth stage runs only under `gwc test`')
  const audience = o.audience
  return function auth(ctx: RequestContext) {
    const claims = offline.claims(ctx)
    if (claims === undefined) {
      const h = ctx.req.headers.authorization
      return h === undefined || bearerToken(h) === undefined ? MISSING : INVALID
    }
    if (!audienceAccepts(audience, claims.aud)) return WRONG_AUDIENCE
    ctx.state.claims = claims
    ctx.state.identity = identityOf(p.forward, claims)
    return CONTINUE
  }
}
