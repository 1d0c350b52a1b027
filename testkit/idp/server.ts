// testkit/idp/server.ts: the mock identity provider's HTTP side: `startIdp()` serves the key ring as a JWKS
// (with Cache-Control and ETag), counts fetches, and can be made slow or down to test the gateway's JWKS cache.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { JSONWebKeySet, JWTPayload } from 'jose'
import { createAdminHandler, sendJson } from './admin.js'
import { createKeyRing, IDP_ALGS, type IdpAlg, type KeyInfo } from './keys.js'
import { signJwsWithKey, signWithKey, type SignOptions } from './sign.js'

export const JWKS_PATH = '/.well-known/jwks.json'
export const OIDC_PATH = '/.well-known/openid-configuration'

/** How the JWKS endpoint misbehaves: 503, a closed connection, or no answer at all. `false` = healthy. */
export type DownMode = false | 'error' | 'refuse' | 'hang'

export interface IdpOptions {
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0 (a free port). */
  port?: number
  /** Default: the IdP's own url + '/', e.g. `http://127.0.0.1:41234/`. */
  issuer?: string
  /** Default all three; the first one is what `sign()` uses when no alg or kid is given. */
  algorithms?: IdpAlg[]
  /** Keys generated per algorithm at start (default 1); the last one of each alg is the current signer. */
  keysPerAlg?: number
  /** Seconds in the JWKS `Cache-Control: max-age` (default 300). */
  cacheMaxAge?: number
  /** Serve the `/admin/*` endpoints (default true; loopback only unless `host` says otherwise). */
  admin?: boolean
}

export interface Idp {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  readonly port: number
  readonly issuer: string
  readonly jwksUrl: string
  readonly algorithms: readonly IdpAlg[]
  /** Signs a JWT. Throws when the alg is not configured, the kid is unknown, or the alg has no published key left. */
  sign(claims?: JWTPayload, opts?: SignOptions): Promise<string>
  /** Signs raw bytes as a compact JWS with any header (for malformed-but-signed tokens; see forge.ts). */
  signJws(payload: Uint8Array | string, opts?: { alg?: IdpAlg; kid?: string; header?: Record<string, unknown> }): Promise<string>
  /** Adds a key that becomes the current signer for `alg` (default: the first alg); the old one stays published. */
  rotate(alg?: IdpAlg): Promise<KeyInfo>
  /** Removes `kid` from the JWKS. Returns false when it was unknown or already retired. */
  retire(kid: string): boolean
  keys(): KeyInfo[]
  /** The JWKS currently served (public members only). */
  jwks(): JSONWebKeySet
  /** JWKS requests received since start or the last `resetFetches()`, including ones answered while down. */
  readonly fetches: number
  resetFetches(): void
  readonly down: DownMode
  setDown(mode: DownMode): void
  readonly delayMs: number
  /** Delays every JWKS (and discovery) response by `ms`. */
  setDelay(ms: number): void
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>
}

/** Starts a mock IdP on a real socket. Resolves once it listens and its keys exist (RSA keygen takes ~0.3 s). */
export async function startIdp(opts: IdpOptions = {}): Promise<Idp> {
  const algorithms = [...new Set(opts.algorithms ?? IDP_ALGS)]
  if (algorithms.length === 0) throw new Error('idp: at least one algorithm is required')
  const keysPerAlg = opts.keysPerAlg ?? 1
  if (!Number.isInteger(keysPerAlg) || keysPerAlg < 1) throw new Error(`idp: keysPerAlg must be a positive integer, got ${keysPerAlg}`)
  const maxAge = opts.cacheMaxAge ?? 300

  const ring = createKeyRing()
  // Algs in parallel to overlap RSA keygen; within an alg the highest seq becomes the current signer.
  await Promise.all(algorithms.map(async (alg) => { for (let i = 0; i < keysPerAlg; i++) await ring.add(alg) }))

  let fetches = 0
  let down: DownMode = false
  let delayMs = 0
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let admin: ((req: IncomingMessage, res: ServerResponse, url: URL) => void) | undefined // set once `idp` exists

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://idp')
    if (url.pathname === JWKS_PATH || url.pathname === OIDC_PATH) return serveWellKnown(req, res, url.pathname)
    if (admin !== undefined && url.pathname.startsWith('/admin/')) return admin(req, res, url)
    sendJson(res, 404, { error: 'not_found' })
  })
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)) })

  function serveWellKnown(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'method_not_allowed' })
    if (path === JWKS_PATH) fetches++
    if (down === 'refuse') { req.socket.destroy(); return }
    if (down === 'hang') return // the socket stays open until the client gives up or close() runs
    if (down === 'error') return sendJson(res, 503, { error: 'idp_unavailable' })
    const send = (): void => (path === JWKS_PATH ? sendJwks(req, res) : sendJson(res, 200, discovery()))
    if (delayMs <= 0) return send()
    const t = setTimeout(() => { timers.delete(t); if (!res.destroyed) send() }, delayMs)
    timers.add(t)
  }

  function sendJwks(req: IncomingMessage, res: ServerResponse): void {
    const { body, etag } = ring.jwks()
    const headers = { 'cache-control': `public, max-age=${maxAge}`, etag }
    if (req.headers['if-none-match'] === etag) { res.writeHead(304, headers).end(); return }
    res.writeHead(200, { ...headers, 'content-type': 'application/json', 'content-length': body.length })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const discovery = () => ({ issuer, jwks_uri: jwksUrl, id_token_signing_alg_values_supported: algorithms })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const addr = server.address() as AddressInfo
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address
  const url = `http://${hostForUrl}:${addr.port}`
  const issuer = opts.issuer ?? `${url}/`
  const jwksUrl = `${url}${JWKS_PATH}`

  function pickKey(alg: IdpAlg | undefined, kid: string | undefined) {
    if (kid !== undefined) {
      const key = ring.get(kid)
      if (key === undefined) throw new Error(`idp: unknown kid ${JSON.stringify(kid)}`)
      return key
    }
    const a = alg ?? algorithms[0]
    if (!algorithms.includes(a)) throw new Error(`idp: algorithm ${a} is not configured (have ${algorithms.join(', ')})`)
    const key = ring.current(a)
    if (key === undefined) throw new Error(`idp: every ${a} key is retired; rotate(${JSON.stringify(a)}) first`)
    return key
  }

  const idp: Idp = {
    url, port: addr.port, issuer, jwksUrl, algorithms,
    // async so a bad alg or kid rejects the promise rather than throwing at the call site
    async sign(claims = {}, o = {}) { return signWithKey(pickKey(o.alg, o.kid), claims, o, issuer) },
    async signJws(payload, o = {}) { return signJwsWithKey(pickKey(o.alg, o.kid), payload, o.header) },
    async rotate(alg = algorithms[0]) {
      if (!algorithms.includes(alg)) throw new Error(`idp: algorithm ${alg} is not configured (have ${algorithms.join(', ')})`)
      const key = await ring.add(alg)
      return ring.list().find((k) => k.kid === key.kid)!
    },
    retire: (kid) => ring.retire(kid),
    keys: () => ring.list(),
    jwks: () => ({ keys: ring.jwks().keys.map((k) => ({ ...k })) }),
    get fetches() { return fetches },
    resetFetches() { fetches = 0 },
    get down() { return down },
    setDown(mode) {
      if (mode !== false && mode !== 'error' && mode !== 'refuse' && mode !== 'hang') throw new Error(`idp: bad down mode ${JSON.stringify(mode)}`)
      down = mode
    },
    get delayMs() { return delayMs },
    setDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`idp: bad delay ${ms}`)
      delayMs = ms
    },
    async close() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      await closed
    },
  }
  if (opts.admin !== false) admin = createAdminHandler(idp)
  return idp
}
