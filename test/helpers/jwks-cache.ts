// test/helpers/jwks-cache.ts: a JWKS cache (policies/auth/jwks.ts) in-process against a JWKS server whose document,
// status and delay the test sets; the cache's logs (parsed pino lines) and metrics (a real GatewayMetrics registry).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { pino } from 'pino'
import type { JwtAlgorithm, JwtProviderIR } from '../../policies/auth/options.js'
import { JwksCache, jwksMetrics } from '../../policies/auth/jwks.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { stageMetrics } from '../../runtime/stage-env.js'
import { metric } from './gateway.js'

export interface JwksServer {
  url: string
  doc: unknown
  status: number
  delayMs: number
  /** Fetches since the last reset, and when each arrived (performance.now()). */
  fetches: number
  fetchedAt: number[]
  lastHeaders: IncomingHttpHeaders
  /** New answers; every cache made so far stops refreshing in the background. */
  reset(doc: unknown, status?: number): void
  /** A JWKS cache for provider `idp` fetching from this server, with `o` over the defaults. */
  cache(o?: Partial<JwtProviderIR>): { c: JwksCache; logs: LogLine[]; metrics: GatewayMetrics; read(name: string, labels: Record<string, string>): Promise<number | undefined> }
  close(): void
}
export interface LogLine { level: number; msg: string; [k: string]: unknown }

export async function jwksServer(): Promise<JwksServer> {
  const caches: JwksCache[] = []
  const s: JwksServer = {
    url: '', doc: { keys: [] }, status: 200, delayMs: 0, fetches: 0, fetchedAt: [], lastHeaders: {},
    reset(doc, status = 200) { for (const c of caches) c.stop(); s.doc = doc; s.status = status; s.delayMs = 0; s.fetches = 0; s.fetchedAt = [] },
    cache(o = {}) {
      const p = {
        name: 'idp', issuer: 'https://idp/', jwksUrl: s.url, refreshMs: 300_000, refreshAheadMs: 30_000, unknownKidCooldownMs: 30_000,
        maxStaleMs: 900_000, fetchTimeoutMs: 2000, algorithms: ['RS256', 'ES256'] as JwtAlgorithm[], audience: [], leewayMs: 0, forward: [],
        tokenCacheSize: 100, source: { file: 'p.gwp', line: 1, col: 1 }, ...o,
      } as JwtProviderIR
      const metrics = new GatewayMetrics({ defaultMetrics: false })
      const shared = new Map<string, unknown>()
      const logs: LogLine[] = []
      const log = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line)) } })
      const m = jwksMetrics(stageMetrics(metrics, <T>(k: string, f: () => T): T => { if (!shared.has(k)) shared.set(k, f()); return shared.get(k) as T }), p.name)
      const c = new JwksCache(p, m, log)
      caches.push(c)
      const read = async (name: string, labels: Record<string, string>) => metric(await metrics.registry.metrics(), name, labels)
      return { c, logs, metrics, read }
    },
    close() { for (const c of caches) c.stop(); server.closeAllConnections(); server.close() },
  }
  const server: Server = createServer((req, res) => {
    s.fetches++
    s.fetchedAt.push(performance.now())
    s.lastHeaders = req.headers
    const send = () => { res.writeHead(s.status, { 'content-type': 'application/json' }).end(JSON.stringify(s.doc)) }
    if (s.delayMs > 0) setTimeout(send, s.delayMs); else send()
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  s.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`
  return s
}
