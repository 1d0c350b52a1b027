// A provider's JWKS, cached off the request path: fetched at load and refreshed in the background ahead of
// expiry, one fetch at a time (single-flight), served stale while a refresh is pending or failing, and
// dropped entirely once older than `max_stale` (fail closed). An unknown `kid` triggers at most one fetch
// per `unknown_kid_cooldown`, so forged kids cannot stampede the identity provider.
import { importJWK, type JWK } from 'jose'
import type { JwtAlgorithm, JwtProviderIR } from './options.js'
import type { Logger } from 'pino'
import { undici } from '../../runtime/policy-api.js'
import type { CounterChild, GaugeChild, StageMetrics } from '../../config/stage-env.js'

export type ImportedKey = Awaited<ReturnType<typeof importJWK>>
export interface CachedKey { kid: string; alg: JwtAlgorithm; key: ImportedKey }

/** The algorithm a JWK may verify, from its `alg` or else its key type. */
function algsFor(jwk: JWK, allowed: readonly JwtAlgorithm[]): JwtAlgorithm[] {
  if (typeof jwk.alg === 'string') return allowed.includes(jwk.alg as JwtAlgorithm) ? [jwk.alg as JwtAlgorithm] : []
  const byKty: Record<string, JwtAlgorithm[]> = {
    RSA: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
    EC: jwk.crv === 'P-256' ? ['ES256'] : jwk.crv === 'P-384' ? ['ES384'] : jwk.crv === 'P-521' ? ['ES512'] : [],
    OKP: jwk.crv === 'Ed25519' ? ['EdDSA'] : [],
  }
  return (byKty[jwk.kty ?? ''] ?? []).filter(a => allowed.includes(a))
}

export interface JwksMetrics { fetchOk: CounterChild; fetchFailed: CounterChild; keys: GaugeChild }

export function jwksMetrics(metrics: StageMetrics, provider: string): JwksMetrics {
  const fetches = metrics.counter('gw_jwks_fetches_total', 'JWKS fetches, by provider and result', ['provider', 'result'])
  const keys = metrics.gauge('gw_jwks_keys', 'Keys in the cached JWKS', ['provider'], 'max')
  return { fetchOk: fetches.child(provider, 'ok'), fetchFailed: fetches.child(provider, 'error'), keys: keys.child(provider) }
}

export class JwksCache {
  /** kid → key per algorithm it may verify. */
  private keys = new Map<string, CachedKey[]>()
  /** performance.now() of the last successful fetch; 0 = never. */
  private fetchedAt = 0
  private inflight: Promise<void> | null = null
  private lastUnknownKidFetch = -Infinity
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  /** Bumped whenever the key set changes; token-cache entries remember the generation they were made in. */
  generation = 0
  /**
   * The last fetch failed (IdP down, 5xx, too slow, bad document): a kid missing from the cache may be a key
   * the IdP published meanwhile, so its token cannot be judged (503 auth_unavailable, not 401).
   */
  failing = false
  /** performance.now() of the next scheduled fetch (0 = none scheduled). */
  private nextFetchAt = 0

  constructor(private readonly p: JwtProviderIR, private readonly m: JwksMetrics, private readonly log: Logger) {}

  /** Start the background refresh loop; resolves after the first fetch (successful or not). */
  start(): Promise<void> {
    return this.refresh()
  }

  private schedule(delay: number): void {
    if (this.stopped) return
    if (this.timer !== null) clearTimeout(this.timer)
    const ms = Math.max(100, delay)
    this.nextFetchAt = performance.now() + ms
    this.timer = setTimeout(() => { void this.refresh() }, ms).unref()
  }

  /** How long failed fetches wait before the next attempt: a tenth of `refresh`, at least 1 s (docs/operations.md). */
  get retryMs(): number { return Math.min(this.p.refreshMs, Math.max(1000, this.p.refreshMs / 10)) }

  /** Whole seconds (at least 1) until the next background fetch: what a 503 auth_unavailable tells clients. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.nextFetchAt - performance.now()) / 1000))
  }

  /** Fetch now unless a fetch is already under way, in which case share it. */
  refresh(): Promise<void> {
    if (this.inflight !== null) return this.inflight
    this.inflight = this.fetchOnce().finally(() => { this.inflight = null })
    return this.inflight
  }

  private async fetchOnce(): Promise<void> {
    try {
      const res = await undici().request(this.p.jwksUrl, {
        method: 'GET', headers: { accept: 'application/json', 'user-agent': 'gwp-jwks' },
        headersTimeout: this.p.fetchTimeoutMs, bodyTimeout: this.p.fetchTimeoutMs, signal: AbortSignal.timeout(this.p.fetchTimeoutMs),
      })
      if (res.statusCode !== 200) { await res.body.dump(); throw new Error(`JWKS answered ${res.statusCode}`) }
      const doc = await res.body.json() as { keys?: JWK[] }
      if (!Array.isArray(doc?.keys)) throw new Error('JWKS has no "keys" array')
      const next = new Map<string, CachedKey[]>()
      for (const jwk of doc.keys) {
        if (typeof jwk.kid !== 'string' || (jwk.use !== undefined && jwk.use !== 'sig')) continue
        if (jwk.d !== undefined || jwk.k !== undefined) continue // never accept private or symmetric material
        for (const alg of algsFor(jwk, this.p.algorithms)) {
          try {
            const key = await importJWK(jwk, alg) as ImportedKey
            const list = next.get(jwk.kid) ?? []
            list.push({ kid: jwk.kid, alg, key })
            next.set(jwk.kid, list)
          } catch { /* a key we cannot import is simply not offered */ }
        }
      }
      this.keys = next
      this.generation++
      this.fetchedAt = performance.now()
      this.failing = false
      this.m.fetchOk.inc()
      this.m.keys.set(next.size)
      this.schedule(this.p.refreshMs - this.p.refreshAheadMs)
    } catch (e) {
      this.failing = true
      this.m.fetchFailed.inc()
      // retry sooner than a full refresh interval, but never hammer the provider
      const retry = this.retryMs
      this.schedule(retry)
      this.logFailure((e as Error).message, retry)
    }
  }

  /** Says what the gateway does now that a fetch failed: it depends on whether any trusted keys are left. */
  private logFailure(err: string, retryMs: number): void {
    const now = performance.now()
    const base = { provider: this.p.name, err, next_attempt_s: Math.round(retryMs / 100) / 10 }
    if (this.fetchedAt !== 0 && this.keys.size > 0 && now - this.fetchedAt <= this.p.maxStaleMs) {
      const age = now - this.fetchedAt
      const trustedForS = Math.round((this.p.maxStaleMs - age) / 1000)
      this.log.warn({ ...base, keys: this.keys.size, age_s: Math.round(age / 1000), trusted_for_s: trustedForS },
        `JWKS fetch failed; serving ${this.keys.size} cached keys (trusted for another ${trustedForS} s); next attempt in ${base.next_attempt_s} s`)
    } else {
      this.log.error(base, `JWKS fetch failed; no keys cached: tokens are answered 503 auth_unavailable until a fetch succeeds; next attempt in ${base.next_attempt_s} s`)
    }
  }

  /** Keys past max_stale are no longer trusted: the provider has been unreachable for too long. */
  private fresh(now: number): boolean {
    if (this.fetchedAt === 0 || now - this.fetchedAt <= this.p.maxStaleMs) return true
    if (this.keys.size > 0) {
      this.keys = new Map()
      this.generation++
      this.m.keys.set(0)
      this.log.error({ provider: this.p.name }, 'JWKS older than max_stale: cached keys dropped; tokens are answered 503 auth_unavailable until a fetch succeeds')
    }
    return false
  }

  /** The key for `kid` and `alg` if cached (never waits). */
  get(kid: string, alg: string): CachedKey | undefined { // HOT PATH (only on token-cache misses)
    if (!this.fresh(performance.now())) return undefined
    const list = this.keys.get(kid)
    if (list === undefined) return undefined
    for (const k of list) if (k.alg === alg) return k
    return undefined
  }

  /**
   * Whether the cache can judge a token whose kid it does not hold: only when trusted keys are held and the
   * last fetch succeeded. Otherwise the kid may be one the IdP published while it could not be fetched.
   */
  knowsKeys(): boolean { return !this.failing && this.fetchedAt !== 0 && this.fresh(performance.now()) }

  /** Whether `kid` is cached and still trusted (max_stale applies here too: the token cache relies on it). */
  has(kid: string): boolean { return this.fresh(performance.now()) && this.keys.has(kid) }

  /**
   * For a kid not in the cache: share a refresh already under way, or start one if none was started for
   * an unknown kid within the cooldown; otherwise return at once. The caller then looks the kid up again.
   */
  async awaitUnknownKid(): Promise<void> {
    const now = performance.now()
    if (this.inflight !== null) { await this.inflight; return }
    if (now - this.lastUnknownKidFetch < this.p.unknownKidCooldownMs) return
    this.lastUnknownKidFetch = now
    await this.refresh()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
  }
}
