// Compile side of JWT auth: the `jwt NAME { … }` provider block and the `auth NAME` stage.
import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtProviderIR } from '../../config/ir.js'
import { NOT_IDENTITY_HEADERS } from '../../config/http.js'
import { closest, givenTwice, headerName, optNum, readOptions, readQty, spanOf, unknownName, type A, type CheckContext } from '../../compiler/policy-api.js'
import type { StageIR } from '../../config/ir.js'

/** `auth PROVIDER [audience "a" …]`, as the parser (or the YAML front end) reads it. */
export interface AuthStmt { kind: 'auth'; provider: A.WordV; options: A.OptionAst[]; span: A.Span }

export interface AuthStageIR extends StageIR {
  kind: 'auth'
  provider: string
  /** Audiences accepted; empty = not checked. */
  audience: string[]
}

/** Common practice: refetch every few minutes, stop trusting a key minutes (not hours) after losing the IdP. */
export const JWT_DEFAULTS = {
  refreshMs: 300_000,
  refreshAheadMs: 30_000,
  unknownKidCooldownMs: 30_000,
  maxStaleMs: 900_000,
  fetchTimeoutMs: 3_000,
  leewayMs: 30_000,
  tokenCacheSize: 10_000,
  algorithms: ['RS256', 'ES256', 'EdDSA'] as JwtAlgorithm[],
}

const JWKS_SCHEMA = {
  refresh: { kind: 'duration', range: { min: 1_000, max: 86_400_000 } },
  refresh_ahead: { kind: 'duration', range: { min: 0, max: 3_600_000 } },
  unknown_kid_cooldown: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
  max_stale: { kind: 'duration', range: { min: 1_000, max: 86_400_000 } },
  timeout: { kind: 'duration', range: { min: 10, max: 60_000 } },
} as const

function httpUrl(ctx: CheckContext, s: A.StrV, what: string): string | undefined {
  let u: URL
  try { u = new URL(s.value) } catch {
    ctx.d.error('E0306', s.span, `${what} \`${s.value}\` is not a URL`, { label: 'not a URL', hint: 'write an absolute http(s) URL' })
    return undefined
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    ctx.d.error('E0306', s.span, `${what} must be an http(s) URL, got \`${u.protocol}\``, { label: 'unsupported scheme' })
    return undefined
  }
  return s.value
}

export function checkJwtProvider(ctx: CheckContext, j: A.JwtDecl): JwtProviderIR {
  const where = `jwt \`${j.name.value}\``
  const seen = new Map<string, A.Span>()
  const p: JwtProviderIR = {
    name: j.name.value, issuer: '', jwksUrl: '', refreshMs: JWT_DEFAULTS.refreshMs, refreshAheadMs: JWT_DEFAULTS.refreshAheadMs,
    unknownKidCooldownMs: JWT_DEFAULTS.unknownKidCooldownMs, maxStaleMs: JWT_DEFAULTS.maxStaleMs, fetchTimeoutMs: JWT_DEFAULTS.fetchTimeoutMs,
    algorithms: [...JWT_DEFAULTS.algorithms], audience: [], leewayMs: JWT_DEFAULTS.leewayMs, forward: [], tokenCacheSize: JWT_DEFAULTS.tokenCacheSize,
    source: spanOf(j.span),
  }
  for (const s of j.body) {
    const first = seen.get(s.kind)
    if (first !== undefined && s.kind !== 'forward') { givenTwice(ctx, s.kind, s.span, first, where); continue }
    seen.set(s.kind, s.span)
    switch (s.kind) {
      case 'issuer': p.issuer = s.value.value; if (p.issuer === '') ctx.d.error('E0306', s.value.span, 'the issuer must not be empty', { hint: 'write the `iss` value tokens carry' }); break
      case 'jwks': {
        p.jwksUrl = httpUrl(ctx, s.url, 'the JWKS address') ?? ''
        const o = readOptions(s.options, JWKS_SCHEMA, '`jwks`', ctx.d)
        p.refreshMs = optNum(o, 'refresh') ?? p.refreshMs
        p.refreshAheadMs = optNum(o, 'refresh_ahead') ?? Math.min(p.refreshAheadMs, Math.floor(p.refreshMs / 2))
        p.unknownKidCooldownMs = optNum(o, 'unknown_kid_cooldown') ?? p.unknownKidCooldownMs
        p.maxStaleMs = optNum(o, 'max_stale') ?? Math.max(p.maxStaleMs, 2 * p.refreshMs)
        p.fetchTimeoutMs = optNum(o, 'timeout') ?? p.fetchTimeoutMs
        if (!o.has('refresh')) {
          ctx.d.warn('W0705', s.span, `jwks of ${where} has no refresh interval`, { label: `keys will be refetched every ${p.refreshMs / 60_000}m by default`, hint: 'say how often keys rotate: `jwks "…" refresh 5m`' })
        }
        const ahead = o.get('refresh_ahead')
        if (ahead !== undefined && p.refreshAheadMs >= p.refreshMs) ctx.d.error('E0303', ahead.span, '`refresh_ahead` must be shorter than `refresh`', { label: 'not shorter than the refresh interval' })
        const stale = o.get('max_stale')
        if (stale !== undefined && p.maxStaleMs < p.refreshMs) ctx.d.error('E0303', stale.span, '`max_stale` must be at least the `refresh` interval', { label: 'keys would expire before the next refresh', hint: 'make it a few refresh intervals long' })
        break
      }
      case 'algorithms': {
        const algs: JwtAlgorithm[] = []
        for (const w of s.values) {
          if ((JWT_ALGORITHMS as readonly string[]).includes(w.value)) { if (!algs.includes(w.value as JwtAlgorithm)) algs.push(w.value as JwtAlgorithm); continue }
          if (/^HS\d+$/i.test(w.value) || w.value.toLowerCase() === 'none') {
            ctx.d.error('E0206', w.span, `\`${w.value}\` cannot be verified against a JWKS of public keys`, { label: 'not an asymmetric algorithm', hint: 'allow only asymmetric algorithms such as `RS256`, `ES256` or `EdDSA`' })
            continue
          }
          const guess = closest(w.value, JWT_ALGORITHMS)
          ctx.d.error('E0206', w.span, `unknown JWT algorithm \`${w.value}\``, { hint: guess ? `did you mean \`${guess}\`?` : `choose from ${JWT_ALGORITHMS.join(', ')}` })
        }
        if (algs.length > 0) p.algorithms = algs
        break
      }
      case 'audience': p.audience = s.values.map(v => v.value); break
      case 'leeway': p.leewayMs = readQty(s.value, 'duration', '`leeway`', ctx.d, { min: 0, max: 300_000 }) ?? p.leewayMs; break
      case 'cache': p.tokenCacheSize = readQty(s.value, 'count', '`cache`', ctx.d, { min: 0, max: 10_000_000 }) ?? p.tokenCacheSize; break
      case 'forward':
        for (const pair of s.pairs) {
          const h = headerName(ctx, pair.header)
          if (h === undefined) continue
          if (p.forward.some(f => f.header === h)) { ctx.d.error('E0102', pair.header.span, `header \`${pair.header.value}\` is forwarded twice`, { hint: 'forward each header once' }); continue }
          if (NOT_IDENTITY_HEADERS.has(h)) {
            ctx.d.error('E0306', pair.header.span, `claims cannot be forwarded as \`${pair.header.value}\``, { label: 'the gateway owns this header', hint: 'forward claims as `X-…` headers' })
            continue
          }
          p.forward.push({ claim: pair.claim.value, header: h })
        }
        break
    }
  }
  if (!seen.has('issuer')) ctx.d.error('E0104', j.name.span, `${where} has no \`issuer\``, { label: 'tokens cannot be checked without one', hint: 'add `issuer "https://…/"`' })
  if (!seen.has('jwks')) ctx.d.error('E0104', j.name.span, `${where} has no \`jwks\``, { label: 'no keys to verify tokens with', hint: 'add `jwks "https://…/.well-known/jwks.json" refresh 5m`' })
  return p
}

const AUTH_SCHEMA = { audience: { kind: 'strings' } } as const

export function checkAuthStage(ctx: CheckContext, s: AuthStmt): AuthStageIR | undefined {
  const o = readOptions(s.options, AUTH_SCHEMA, '`auth`', ctx.d)
  const provider = ctx.symbols.jwts.get(s.provider.value)
  if (provider === undefined) { unknownName(ctx, 'E0202', 'jwt provider', s.provider, ctx.symbols.jwts.keys(), 'jwt'); return undefined }
  ctx.used.add('jwt:' + s.provider.value)
  const aud = o.get('audience')?.value as string[] | undefined
  return { kind: 'auth', provider: s.provider.value, audience: aud ?? providerAudience(provider), source: spanOf(s.span) }
}

function providerAudience(j: A.JwtDecl): string[] {
  for (const s of j.body) if (s.kind === 'audience') return s.values.map(v => v.value)
  return []
}
