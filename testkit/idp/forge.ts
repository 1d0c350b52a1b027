// testkit/idp/forge.ts: attack and malformed tokens for the gateway's security tests. Each one is a well-formed
// attack (it would pass a verifier with the matching bug), never random garbage, so a 401 means the defence held.
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import { SignJWT, type JWK, type JWTPayload } from 'jose'
import { generateSigningKey, type IdpAlg, type RingKey } from './keys.js'
import type { Idp } from './server.js'
import { b64url, signJwsWithKey, signWithKey, type SignOptions } from './sign.js'

/** One forged token and what the gateway must answer (401; 403 only for a valid token with the wrong audience). */
export interface AttackToken { name: string; token: string; status: 401 | 403; reason: string }

const json = (v: unknown): string => b64url(JSON.stringify(v))
const nowSeconds = (): number => Math.floor(Date.now() / 1000)
const withTimes = (claims: JWTPayload): JWTPayload => ({ iat: nowSeconds(), exp: nowSeconds() + 3600, ...claims })

/** An unsecured JWT (`alg: none`, empty signature). `alg` may be varied ('None', 'NONE') to probe case handling. */
export function algNone(claims: JWTPayload, opts: { kid?: string; alg?: string } = {}): string {
  const header: Record<string, unknown> = { alg: opts.alg ?? 'none', typ: 'JWT' }
  if (opts.kid !== undefined) header.kid = opts.kid
  return `${json(header)}.${json(withTimes(claims))}.`
}

/**
 * The HMAC secret an algorithm-confusion attack uses: the public key's SPKI PEM text, which is what a
 * verifier that passes "the key" to HMAC without checking its type would use.
 */
export function hmacSecretFor(publicKey: JWK | string | KeyObject): Uint8Array {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey)
    : 'type' in publicKey && typeof publicKey.export === 'function' ? (publicKey as KeyObject)
      : createPublicKey({ key: publicKey as JWK & Record<string, unknown>, format: 'jwk' })
  return new Uint8Array(Buffer.from(key.export({ type: 'spki', format: 'pem' }) as string))
}

/**
 * Algorithm confusion: an HS256 token whose HMAC key is the IdP's public key (see `hmacSecretFor`), carrying
 * that key's kid so a naive verifier finds "its" key. `kid` defaults to the JWK's own kid.
 */
export async function hs256WithPublicKey(claims: JWTPayload, publicKey: JWK | string, opts: { kid?: string } = {}): Promise<string> {
  const kid = opts.kid ?? (typeof publicKey === 'string' ? undefined : publicKey.kid)
  return new SignJWT(withTimes(claims))
    .setProtectedHeader(kid === undefined ? { alg: 'HS256', typ: 'JWT' } : { alg: 'HS256', typ: 'JWT', kid })
    .sign(hmacSecretFor(publicKey))
}

// Attacker keys are generated once per process per alg: RSA keygen costs ~0.3 s and tests forge many tokens.
const attackerKeys = new Map<IdpAlg, Promise<Omit<RingKey, 'published' | 'createdAt' | 'seq'>>>()
function attackerKey(alg: IdpAlg) {
  let k = attackerKeys.get(alg)
  if (k === undefined) attackerKeys.set(alg, (k = generateSigningKey(alg, 0)))
  return k
}

/** The public JWK of the attacker key `unknownKid`/`embeddedJwk` sign with, so tests can prove those signatures are valid. */
export async function attackerPublicJwk(alg: IdpAlg = 'RS256'): Promise<JWK> {
  const { kid: _kid, ...jwk } = (await attackerKey(alg)).publicJwk
  return jwk
}

/** Validly signed, by a key the IdP never published, under a random kid. */
export async function unknownKid(claims: JWTPayload, opts: { alg?: IdpAlg; kid?: string } = {}): Promise<string> {
  const key = await attackerKey(opts.alg ?? 'RS256')
  const kid = opts.kid ?? `unknown-${randomBytes(6).toString('hex')}`
  return signWithKey({ ...key, kid }, claims, {}, undefined)
}

/**
 * Signed by the attacker's key, which rides along in the header as `jwk` (the CVE-2018-0114 shape): only a
 * verifier that trusts embedded keys accepts it. Pass `kid` of a published key to make the verifier pick it.
 */
export async function embeddedJwk(claims: JWTPayload, opts: { alg?: IdpAlg; kid?: string } = {}): Promise<string> {
  const key = await attackerKey(opts.alg ?? 'RS256')
  const { kid: _kid, use: _use, ...jwk } = key.publicJwk
  // JSON.stringify drops `kid: undefined`, so without opts.kid the header names no kid at all.
  return signJwsWithKey(key, JSON.stringify(withTimes(claims)), { typ: 'JWT', jwk, kid: opts.kid })
}

/** The same token with its signature's first and last bytes flipped (still valid base64url, same length). */
export function badSignature(token: string): string {
  const parts = token.split('.')
  if (parts.length !== 3 || parts[2] === '') throw new Error('badSignature: need a signed compact JWS')
  const sig = Buffer.from(parts[2], 'base64url')
  sig[0] ^= 0xff
  sig[sig.length - 1] ^= 0xff
  return `${parts[0]}.${parts[1]}.${sig.toString('base64url')}`
}

/** Validly signed by the IdP, expired an hour ago. */
export const expired = (idp: Idp, claims: JWTPayload = {}, o: SignOptions = {}): Promise<string> =>
  idp.sign({ ...claims, iat: nowSeconds() - 7200 }, { ...o, expiresIn: -3600 })
/** Validly signed by the IdP, `nbf` an hour from now. */
export const notYetValid = (idp: Idp, claims: JWTPayload = {}, o: SignOptions = {}): Promise<string> =>
  idp.sign(claims, { ...o, notBefore: 3600, expiresIn: 7200 })
/** Validly signed by the IdP's key, but claiming another issuer. */
export const wrongIssuer = (idp: Idp, claims: JWTPayload = {}, o: SignOptions = {}): Promise<string> =>
  idp.sign(claims, { ...o, issuer: 'https://evil.example/' })
/** Validly signed, right issuer, audience nobody configured. The gateway answers 403 to this one. */
export const wrongAudience = (idp: Idp, claims: JWTPayload = {}, o: SignOptions = {}): Promise<string> =>
  idp.sign(claims, { ...o, audience: 'not-this-api' })

/**
 * Structurally broken tokens, for the gateway to refuse cheaply (as a 401). `hugeBytes` sizes the
 * oversized header; the default stays under Node's 16 KiB request-header limit so the gateway, not the
 * HTTP parser, has to reject it. Pass a published RS256 `kid` so a verifier that looks the key up first
 * still gets past the lookup and meets the actual defect.
 */
export function malformedTokens(opts: { kid?: string; hugeBytes?: number } = {}): AttackToken[] {
  const kid = opts.kid ?? 'k1'
  const h = json({ alg: 'RS256', typ: 'JWT', kid })
  const p = json(withTimes({ sub: 'user-1' }))
  const s = b64url(randomBytes(256))
  const list: [string, string][] = [
    ['empty', ''],
    ['one-part', h],
    ['two-parts', `${h}.${p}`],
    ['four-parts', `${h}.${p}.${s}.${s}`],
    ['five-parts-jwe-shaped', `${h}.${s}.${s}.${s}.${s}`],
    ['empty-parts', '..'],
    ['bad-base64-header', `%%%!.${p}.${s}`],
    ['bad-base64-payload', `${h}.$$$*.${s}`],
    ['bad-base64-signature', `${h}.${p}.***`],
    ['header-not-json', `${b64url('not json at all')}.${p}.${s}`],
    ['header-json-array', `${b64url('["RS256"]')}.${p}.${s}`],
    ['header-without-alg', `${json({ typ: 'JWT', kid })}.${p}.${s}`],
    ['payload-not-json', `${h}.${b64url('{"sub": "user-1",')}.${s}`],
    ['non-ascii', 'é.ü.ß'],
    ['huge-header', `${json({ alg: 'RS256', typ: 'JWT', kid, pad: 'A'.repeat(opts.hugeBytes ?? 8192) })}.${p}.${s}`],
  ]
  return list.map(([name, token]) => ({ name: `malformed-${name}`, token, status: 401, reason: 'not a well-formed JWS' }))
}

export interface AttackBase {
  /** The audience the gateway route expects; every attack except wrong-audience carries it. */
  audience: string | string[]
  subject?: string
  claims?: JWTPayload
}

/**
 * Every attack the gateway must refuse, as ready tokens with the status it must answer. Claims carry the
 * IdP's issuer and the route's audience, so each token fails for exactly one reason.
 */
export async function attackTokens(idp: Idp, base: AttackBase): Promise<AttackToken[]> {
  const claims: JWTPayload = { sub: base.subject ?? 'attacker', ...base.claims, iss: idp.issuer, aud: base.audience }
  const o: SignOptions = { audience: base.audience }
  const jwks = idp.jwks().keys
  const victim = jwks.find((k) => k.kty === 'RSA') ?? jwks[0]
  const out: AttackToken[] = []
  const add = (name: string, token: string, reason: string, status: 401 | 403 = 401) => out.push({ name, token, status, reason })

  for (const alg of ['none', 'None', 'NONE']) add(`alg-${alg}`, algNone(claims, { alg, kid: victim.kid }), 'unsigned token')
  add('hs256-public-key', await hs256WithPublicKey(claims, victim), 'algorithm confusion: HMAC keyed with the public key')
  add('unknown-kid', await unknownKid(claims), 'signed by a key the IdP never published')
  add('embedded-jwk', await embeddedJwk(claims, { kid: victim.kid }), 'signed by a key carried in the header')
  for (const alg of idp.algorithms) add(`bad-signature-${alg}`, badSignature(await idp.sign(claims, { ...o, alg })), 'signature bytes altered')
  add('crit-unknown', await idp.signJws(JSON.stringify(withTimes(claims)), { header: { typ: 'JWT', crit: ['x-gwp-unknown'], 'x-gwp-unknown': true } }),
    'critical header the verifier does not understand')
  add('expired', await expired(idp, claims, o), 'exp in the past')
  add('not-yet-valid', await notYetValid(idp, claims, o), 'nbf in the future')
  add('wrong-issuer', await wrongIssuer(idp, claims, o), 'iss is not the configured issuer')
  add('wrong-audience', await wrongAudience(idp, claims, o), 'aud is not the route audience', 403)
  add('signed-payload-not-json', await idp.signJws('{"sub": "attacker",'), 'validly signed, payload is not JSON')
  add('signed-payload-array', await idp.signJws('["attacker"]'), 'validly signed, payload is not a JSON object')
  return [...out, ...malformedTokens({ kid: victim.kty === 'RSA' ? victim.kid : undefined })]
}
