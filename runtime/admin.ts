// The admin listener (loopback by default, never internet-facing): liveness/readiness, Prometheus metrics,
// the active route table and bundle version, and reload. What it reports comes from an AdminView: the
// gateway itself in a single process, the primary's aggregate of its workers with --workers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { BundleManifest } from '../config/bundle.js'
import type { Gateway } from './gateway.js'

export interface ReloadResult { version: string; changed: boolean; ms: number }
/** Why a reload was attempted (logged with its outcome): `files` are the changed paths a watch saw. */
export interface ReloadCause { trigger: 'admin' | 'signal' | 'watch' | 'primary'; files?: string[] }

export interface AdminView {
  /** The live bundle (null while starting) and when it went live. */
  bundle(): { manifest: BundleManifest; loadedAt: number } | null
  draining(): boolean
  /** Requests in flight, when known (the cluster primary reports it through /metrics instead). */
  inFlight(): number | null
  metrics(): Promise<{ contentType: string; text: string }>
  /** Reread/recompile the policy source and swap it in; rejects (with `diagnostics` when compiling) on failure. */
  reload(cause?: ReloadCause): Promise<ReloadResult>
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body, null, 2) + '\n'
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

export function routesDocument(b: { manifest: BundleManifest; loadedAt: number } | null): unknown {
  if (b === null) return { version: null, routes: [] }
  const ir = b.manifest.ir
  return {
    version: b.manifest.version,
    compiler: b.manifest.compiler,
    loadedAt: new Date(b.loadedAt).toISOString(),
    sources: b.manifest.sources.map(x => x.file),
    routes: ir.routes.map(r => ({
      name: r.name, match: r.match, stages: r.stages.map(({ source: _s, ...st }) => st),
      terminal: r.terminal.kind === 'proxy' ? { kind: 'proxy', targets: r.terminal.targets, fallback: r.terminal.fallback !== null } : { kind: 'respond', status: r.terminal.status },
      timeoutMs: r.timeoutMs, retry: r.retry, envelope: r.envelope, source: r.source,
    })),
    upstreams: ir.upstreams.map(u => ({ name: u.name, replicas: u.replicas.map(x => `${x.host}:${x.port}`), balance: u.balance })),
  }
}

/** The view of one gateway process. */
export function gatewayView(gw: Gateway, reload: (cause?: ReloadCause) => Promise<ReloadResult>): AdminView {
  return {
    bundle: () => (gw.active === null ? null : { manifest: gw.active.manifest, loadedAt: gw.active.loadedAt }),
    draining: () => gw.draining,
    inFlight: () => gw.inFlight,
    metrics: async () => ({ contentType: gw.metrics.registry.contentType, text: await gw.metrics.registry.metrics() }),
    reload,
  }
}

export function createAdminServer(view: AdminView): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && path === '/healthz') {
      const b = view.bundle()
      if (b === null) return json(res, 503, { status: 'starting' })
      if (view.draining()) return json(res, 503, { status: 'draining', version: b.manifest.version })
      const inFlight = view.inFlight()
      return json(res, 200, { status: 'ok', version: b.manifest.version, ...(inFlight === null ? {} : { inFlight }) })
    }
    if (req.method === 'GET' && path === '/metrics') {
      view.metrics().then(m => {
        res.writeHead(200, { 'content-type': m.contentType })
        res.end(m.text)
      }, e => json(res, 500, { error: (e as Error).message }))
      return
    }
    if (req.method === 'GET' && path === '/routes') return json(res, 200, routesDocument(view.bundle()))
    if (path === '/config/reload') {
      if (req.method !== 'POST') return json(res, 405, { error: 'use POST' })
      view.reload({ trigger: 'admin' }).then(r => json(res, 200, { applied: true, ...r }), (e: Error & { diagnostics?: unknown }) =>
        json(res, 422, { applied: false, error: e.message, diagnostics: e.diagnostics, version: view.bundle()?.manifest.version ?? null }))
      return
    }
    json(res, 404, { error: 'not_found', endpoints: ['GET /healthz', 'GET /metrics', 'GET /routes', 'POST /config/reload'] })
  })
}
