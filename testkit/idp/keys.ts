// testkit/idp/keys.ts: the mock IdP's key ring: generation, rotation with overlap, retirement, and the
// rendered JWKS document (public parts only) with its ETag.
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

/** The signing algorithms the mock IdP can issue; the ones the gateway's jwt policy accepts. */
export type IdpAlg = 'RS256' | 'ES256' | 'EdDSA'
export const IDP_ALGS: readonly IdpAlg[] = ['RS256', 'ES256', 'EdDSA']

/** One key pair in the ring. `privateKey` never leaves the process except through signing. */
export interface RingKey {
  kid: string
  alg: IdpAlg
  privateKey: CryptoKey
  /** The public JWK exactly as published (kid, alg, use: "sig"). */
  publicJwk: JWK
  published: boolean
  createdAt: number
  /** 1, 2, … per alg, in creation order. */
  seq: number
}

/** What `keys()` reports: no key material. */
export interface KeyInfo { kid: string; alg: IdpAlg; current: boolean; published: boolean }

/** A rendered JWKS: the bytes served and their strong ETag, recomputed only when the ring changes. */
export interface RenderedJwks { body: Buffer; etag: string; keys: JWK[] }

export interface KeyRing {
  /** Generates a key for `alg` and makes it the current signer for that alg (the previous one stays published). */
  add(alg: IdpAlg): Promise<RingKey>
  /** Unpublishes `kid`. If it was the current signer, the newest still-published key of that alg takes over. */
  retire(kid: string): boolean
  /** The key `sign()` uses for `alg` when no kid is given, or undefined when every key of that alg is retired. */
  current(alg: IdpAlg): RingKey | undefined
  /** Any key the ring ever held, retired ones included (signing with a retired key is a useful test). */
  get(kid: string): RingKey | undefined
  list(): KeyInfo[]
  /** Published keys, in creation order. */
  published(): RingKey[]
  jwks(): RenderedJwks
}

/** Parses an alg name leniently ('rs256', 'eddsa', 'Ed25519'); throws on anything else. */
export function parseAlg(name: string): IdpAlg {
  const up = name.trim().toUpperCase()
  if (up === 'ED25519') return 'EdDSA'
  const alg = IDP_ALGS.find((a) => a.toUpperCase() === up)
  if (alg === undefined) throw new Error(`idp: unsupported algorithm ${JSON.stringify(name)} (use ${IDP_ALGS.join(', ')})`)
  return alg
}

/** Generates a signing key pair the way a real IdP would: RSA 2048, P-256, Ed25519. */
export async function generateSigningKey(alg: IdpAlg, seq: number): Promise<Omit<RingKey, 'published' | 'createdAt' | 'seq'>> {
  const { privateKey, publicKey } = await generateKeyPair(alg, alg === 'RS256' ? { modulusLength: 2048 } : undefined)
  const jwk = await exportJWK(publicKey)
  // The thumbprint suffix makes kids unique across restarts of the CLI: a gateway that cached the previous
  // process's `rs256-1` must see a new kid rather than a changed key under an old one.
  const thumb = await calculateJwkThumbprint(jwk)
  const kid = `${alg.toLowerCase()}-${seq}-${thumb.slice(0, 8)}`
  return { kid, alg, privateKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } }
}

export function createKeyRing(): KeyRing {
  const all: RingKey[] = []
  const currentByAlg = new Map<IdpAlg, RingKey>()
  const seqByAlg = new Map<IdpAlg, number>() // per-alg numbering reads better: rs256-1, rs256-2 after a rotate
  let rendered: RenderedJwks | undefined

  function render(): RenderedJwks {
    const keys = all.filter((k) => k.published).map((k) => k.publicJwk)
    const body = Buffer.from(JSON.stringify({ keys }))
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
    return { body, etag, keys }
  }

  return {
    async add(alg) {
      const seq = (seqByAlg.get(alg) ?? 0) + 1
      seqByAlg.set(alg, seq)
      const key: RingKey = { ...(await generateSigningKey(alg, seq)), published: true, createdAt: Date.now(), seq }
      all.push(key)
      // Keygen runs in parallel, so sort for a stable JWKS order: by alg, then seq.
      all.sort((a, b) => IDP_ALGS.indexOf(a.alg) - IDP_ALGS.indexOf(b.alg) || a.seq - b.seq)
      // Two rotations in flight may finish out of order: the newer seq wins.
      if ((currentByAlg.get(alg)?.seq ?? 0) < seq) currentByAlg.set(alg, key)
      rendered = undefined
      return key
    },
    retire(kid) {
      const key = all.find((k) => k.kid === kid)
      if (key === undefined || !key.published) return false
      key.published = false
      if (currentByAlg.get(key.alg) === key) {
        const next = all.filter((k) => k.alg === key.alg && k.published).at(-1)
        if (next === undefined) currentByAlg.delete(key.alg)
        else currentByAlg.set(key.alg, next)
      }
      rendered = undefined
      return true
    },
    current: (alg) => currentByAlg.get(alg),
    get: (kid) => all.find((k) => k.kid === kid),
    list: () => all.map((k) => ({ kid: k.kid, alg: k.alg, current: currentByAlg.get(k.alg) === k, published: k.published })),
    published: () => all.filter((k) => k.published),
    jwks() {
      rendered ??= render()
      return rendered
    },
  }
}
