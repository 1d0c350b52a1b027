// The admin listener (loopback by default, never internet-facing): liveness/readiness, Prometheus metrics,
// the active route table and bundle version, and reload.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Gateway } from './gateway.js'

export interface AdminHooks {
  /** Recompile/reread the policy source and swap it in. Resolves with the applied version or rejects. */
  reload(): Promise<{ version: string; changed: boolean; ms: number }>
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body, null, 2) + '\n'
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

export function routesDocument(gw: Gateway): unknown {
  const s = gw.active
  if (s === null) return { version: null, routes: [] }
  const ir = s.manifest.ir
  return {
    version: s.version,
    compiler: s.manifest.compiler,
    loadedAt: new Date(s.loadedAt).toISOString(),
    sources: s.manifest.sources.map(x => x.file),
    routes: ir.routes.map(r => ({
      name: r.name, match: r.match, stages: r.stages.map(({ source: _s, ...st }) => st),
      terminal: r.terminal.kind === 'proxy' ? { kind: 'proxy', targets: r.terminal.targets, fallback: r.terminal.fallback !== null } : { kind: 'respond', status: r.terminal.status },
      timeoutMs: r.timeoutMs, retry: r.retry, envelope: r.envelope, source: r.source,
    })),
    upstreams: ir.upstreams.map(u => ({ name: u.name, replicas: u.replicas.map(x => `${x.host}:${x.port}`), balance: u.balance })),
  }
}

export function createAdminServer(gw: Gateway, hooks: AdminHooks): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/healthz') {
      if (gw.active === null) return json(res, 503, { status: 'starting' })
      if (gw.draining) return json(res, 503, { status: 'draining', version: gw.active.version })
      return json(res, 200, { status: 'ok', version: gw.active.version, inFlight: gw.inFlight })
    }
    if (req.method === 'GET' && path === '/metrics') {
      gw.metrics.registry.metrics().then(text => {
        res.writeHead(200, { 'content-type': gw.metrics.registry.contentType })
        res.end(text)
      }, e => json(res, 500, { error: (e as Error).message }))
      return
    }
    if (req.method === 'GET' && path === '/routes') return json(res, 200, routesDocument(gw))
    if (path === '/config/reload') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' })
      hooks.reload().then(r => json(res, 200, { applied: true, ...r }), (e: Error & { diagnostics?: unknown }) =>
        json(res, 422, { applied: false, error: e.message, diagnostics: e.diagnostics, version: gw.active?.version ?? null }))
      return
    }
    json(res, 404, { error: 'not_found', endpoints: ['GET /healthz', 'GET /metrics', 'GET /routes', 'POST /config/reload'] })
  })
}
