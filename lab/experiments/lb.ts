// lab/experiments/lb.ts: the small round-robin HTTP balancer the rolling-restart experiment puts in front of two
// gw replicas — a stand-in for a real load balancer, with the two behaviours a real one needs to roll replicas
// without client-visible errors, each switchable: health checks (a replica whose admin /healthz is not 200, e.g.
// 503 "draining", gets no new requests) and one retry on the other replica when a connection is refused or reset
// before any response byte (safe for idempotent requests only: the replica cannot have acted on it).
//   node dist/lab/experiments/lb.js --listen 127.0.0.1:0 --backend URL[,ADMIN_URL] --backend … [--health-ms 100] [--retry]
// Prints `lb ready http://HOST:PORT` when listening; GET /__lb/stats answers its counters as JSON.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import { Pool, request } from 'undici'

export interface Backend { url: string; admin: string | null; pool: Pool; healthy: boolean; requests: number; markedDown: number }

/** Errors that mean the request never reached the replica's application: retrying it elsewhere is safe. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])

/** Parses `--backend URL[,ADMIN_URL]`. */
export function parseBackend(v: string): { url: string; admin: string | null } {
  const [url, admin] = v.split(',')
  if (!/^http:\/\/[^/]+$/.test(url) || (admin !== undefined && !/^http:\/\/[^/]+$/.test(admin))) throw new Error(`bad --backend ${JSON.stringify(v)} (want http://host:port[,http://host:port])`)
  return { url, admin: admin ?? null }
}

/** Next backend in rotation that is healthy (all of them when none is: a balancer with no healthy replica fails open). */
export function pickNext(backends: readonly { healthy: boolean }[], cursor: number, exclude = -1): number {
  const n = backends.length
  for (let k = 0; k < n; k++) { const i = (cursor + k) % n; if (i !== exclude && backends[i].healthy) return i }
  for (let k = 0; k < n; k++) { const i = (cursor + k) % n; if (i !== exclude) return i }
  return exclude
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { listen: { type: 'string', default: '127.0.0.1:0' }, backend: { type: 'string', multiple: true }, 'health-ms': { type: 'string', default: '0' }, retry: { type: 'boolean', default: false } } })
  const specs = (v.backend ?? []).map(parseBackend)
  if (specs.length === 0) throw new Error('at least one --backend')
  const healthMs = Number(v['health-ms'])
  const backends: Backend[] = specs.map((s) => ({ ...s, pool: new Pool(s.url, { connections: 64, keepAliveTimeout: 10_000 }), healthy: true, requests: 0, markedDown: 0 }))
  const stats = { requests: 0, retries: 0, errors: 0, errorKinds: {} as Record<string, number> }
  let cursor = 0

  if (healthMs > 0) {
    const check = async (b: Backend): Promise<void> => {
      let ok = false
      try { const r = await request(`${b.admin ?? b.url}/healthz`, { headersTimeout: 500, bodyTimeout: 500 }); await r.body.dump(); ok = r.statusCode === 200 } catch { ok = false }
      if (b.healthy && !ok) b.markedDown++
      b.healthy = ok
    }
    setInterval(() => { for (const b of backends) void check(b) }, healthMs).unref()
  }

  const forward = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const headers: Record<string, string | string[]> = {}
    for (const [k, val] of Object.entries(req.headers)) if (val !== undefined && !HOP.has(k)) headers[k] = val
    const first = pickNext(backends, cursor++ % backends.length)
    const tries = v.retry && IDEMPOTENT.has(req.method ?? 'GET') ? [first, pickNext(backends, first + 1, first)] : [first]
    for (let t = 0; t < tries.length; t++) {
      const b = backends[tries[t]]
      b.requests++
      try {
        const r = await b.pool.request({ method: req.method as 'GET', path: req.url ?? '/', headers, body: body.length > 0 ? body : undefined })
        const out: Record<string, string | string[]> = {}
        for (const [k, val] of Object.entries(r.headers)) if (val !== undefined && !HOP.has(k)) out[k] = val
        res.writeHead(r.statusCode, out)
        for await (const chunk of r.body) res.write(chunk)
        res.end()
        return
      } catch (e) {
        const code = (e as { code?: string }).code ?? 'other'
        if (res.headersSent) { res.destroy(); stats.errors++; return }
        if (t + 1 < tries.length && RETRYABLE.has(code)) { stats.retries++; continue }
        stats.errors++
        stats.errorKinds[code] = (stats.errorKinds[code] ?? 0) + 1
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'lb_bad_gateway', code }))
        return
      }
    }
  }

  const server = createServer((req, res) => {
    if (req.url === '/__lb/stats') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...stats, backends: backends.map((b) => ({ url: b.url, healthy: b.healthy, requests: b.requests, markedDown: b.markedDown })) }))
      return
    }
    stats.requests++
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => { void forward(req, res, Buffer.concat(chunks)) })
  })
  server.keepAliveTimeout = 30_000
  const m = /^(.*):(\d+)$/.exec(v.listen)
  if (m === null) throw new Error(`bad --listen ${v.listen}`)
  server.listen(Number(m[2]), m[1], () => {
    const a = server.address() as { address: string; port: number }
    process.stdout.write(`lb ready http://${a.address}:${a.port} health ${healthMs > 0 ? `every ${healthMs} ms` : 'off'}, retry ${v.retry ? 'on' : 'off'}\n`)
  })
  const stop = (): void => { server.close(); for (const b of backends) void b.pool.destroy(); setTimeout(() => process.exit(0), 200).unref() }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

// Run as a process only (the test imports the helpers above).
if (process.argv[1] !== undefined && /\/lb\.js$/.test(process.argv[1])) {
  main().catch((e: unknown) => { process.stderr.write(`lb: ${(e as Error).message}\n`); process.exit(2) })
}
