// testkit/idp/sign.ts: turns claims + options into a compact JWT with a ring key, and signs raw JWS bytes
// (any header, any payload) for the forged-but-validly-signed tokens in forge.ts.
import { webcrypto } from 'node:crypto'
import { SignJWT, type JWTPayload } from 'jose'
import type { IdpAlg, RingKey } from './keys.js'

/**
 * A time offset relative to now: a number of seconds (negative = in the past) or a span string such as
 * `'90s'`, `'5m'`, `'-1h'`, `'2d'`. Numbers are relative here, unlike jose's setExpirationTime where a
 * number is an absolute timestamp: a mock IdP is asked for "expired an hour ago" far more often than
 * for a fixed date.
 */
export type TimeOffset = number | string

export interface SignOptions {
  /** Which algorithm's current key signs; defaults to the IdP's first algorithm. Ignored when `kid` is set. */
  alg?: IdpAlg
  /** Sign with this exact key, retired keys included. */
  kid?: string
  /** `exp` relative to now (default 3600 s). `null` omits `exp`. */
  expiresIn?: TimeOffset | null
  /** `nbf` relative to now; omitted by default. */
  notBefore?: TimeOffset
  /** Overrides `iss` (default: claims.iss, then the IdP's issuer). */
  issuer?: string
  audience?: string | string[]
  subject?: string
  /** Extra protected-header members (e.g. `typ`); `alg` and `kid` always come from the key. */
  header?: Record<string, unknown>
}

const SPAN = /^(-?\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h|d)?$/

/** Seconds for a TimeOffset. Throws on a malformed span so a typo in a test fails loudly. */
export function offsetSeconds(v: TimeOffset): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`idp: non-finite time offset ${v}`)
    return v
  }
  const m = SPAN.exec(v.trim())
  if (m === null) throw new Error(`idp: bad time offset ${JSON.stringify(v)} (use e.g. 90, '5m', '-1h')`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  const mult = unit === 'ms' ? 0.001 : unit === 'm' || unit === 'min' ? 60 : unit === 'h' ? 3600 : unit === 'd' ? 86400 : 1
  return n * mult
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Builds the payload a token will carry: claims first, then explicit options, then defaults. */
export function buildPayload(claims: JWTPayload, opts: SignOptions, defaultIssuer: string | undefined): JWTPayload {
  const now = nowSeconds()
  const payload: JWTPayload = { ...claims }
  const iss = opts.issuer ?? claims.iss ?? defaultIssuer
  if (iss !== undefined) payload.iss = iss
  if (opts.subject !== undefined) payload.sub = opts.subject
  if (opts.audience !== undefined) payload.aud = opts.audience
  payload.iat ??= now
  if (opts.expiresIn === null) delete payload.exp
  else if (opts.expiresIn !== undefined) payload.exp = now + Math.round(offsetSeconds(opts.expiresIn))
  else payload.exp ??= now + 3600
  if (opts.notBefore !== undefined) payload.nbf = now + Math.round(offsetSeconds(opts.notBefore))
  return payload
}

/** Signs a JWT with one ring key. */
export async function signWithKey(key: Pick<RingKey, 'alg' | 'kid' | 'privateKey'>, claims: JWTPayload, opts: SignOptions, defaultIssuer: string | undefined): Promise<string> {
  return new SignJWT(buildPayload(claims, opts, defaultIssuer))
    .setProtectedHeader({ typ: 'JWT', ...opts.header, alg: key.alg, kid: key.kid })
    .sign(key.privateKey)
}

const WEBCRYPTO_PARAMS: Record<IdpAlg, webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
}

export const b64url = (v: Uint8Array | string): string => Buffer.from(v).toString('base64url')

/**
 * Signs arbitrary bytes as a compact JWS with a ring key, bypassing jose's checks on purpose: the header
 * may carry `crit` members jose refuses to produce, and the payload need not be a JSON object. WebCrypto's
 * ECDSA output is already the raw r||s form JWS wants, so no DER conversion is needed.
 */
export async function signJwsWithKey(key: Pick<RingKey, 'alg' | 'kid' | 'privateKey'>, payload: Uint8Array | string, header: Record<string, unknown> = {}): Promise<string> {
  const input = `${b64url(JSON.stringify({ alg: key.alg, kid: key.kid, ...header }))}.${b64url(payload)}`
  const sig = await webcrypto.subtle.sign(WEBCRYPTO_PARAMS[key.alg], key.privateKey as webcrypto.CryptoKey, Buffer.from(input))
  return `${input}.${b64url(new Uint8Array(sig))}`
}
