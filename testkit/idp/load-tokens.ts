// testkit/idp/load-tokens.ts: pre-signs a pool of tokens (many users and tenants, every published key and
// algorithm) into a JSON file, so a load generator picks tokens instead of signing on its hot path.
import { readFile, writeFile } from 'node:fs/promises'
import type { IdpAlg, KeyInfo } from './keys.js'
import type { Idp } from './server.js'
import { offsetSeconds, type TimeOffset } from './sign.js'

export interface LoadTokenOptions {
  /** How many tokens to sign. */
  count: number
  /** Distinct subjects `user-0…user-(n-1)` (default min(count, 1000)). */
  users?: number
  /** Distinct tenants; user u belongs to tenant u mod tenants, as in a real directory (default 10). */
  tenants?: number
  /** Default `bench-api`. */
  audience?: string | string[]
  /** Token lifetime (default 24 h, so a long benchmark never crosses an expiry). */
  ttl?: TimeOffset
  /** Restrict to these algorithms' published keys (default: every published key). */
  algs?: IdpAlg[]
}

export interface LoadToken { token: string; sub: string; tid: string; alg: IdpAlg; kid: string }

/** The file format `--tokens N --out FILE` writes and `readLoadTokens` reads back. */
export interface LoadTokenFile {
  issuer: string
  jwksUrl: string
  audience: string | string[]
  createdAt: string
  /** ISO time the tokens expire; a load run past it measures 401s, not the gateway. */
  expiresAt: string
  keys: KeyInfo[]
  tokens: LoadToken[]
}

/** Signs the pool in memory. Keys are used round-robin, so every published key appears when count ≥ keys. */
export async function signLoadTokens(idp: Idp, opts: LoadTokenOptions): Promise<LoadTokenFile> {
  const { count } = opts
  if (!Number.isInteger(count) || count < 1) throw new Error(`idp: token count must be a positive integer, got ${count}`)
  const users = opts.users ?? Math.min(count, 1000)
  const tenants = opts.tenants ?? 10
  const audience = opts.audience ?? 'bench-api'
  const ttl = offsetSeconds(opts.ttl ?? '24h')
  const keys = idp.keys().filter((k) => k.published && (opts.algs === undefined || opts.algs.includes(k.alg)))
  if (keys.length === 0) throw new Error('idp: no published key matches the requested algorithms')

  const tokens = new Array<LoadToken>(count)
  // Batches keep a few signatures in flight on libuv's threadpool without queueing all N at once.
  const BATCH = 64
  for (let start = 0; start < count; start += BATCH) {
    const batch: Promise<void>[] = []
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const u = i % users
      const sub = `user-${u}`
      const tid = `tenant-${u % tenants}`
      const key = keys[i % keys.length]
      batch.push(idp.sign({ tid }, { kid: key.kid, subject: sub, audience, expiresIn: ttl })
        .then((token) => { tokens[i] = { token, sub, tid, alg: key.alg, kid: key.kid } }))
    }
    await Promise.all(batch)
  }
  const now = Date.now()
  return {
    issuer: idp.issuer, jwksUrl: idp.jwksUrl, audience,
    createdAt: new Date(now).toISOString(), expiresAt: new Date(now + ttl * 1000).toISOString(),
    keys: idp.keys(), tokens,
  }
}

/** Signs the pool and writes it to `path` as JSON. */
export async function writeLoadTokens(idp: Idp, path: string, opts: LoadTokenOptions): Promise<LoadTokenFile> {
  const file = await signLoadTokens(idp, opts)
  await writeFile(path, JSON.stringify(file))
  return file
}

/** Reads a pool written by `writeLoadTokens`. Throws when the file is not one, or its tokens have expired. */
export async function readLoadTokens(path: string): Promise<LoadTokenFile> {
  const file = JSON.parse(await readFile(path, 'utf8')) as LoadTokenFile
  if (!Array.isArray(file.tokens) || typeof file.issuer !== 'string') throw new Error(`${path}: not a token file written by testkit/idp`)
  if (Date.parse(file.expiresAt) <= Date.now()) throw new Error(`${path}: tokens expired at ${file.expiresAt}; sign a new pool`)
  return file
}
