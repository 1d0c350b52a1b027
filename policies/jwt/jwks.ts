// A provider's JWKS, cached off the request path: fetched at load and refreshed in the background ahead of
// expiry, one fetch at a time (single-flight), served stale while a refresh is pending or failing, and
// dropped entirely once older than `max_stale` (fail closed). An unknown `kid` triggers at most one fetch
// per `unknown_kid_cooldown`, so forged kids cannot stampede the identity provider.
import { importJWK, type JWK } from 'jose'
import { request } from 'undici'
import type { JwtAlgorithm, JwtProviderIR } from '../../config/ir.js'
import type { Logger } from 'pino'
import { FastCounter, FastGauge, type CounterChild, type GaugeChild } from '../../runtime/metrics.js'

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

export function jwksMetrics(add: <M extends FastCounter | FastGauge>(m: M) => M, shared: <T>(k: string, f: () => T) => T, provider: string): JwksMetrics {
  const fetches = shared('metric:gw_jwks_fetches_total', () => add(new FastCounter('gw_jwks_fetches_total', 'JWKS fetches, by provider and result', ['provider', 'result'])))
  const keys = shared('metric:gw_jwks_keys', () => add(new FastGauge('gw_jwks_keys', 'Keys in the cached JWKS', ['provider'], 'max')))
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

  constructor(private readonly p: JwtProviderIR, private readonly m: JwksMetrics, private readonly log: Logger) {}

  /** Start the background refresh loop; resolves after the first fetch (successful or not). */
  start(): Promise<void> {
    return this.refresh()
  }

  private schedule(delay: number): void {
    if (this.stopped) return
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => { void this.refresh() }, Math.max(100, delay)).unref()
  }

  /** Fetch now unless a fetch is already under way, in which case share it. */
  refresh(): Promise<void> {
    if (this.inflight !== null) return this.inflight
    this.inflight = this.fetchOnce().finally(() => { this.inflight = null })
    return this.inflight
  }

  private async fetchOnce(): Promise<void> {
    try {
      const res = await request(this.p.jwksUrl, {
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
      this.m.fetchOk.inc()
      this.m.keys.set(next.size)
      this.schedule(this.p.refreshMs - this.p.refreshAheadMs)
    } catch (e) {
      this.m.fetchFailed.inc()
      this.log.warn({ provider: this.p.name, err: (e as Error).message }, 'JWKS fetch failed; serving cached keys')
      // retry sooner than a full refresh interval, but never hammer the provider
      this.schedule(Math.min(this.p.refreshMs, Math.max(1000, this.p.refreshMs / 10)))
    }
  }

  /** Keys past max_stale are no longer trusted: the provider has been unreachable for too long. */
  private fresh(now: number): boolean {
    if (this.fetchedAt === 0 || now - this.fetchedAt <= this.p.maxStaleMs) return true
    if (this.keys.size > 0) {
      this.keys = new Map()
      this.generation++
      this.m.keys.set(0)
      this.log.error({ provider: this.p.name }, 'JWKS older than max_stale: refusing all tokens until a fetch succeeds')
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
