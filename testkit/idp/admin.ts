// testkit/idp/admin.ts: the `/admin/*` endpoints that let an experiment drive an IdP running in another
// process (rotate, retire, mint a token, read stats, go down, slow down). Same port as the JWKS.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { JWTPayload } from 'jose'
import { parseAlg } from './keys.js'
import type { DownMode, Idp } from './server.js'

/** Writes a small JSON response; every IdP response except the JWKS itself goes through here. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const buf = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': buf.length, 'cache-control': 'no-store' })
  res.end(buf)
}

type Handler = (idp: Idp, q: URLSearchParams) => unknown

/** Parses `mode=` for /admin/down: false|off|up|none mean healthy. */
export function parseDownMode(v: string | null): DownMode {
  const m = (v ?? '').trim().toLowerCase()
  if (m === 'false' || m === 'off' || m === 'up' || m === 'none' || m === '0') return false
  if (m === 'error' || m === 'refuse' || m === 'hang') return m
  throw new Error(`mode must be one of false, error, refuse, hang (got ${JSON.stringify(v)})`)
}

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name)
  if (v === null || v === '') throw new Error(`missing query parameter ${name}`)
  return v
}

const optional = (q: URLSearchParams, name: string): string | undefined => q.get(name) || undefined

const stats = (idp: Idp) => ({
  fetches: idp.fetches, keys: idp.keys(), down: idp.down, delayMs: idp.delayMs,
  issuer: idp.issuer, jwksUrl: idp.jwksUrl, algorithms: idp.algorithms,
})

const POST: Record<string, Handler> = {
  rotate: (idp, q) => idp.rotate(q.get('alg') ? parseAlg(required(q, 'alg')) : undefined),
  retire(idp, q) {
    const kid = required(q, 'kid')
    if (!idp.retire(kid)) throw Object.assign(new Error(`no published key ${JSON.stringify(kid)}`), { status: 404 })
    return { retired: kid, keys: idp.keys() }
  },
  down(idp, q) { idp.setDown(parseDownMode(q.get('mode'))); return { down: idp.down } },
  delay(idp, q) {
    const ms = Number(required(q, 'ms'))
    if (!Number.isFinite(ms) || ms < 0) throw new Error('ms must be a non-negative number')
    idp.setDelay(ms)
    return { delayMs: idp.delayMs }
  },
  reset(idp) { idp.resetFetches(); return stats(idp) },
}

const GET: Record<string, Handler> = {
  stats,
  async token(idp, q) {
    const claims: JWTPayload = {}
    const tid = optional(q, 'tid')
    if (tid !== undefined) claims.tid = tid
    const ttl = optional(q, 'ttl')
    const token = await idp.sign(claims, {
      subject: optional(q, 'sub') ?? 'user-1',
      audience: optional(q, 'aud'),
      issuer: optional(q, 'iss'),
      alg: q.get('alg') ? parseAlg(required(q, 'alg')) : undefined,
      kid: optional(q, 'kid'),
      expiresIn: ttl === undefined ? undefined : /^-?\d+(\.\d+)?$/.test(ttl) ? Number(ttl) : ttl,
    })
    const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string; alg: string }
    return { token, kid: header.kid, alg: header.alg }
  },
}

/** Builds the admin request handler. Errors become `400 {"error": message}` (404 for an unknown kid or path). */
export function createAdminHandler(idp: Idp): (req: IncomingMessage, res: ServerResponse, url: URL) => void {
  return (req, res, url) => {
    const name = url.pathname.slice('/admin/'.length)
    const table = req.method === 'POST' ? POST : req.method === 'GET' ? GET : undefined
    const handler = table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined
    if (handler === undefined) {
      const known = Object.hasOwn(POST, name) || Object.hasOwn(GET, name)
      return sendJson(res, known ? 405 : 404, { error: known ? 'method_not_allowed' : 'not_found' })
    }
    req.resume() // bodies are ignored: every parameter is in the query string
    Promise.resolve()
      .then(() => handler(idp, url.searchParams))
      .then(
        (body) => sendJson(res, 200, body),
        (err: Error & { status?: number }) => sendJson(res, err.status ?? 400, { error: err.message }),
      )
  }
}
