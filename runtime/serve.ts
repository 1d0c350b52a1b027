// Runs a gateway process: loads the first bundle, opens the client and admin listeners, reloads on request
// or on file change (a bundle that fails to load never goes live), and drains on shutdown. Where bundles
// come from is injected (bin/gw compiles .gwp sources in-process or reads a built bundle), so the runtime
// never depends on the compiler.
import type { Server } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import type { Logger } from 'pino'
import { splitHostPort, type Settings } from '../config/settings.js'
import { createAdminServer, gatewayView, type ReloadCause, type ReloadResult } from './admin.js'
import { AccessLog, createLogger, flushLogger } from './access-log.js'
import { Gateway, type BundleText } from './gateway.js'
import { createRedis } from './redis.js'
import { ClientConnections } from './drain.js'
import { createHttp1Server } from './http1/server.js'
import { createClientServer } from './server.js'
import { createReloads } from './reloads.js'
import type { WatchSet } from './watch.js'

export interface BundleSource {
  /** Produce the current bundle (throws with a readable message, and `diagnostics` when compiling). */
  load(): Promise<BundleText>
  /** What `--watch` watches, as of the latest `load()` (which may have added or dropped includes). */
  watchSet?(): WatchSet
}

/** The client listener: node:http's server, or the http1 engine's (settings `engine`). */
export type ClientServer = NetServer

export interface Running {
  gateway: Gateway
  server: ClientServer
  /** Null when this process has no admin listener (a cluster worker: the primary serves admin). */
  admin: Server | null
  /** Bound addresses (useful when listening on port 0). */
  address: { host: string; port: number }
  adminAddress: { host: string; port: number } | null
  log: Logger
  /** Reread the source and apply it (logged and counted with its outcome: applied, unchanged or refused). */
  reload(cause?: ReloadCause): Promise<ReloadResult>
  /** Apply a bundle handed over by someone else (the cluster primary). */
  apply(b: BundleText): Promise<ReloadResult>
  /** Graceful shutdown: stop accepting, drain in-flight requests within the deadline, close. */
  shutdown(reason?: string): Promise<DrainResult>
}

/** drained: in flight at the signal and completed; late: arrived during the drain and completed; aborted:
 * still running at the deadline (cut); unanswered: read on a connection gw had already half-closed (dropped,
 * never forwarded); reset: connections destroyed at the deadline with a request in progress; tunnels: tunnels still
 * open at the deadline, closed then (WebSocket ones with close frames 1001 both ways). */
export interface DrainResult { drained: number; aborted: number; late: number; unanswered: number; reset: number; tunnels: number }

const listen = (server: NetServer, addr: string): Promise<{ host: string; port: number }> => new Promise((resolve, reject) => {
  const { host, port } = splitHostPort(addr)
  server.once('error', reject)
  server.listen(port, host, () => {
    server.off('error', reject)
    const a = server.address() as AddressInfo
    resolve({ host: a.address, port: a.port })
  })
})

export async function serve(settings: Settings, source: BundleSource, opts: { log?: Logger; admin?: boolean } = {}): Promise<Running> {
  const log = opts.log ?? createLogger(settings)
  const redis = settings.redisUrl === null ? null : createRedis(settings.redisUrl, settings.redisTimeoutMs, log)
  const accessLog = settings.accessLog ? new AccessLog(settings.logDestination) : null
  const gateway = new Gateway({ settings, log, redis, accessLog })
  const first = await source.load()
  gateway.activate(await gateway.build(first))
  log.info({ version: first.manifest.version, routes: first.manifest.ir.routes.length }, 'bundle loaded')

  const reloads = createReloads(log, gateway.metrics.reloads, () => gateway.active?.version, source.watchSet?.bind(source))
  const swap = (next: () => Promise<BundleText>, cause: ReloadCause): Promise<ReloadResult> => reloads.run(async () => {
    const b = await next()
    if (b.manifest.version === gateway.active?.version && b.manifest.integrity === gateway.active.manifest.integrity) return { changed: false, version: b.manifest.version }
    const snap = await gateway.build(b)
    gateway.activate(snap)
    return { changed: true, version: snap.version, msg: 'bundle reloaded', fields: { routes: snap.routes.length } }
  }, cause)
  const reload = (cause: ReloadCause = { trigger: 'admin' }): Promise<ReloadResult> => swap(() => source.load(), cause)
  const apply = (b: BundleText): Promise<ReloadResult> => swap(async () => b, { trigger: 'primary' })
  if (settings.watch) reloads.watch(files => { reload({ trigger: 'watch', files }).catch(() => undefined) })

  const server: ClientServer = settings.engine === 'http1' ? createHttp1Server(gateway, settings) : createClientServer(gateway, settings)
  const connections = new ClientConnections(server)
  const admin = opts.admin === false ? null : createAdminServer(gatewayView(gateway, reload))
  const address = await listen(server, settings.listen)
  const adminAddress = admin === null ? null : await listen(admin, settings.admin)
  log.info({ listen: address, admin: adminAddress, engine: settings.engine }, 'gw listening')

  let shuttingDown: Promise<DrainResult> | null = null
  const shutdown = (reason = 'shutdown'): Promise<DrainResult> => shuttingDown ??= (async () => {
    log.info({ reason, inFlight: gateway.inFlight, connections: connections.size, deadlineMs: settings.drainTimeoutMs }, 'draining')
    gateway.startDrain()
    reloads.close()
    const closed = new Promise<void>(r => server.once('close', () => r()))
    connections.begin(performance.now())
    // Until every connection is gone: busy ones close after their (Connection: close) response, idle ones
    // are half-closed by the sweep.
    const deadline = Date.now() + settings.drainTimeoutMs
    while ((gateway.inFlight > 0 || connections.size > 0) && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 20))
      connections.sweep(performance.now())
    }
    const aborted = gateway.inFlight
    // Tunnels last until the deadline; then each gets its close (WebSocket: a 1001 frame each way, at a frame
    // boundary), given a moment to be written before what is left is destroyed.
    const tunnels = gateway.tunnels.shutdownAll()
    for (let i = 0; i < 60 && gateway.tunnels.size > 0; i++) await new Promise(r => setTimeout(r, 20))
    const reset = connections.destroyAll()
    const { drained, late, unanswered } = gateway.drainCounts
    gateway.metrics.drained.child('drained').inc(drained)
    gateway.metrics.drained.child('late').inc(late)
    gateway.metrics.drained.child('aborted').inc(aborted)
    gateway.metrics.drained.child('unanswered').inc(unanswered)
    await Promise.race([closed, new Promise(r => setTimeout(r, 1000).unref())])
    server.close() // the listener is already closed: this stops Node's connection-checking timer
    await gateway.close(true)
    admin?.close() // last: /healthz says "draining" for as long as the drain lasts
    if (redis !== null) redis.disconnect()
    await accessLog?.close()
    log.info({ drained, late, aborted, unanswered, tunnels, halfClosed: connections.halfClosedCount, reset, accessLinesDropped: accessLog?.dropped ?? 0, accessWriteErrors: accessLog?.writeErrors ?? 0 }, 'shutdown complete')
    flushLogger(log)
    return { drained, aborted, late, unanswered, reset, tunnels }
  })()

  return { gateway, server, admin, address, adminAddress, log, reload, apply, shutdown }
}
