// What the generated module passes to `stages.auth(…)` (the route, the provider(s) it accepts and the audience)
// and the checked forms of the provider declarations it names (`jwt NAME { … }`, `keys NAME { … }`), carried
// whole in the bundle's IR declarations. Shared by both halves of the policy.
import type { DeclarationIR, SourceSpan } from '../../config/ir.js'
import type { StageOptionsBase } from '../../config/stage.js'
import { hash } from 'node:crypto'

export interface AuthOptions extends StageOptionsBase {
  provider: string
  audience: string[]
  /**
   * `auth a or b`: the providers after the first, in the order written (absent when there is one, so bundles
   * of single-provider routes are what they were).
   */
  or?: string[]
}

export type JwtAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'
export const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']

export interface ClaimForwardIR {
  claim: string
  /** Lower-case header name. */
  header: string
}

/** `jwt NAME { … }`, checked. */
export interface JwtProviderIR extends DeclarationIR {
  kind: 'jwt'
  name: string
  issuer: string
  jwksUrl: string
  /** The JWKS is refetched in the background this often. */
  refreshMs: number
  /** Start the background refresh this long before the cached set expires. */
  refreshAheadMs: number
  /** An unknown `kid` triggers at most one JWKS fetch per this interval. */
  unknownKidCooldownMs: number
  /** Past this age without a successful fetch, cached keys stop being accepted. */
  maxStaleMs: number
  /** Bound on one JWKS fetch. */
  fetchTimeoutMs: number
  algorithms: JwtAlgorithm[]
  /** Default audiences a route's `auth` uses when it names none. Empty = audience not checked. */
  audience: string[]
  /** Clock skew allowed on `exp` and `nbf`. */
  leewayMs: number
  forward: ClaimForwardIR[]
  /** Max verified tokens cached (until their `exp`); 0 disables the cache. */
  tokenCacheSize: number
  source: SourceSpan
}

/** Where a request presents its API key: a header or a query parameter (the name as written; headers lower-case). */
export type KeyLocation = { in: 'header'; name: string } | { in: 'query'; name: string }

/** `keys NAME { … }`, checked. */
export interface KeysProviderIR extends DeclarationIR {
  kind: 'keys'
  name: string
  /** Where the hashed keys are: a keys file (absolute path, resolved from the declaring file) or a Redis hash. */
  store: { kind: 'file'; path: string } | { kind: 'redis'; hash: string }
  key: KeyLocation
  /** Lower-case header the consumer id is forwarded as; null = not forwarded. */
  forwardConsumer: string | null
  source: SourceSpan
}

// The keys file's format, which both halves use (the gateway reads it, `gwc keys add` writes it):
// `sha256:<64 hex digits> <consumer-id>` a line, `#` comments.

/** A consumer id: it is forwarded as a header value and used as a rate-limit key. */
export const CONSUMER_ID = /^[A-Za-z0-9._:@+-]{1,128}$/
/** One key's line (trimmed): the hash and the consumer id. */
export const KEY_LINE = /^sha256:([0-9a-fA-F]{64})\s+(\S+)$/
/** The hash keys are listed under: SHA-256 of the key's UTF-8 bytes, lower-case hex. */
export const keyHash = (key: string): string => hash('sha256', key, 'hex')

/** Every provider declaration `auth` can name. */
export type ProviderIR = JwtProviderIR | KeysProviderIR
