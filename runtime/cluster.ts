// `--workers N`: N gateway processes (node:cluster) sharing the client port. The primary serves no traffic:
// it loads and verifies each bundle once and hands the same text to every worker (so all run the same
// version), serves the admin port (health, metrics aggregated over workers: runtime/cluster-metrics, routes,
// reload), watches the policy files with --watch, restarts a worker that dies, and drains them all on SIGTERM.
// Workers are stateless on the hot path; local rate limits count per worker (use `redis` for exact limits).
import cluster, { type Worker } from 'node:cluster'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import { verifyBundle } from '../config/bundle.js'
import { splitHostPort, type Settings } from '../config/settings.js'
import { createAdminServer, type ReloadCause, type ReloadResult } from './admin.js'
import { createLogger, flushLogger } from './access-log.js'
import { ClusterMetrics, type MetricJSON } from './cluster-metrics.js'
import type { BundleText } from './gateway.js'
import { serve, type BundleSource, type DrainResult, type Running } from './serve.js'
import { createReloads } from './reloads.js'

type ToWorker =
  | { type: 'gwp:bundle'; bundle: BundleText }
  | { type: 'gwp:shutdown' }
  | { type: 'gwp:metrics'; id: number }
type FromWorker =
  | { type: 'gwp:hello' }
  | { type: 'gwp:ready'; port: number }
  | { type: 'gwp:applied'; ok: true; result: ReloadResult }
  | { type: 'gwp:applied'; ok: false; error: string }
  | ({ type: 'gwp:drained' } & DrainResult)
  | { type: 'gwp:metrics'; id: number; metrics: MetricJSON[] }
  | { type: 'gwp:failed'; error: string }

/** Runs in a worker: waits for its first bundle, serves, applies later bundles, drains when told. */
export async function runWorker(settings: Settings): Promise<void> {
  // The primary decides when to stop or reload, and tells workers over IPC; a terminal's Ctrl-C or hang-up
  // reaches the whole process group, and SIGHUP's default action would kill the worker.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => undefined)
  const log = createLogger(settings)
  const send = (m: FromWorker) => process.send!(m)
  // Ask for the bundle only once listening for it: a message sent before the listener exists is lost.
  const first = await new Promise<BundleText>(resolve => {
    const on = (m: ToWorker) => { if (m.type === 'gwp:bundle') { process.off('message', on); resolve(m.bundle) } }
    process.on('message', on)
    send({ type: 'gwp:hello' })
  })
  const source: BundleSource = { load: async () => first }
  let running: Running
  try { running = await serve(settings, source, { log, admin: false }) } catch (e) {
    // say why and go: the IPC channel would otherwise keep a worker that serves nothing alive
    send({ type: 'gwp:failed', error: (e as Error).message })
    flushLogger(log)
    setTimeout(() => process.exit(1), 50)
    return
  }
  // Reloads are counted once per gateway, by the primary; a worker's count would add up N times.
  running.gateway.metrics.registry.removeSingleMetric('gw_reloads_total')
  process.on('message', (m: ToWorker) => {
    if (m.type === 'gwp:bundle') {
      const b = { manifest: verifyBundle(JSON.stringify(m.bundle.manifest), m.bundle.moduleText), moduleText: m.bundle.moduleText }
      running.apply(b).then(result => send({ type: 'gwp:applied', ok: true, result }), (e: Error) => send({ type: 'gwp:applied', ok: false, error: e.message }))
    } else if (m.type === 'gwp:metrics') {
      running.gateway.metrics.registry.getMetricsAsJSON().then(metrics => send({ type: 'gwp:metrics', id: m.id, metrics: metrics as unknown as MetricJSON[] }), () => undefined)
    } else if (m.type === 'gwp:shutdown') {
      void running.shutdown('primary').then(r => { send({ type: 'gwp:drained', ...r }); setTimeout(() => process.exit(0), 50) })
    }
  })
  send({ type: 'gwp:ready', port: (running.server.address() as AddressInfo).port })
}

export interface ClusterRunning {
  port: number
  adminPort: number
  version: string
  /** Reload from the source in every worker (logged and counted once, with its outcome). */
  reload(cause?: ReloadCause): Promise<ReloadResult>
  shutdown(reason: string): Promise<DrainResult>
}

/** Runs in the primary. Resolves once every worker serves the first bundle. */
export async function runPrimary(settings: Settings, source: BundleSource, workers: number): Promise<ClusterRunning> {
  const log: Logger = createLogger(settings)
  let current = await source.load()
  let loadedAt = Date.now()
  let draining = false
  const ready = new Set<Worker>()
  let metricsId = 0
  const metrics = new ClusterMetrics((w, ms) => new Promise<MetricJSON[]>((resolve, reject) => {
    const id = ++metricsId
    const t = setTimeout(() => { w.off('message', on); reject(new Error(`worker ${w.process.pid} did not answer`)) }, ms)
    const on = (m: FromWorker) => { if (m.type === 'gwp:metrics' && m.id === id) { clearTimeout(t); w.off('message', on); resolve(m.metrics) } }
    w.on('message', on)
    try { w.send({ type: 'gwp:metrics', id } satisfies ToWorker) } catch (e) { clearTimeout(t); w.off('message', on); reject(e as Error) }
  }))
  let port = 0

  const fork = (): Worker => {
    const w = cluster.fork({ GWP_WORKER: '1' })
    w.on('message', (m: FromWorker) => {
      if (m.type === 'gwp:hello') w.send({ type: 'gwp:bundle', bundle: current } satisfies ToWorker)
      if (m.type === 'gwp:ready') { ready.add(w); port = m.port }
      if (m.type === 'gwp:failed' && starting) failedStart ??= new Error(`a worker could not start: ${m.error}`)
    })
    w.once('exit', (code, signal) => {
      ready.delete(w)
      metrics.retire(w)
      if (draining) return
      if (starting) { failedStart ??= new Error(`a worker exited (${signal ?? `code ${code}`}) before serving`); return }
      log.error({ pid: w.process.pid, code, signal }, 'worker died; starting another')
      setTimeout(fork, 500).unref()
    })
    return w
  }
  // A worker that cannot start (the port is taken, say) fails the start-up, as it would in one process:
  // replacing it would fail the same way, forever.
  let starting = true
  let failedStart: Error | null = null
  for (let i = 0; i < workers; i++) fork()
  while (ready.size < workers) {
    if (failedStart !== null) {
      draining = true
      for (const w of Object.values(cluster.workers ?? {})) w?.kill()
      throw failedStart
    }
    await new Promise(r => setTimeout(r, 20))
  }
  starting = false

  /** Send a message to every live worker and collect one answer of `type` from each. */
  const broadcast = <T extends FromWorker['type']>(msg: ToWorker, type: T, ms: number): Promise<Extract<FromWorker, { type: T }>[]> => {
    const live = [...ready]
    return Promise.all(live.map(w => new Promise<Extract<FromWorker, { type: T }>>((resolve, reject) => {
      const t = setTimeout(() => { w.off('message', on); reject(new Error(`worker ${w.process.pid} did not answer ${msg.type}`)) }, ms)
      const on = (m: FromWorker) => { if (m.type === type) { clearTimeout(t); w.off('message', on); resolve(m as Extract<FromWorker, { type: T }>) } }
      w.on('message', on)
      w.send(msg)
    })))
  }

  const reloads = createReloads(log, metrics.reloads, () => current.manifest.version, source.watchSet?.bind(source))
  const reload = (cause: ReloadCause = { trigger: 'admin' }): Promise<ReloadResult> => reloads.run(async () => {
    const b = await source.load() // compile errors reject here, before any worker is touched
    if (b.manifest.integrity === current.manifest.integrity) return { changed: false, version: b.manifest.version }
    const answers = await broadcast({ type: 'gwp:bundle', bundle: b }, 'gwp:applied', 30_000)
    const failed = answers.find(a => !a.ok)
    if (failed !== undefined && !failed.ok) throw new Error(`a worker refused the bundle: ${failed.error}`)
    current = b
    loadedAt = Date.now()
    return { changed: true, version: b.manifest.version, msg: 'bundle reloaded in every worker', fields: { workers: answers.length } }
  }, cause)
  if (settings.watch) reloads.watch(files => { reload({ trigger: 'watch', files }).catch(() => undefined) })

  const admin = createAdminServer({
    bundle: () => ({ manifest: current.manifest, loadedAt }),
    draining: () => draining,
    inFlight: () => null,
    metrics: () => metrics.render([...ready]),
    reload,
  })
  const { host, port: adminPort } = splitHostPort(settings.admin)
  await new Promise<void>((resolve, reject) => { admin.once('error', reject); admin.listen(adminPort, host, () => resolve()) })

  let stopping: Promise<DrainResult> | null = null
  const shutdown = (reason: string) => stopping ??= (async () => {
    draining = true
    reloads.close()
    log.info({ reason, workers: ready.size }, 'draining workers')
    const answers = await broadcast({ type: 'gwp:shutdown' }, 'gwp:drained', settings.drainTimeoutMs + 5000).catch(() => [])
    const total = answers.reduce((a, m) => ({ drained: a.drained + m.drained, aborted: a.aborted + m.aborted, late: a.late + m.late, unanswered: a.unanswered + m.unanswered, reset: a.reset + m.reset, tunnels: a.tunnels + (m.tunnels ?? 0) }),
      { drained: 0, aborted: 0, late: 0, unanswered: 0, reset: 0, tunnels: 0 })
    for (const w of Object.values(cluster.workers ?? {})) w?.kill()
    admin.close()
    log.info(total, 'shutdown complete')
    flushLogger(log)
    return total
  })()

  return { port, adminPort: (admin.address() as AddressInfo).port, version: current.manifest.version, reload, shutdown }
}

export const isClusterWorker = (): boolean => cluster.isWorker && process.env.GWP_WORKER === '1'
