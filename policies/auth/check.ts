// Compile side of auth: the `jwt NAME { … }` provider block and the `auth NAME [or NAME …]` stage (the `keys`
// block is keys.ts).
import { NOT_IDENTITY_HEADERS } from '../../config/http.js'
import { closest, givenTwice, headerName, optNum, readOptions, readQty, spanOf, unknownName, type A, type CheckContext, type Consumed } from '../../compiler/policy-api.js'
import type { StageIR } from '../../config/ir.js'
import { JWT_ALGORITHMS, type JwtAlgorithm, type JwtProviderIR } from './options.js'

/** `auth PROVIDER [or PROVIDER …] [audience "a" …]`, as the parser (or the YAML front end) reads it. */
export interface AuthStmt { kind: 'auth'; provider: A.WordV; or?: A.WordV[]; options: A.OptionAst[]; span: A.Span }

export interface AuthStageIR extends StageIR {
  kind: 'auth'
  provider: string
  /** Audiences accepted; empty = not checked. */
  audience: string[]
  /** `auth a or b`: the providers after the first (absent when there is one). */
  or?: string[]
  /** What a request that passes has established for the stages after it: `identity` (a JWT), `consumer` (a key); only what every provider gives. */
  facts: string[]
  /** The credentials the providers read, removed before proxying. */
  consumes: Consumed
  /** Whether a provider verifies JWTs (a signature check: W0701 counts it costly; keys cost one hash). */
  jwt: boolean
}

// ── the `jwt NAME { … }` statements, as their syntax (jwt.ts) builds them ───────────────────────────

export interface IssuerStmt { kind: 'issuer'; value: A.StrV; span: A.Span }
export interface JwksStmt { kind: 'jwks'; url: A.StrV; options: A.OptionAst[]; span: A.Span }
export interface AlgorithmsStmt { kind: 'algorithms'; values: A.WordV[]; span: A.Span }
export interface AudienceStmt { kind: 'audience'; values: A.StrV[]; span: A.Span }
export interface LeewayStmt { kind: 'leeway'; value: A.QtyV; span: A.Span }
export interface CacheStmt { kind: 'cache'; value: A.QtyV; span: A.Span }
export interface ForwardStmt { kind: 'forward'; pairs: { claim: A.NameV; header: A.NameV; span: A.Span }[]; span: A.Span }
export type JwtStmt = IssuerStmt | JwksStmt | AlgorithmsStmt | AudienceStmt | LeewayStmt | CacheStmt | ForwardStmt
/** `jwt NAME { … }`: a declaration whose body holds JwtStmt. */
export type JwtDecl = A.Declaration & { body: JwtStmt[] }

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

export function checkJwtProvider(ctx: CheckContext, j: JwtDecl): JwtProviderIR {
  const where = `jwt \`${j.name.value}\``
  const seen = new Map<string, A.Span>()
  const p: JwtProviderIR = {
    kind: 'jwt', name: j.name.value, issuer: '', jwksUrl: '', refreshMs: JWT_DEFAULTS.refreshMs, refreshAheadMs: JWT_DEFAULTS.refreshAheadMs,
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

/** Declarations `auth` can name, by keyword. */
const PROVIDER_KINDS = ['jwt', 'keys']

export function checkAuthStage(ctx: CheckContext, s: AuthStmt): AuthStageIR | undefined {
  const dangling = s.options.find(x => x.name.value === 'or')
  if (dangling !== undefined) {
    ctx.d.error('E0104', dangling.span, '`or` names no provider', { label: 'a provider name goes here', hint: 'write `auth idp or partners`, with the alternatives right after the first provider' })
    return undefined
  }
  const o = readOptions(s.options, AUTH_SCHEMA, '`auth`', ctx.d)
  const named = [s.provider, ...(s.or ?? [])]
  const decls: A.Declaration[] = []
  let broken = false
  for (const [i, w] of named.entries()) {
    const d = ctx.symbols.declarations.get(w.value)
    if (d === undefined || !PROVIDER_KINDS.includes(d.kind as unknown as string)) {
      const known = [...ctx.symbols.declarations.values()].filter(x => PROVIDER_KINDS.includes(x.kind as unknown as string)).map(x => x.name.value)
      unknownName(ctx, 'E0202', 'provider', w, known, 'jwt')
      broken = true
      continue
    }
    const first = named.findIndex(x => x.value === w.value)
    if (first < i) {
      ctx.d.error('E0452', w.span, `provider \`${w.value}\` is named twice in this \`auth\``, { label: 'named again here', notes: [{ message: 'first named here', span: named[first].span }], hint: 'name each provider once' })
      broken = true
      continue
    }
    ctx.used.add(`${d.kind as unknown as string}:${w.value}`)
    decls.push(d)
  }
  if (broken) return undefined
  const aud = o.get('audience')
  const jwts = decls.filter(d => (d.kind as unknown as string) === 'jwt') as JwtDecl[]
  if (aud !== undefined && jwts.length === 0) {
    ctx.d.error('E0451', aud.span, '`audience` is checked on JWTs, and this `auth` accepts only API keys', { label: 'no token carries an audience here', hint: 'remove `audience`, or accept a `jwt` provider' })
    return undefined
  }
  const consumes: Consumed = { headers: [], query: [] }
  const each: string[][] = []
  for (const d of decls) {
    if ((d.kind as unknown as string) === 'jwt') { consumes.headers.push('authorization'); each.push(['identity']); continue }
    const loc = keyLocationOf(d)
    if (loc !== undefined) (loc.in === 'header' ? consumes.headers : consumes.query).push(loc.name)
    each.push(['consumer'])
  }
  // a request passes through one provider: only what every one of them establishes is certain afterwards
  const facts = each.reduce((a, b) => a.filter(f => b.includes(f)))
  const audience = (aud?.value as string[] | undefined) ?? (jwts.length > 0 ? providerAudience(jwts[0]) : [])
  return {
    kind: 'auth', provider: s.provider.value, audience, ...(named.length > 1 ? { or: named.slice(1).map(w => w.value) } : {}),
    facts: [...new Set(facts)], jwt: jwts.length > 0, consumes: { headers: [...new Set(consumes.headers)], query: [...new Set(consumes.query)] }, source: spanOf(s.span),
  }
}

/** Where a `keys` declaration reads its key from, as written (its check reports what is wrong). */
function keyLocationOf(d: A.Declaration): { in: 'header' | 'query'; name: string } | undefined {
  for (const x of d.body as { kind: string; name?: A.NameV }[]) {
    if ((x.kind === 'header' || x.kind === 'query') && x.name !== undefined) return { in: x.kind, name: x.kind === 'header' ? x.name.value.toLowerCase() : x.name.value }
  }
  return { in: 'header', name: 'x-api-key' }
}

function providerAudience(j: JwtDecl): string[] {
  for (const s of j.body) if (s.kind === 'audience') return s.values.map(v => v.value)
  return []
}
