#!/usr/bin/env node
// gw: the gateway runtime's command line. Thin: parse argv and settings, pick the bundle source (a built
// bundle directory, or .gwp/.yaml sources compiled in-process), call runtime/serve, handle signals.
import { earlySignals } from './signals.js'
import { statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Settings } from '../config/settings.js'
import type { BundleSource, DrainResult } from '../runtime/serve.js'
import type { WatchSet } from '../runtime/watch.js'

// Static imports are all loaded before any code here runs, and loading the compiler and the runtime takes
// long enough for a signal to arrive meanwhile: handlers first, then the heavy modules.
const signals = earlySignals()
const { compile } = await import('../compiler/compile.js')
const { buildBundle } = await import('../compiler/bundle.js')
const { renderText, summary } = await import('../compiler/diagnostics/render.js')
const { FRONT_ENDS } = await import('../compiler/front-ends.js')
const { policyWatchSet } = await import('../compiler/watch-set.js')
const { MANIFEST_FILE, MODULE_FILE, verifyBundle } = await import('../config/bundle.js')
const { isBundleDir, readBundle } = await import('../config/bundle-io.js')
const { loadSettings, SettingsError, splitHostPort } = await import('../config/settings.js')
const { isClusterWorker, runPrimary, runWorker } = await import('../runtime/cluster.js')
const { GWP_VERSION } = await import('../config/version.js')
const { serve } = await import('../runtime/serve.js')

const USAGE = `gw ${GWP_VERSION}: the gwp gateway

usage:
  gw run PATH…               serve a bundle directory (built by gwc build) or policy sources (.gwp/.yaml,
                             compiled in-process)
  gw demo                    start the example gateway with stub upstreams and a mock IdP (see README)
  gw help

options (flags override the settings file; defaults in brackets):
  --settings FILE            YAML settings file
  --listen HOST:PORT         client listener [0.0.0.0:8080]
  --admin HOST:PORT          admin listener: /healthz /metrics /routes POST /config/reload [127.0.0.1:9901]
  --trusted-proxies CIDRS    comma-separated proxies whose X-Forwarded-* are trusted [none]
  --max-header-bytes SIZE    request line + headers limit, larger gets 431 [16KB]
  --headers-timeout DUR      slow-client bound for the header block, then 408 [10s]
  --request-timeout DUR      bound for the whole request incl. body, then 408 [300s]
  --keep-alive-timeout DUR   idle client keep-alive [30s]
  --upstream-body-idle DUR   abort an upstream response that sends nothing for this long [60s]
  --no-via                   do not add Via: 1.1 gwp
  --log-level LEVEL          fatal|error|warn|info|debug|trace|silent [info]
  --no-access-log            no per-request log line
  --log-destination DEST     stdout|stderr|FILE [stdout]
  --redis URL                Redis for ratelimit … redis (redis://host:port) [none]
  --redis-timeout DUR        bound on one Redis decision before fail_open/fail_closed applies [50ms]
  --drain-timeout DUR        on SIGTERM, how long in-flight requests may take [10s]
  --watch                    reload when the bundle or policy files (includes too) change
  --workers N                serve with N processes (node:cluster) sharing the port; the primary serves the
                             admin port and aggregates metrics [1]
`

class Usage extends Error {}

/** The last line gw prints (docs/operations.md, "Reload and shutdown"; lab/experiments/rolling.ts parses it). */
const shutdownLine = (r: DrainResult): string => `gw: drained ${r.drained}, aborted ${r.aborted}, late ${r.late}, unanswered ${r.unanswered}, reset ${r.reset}, tunnels ${r.tunnels}\n`

/** Compiles policy sources into an in-memory bundle, or reads a built one; both are verified the same way. */
function bundleSource(paths: string[]): BundleSource {
  const abs = paths.map(p => resolve(p))
  if (abs.length === 1 && isBundleDir(abs[0])) {
    const dir = abs[0]
    // the two files by name (gwc build renames each into place, manifest last), and the directory itself in
    // its parent, so a bundle directory replaced wholesale is noticed too
    const set: WatchSet = { files: [join(dir, MANIFEST_FILE), join(dir, MODULE_FILE), dir], dirs: [] }
    return { watchSet: () => set, load: async () => { const b = readBundle(dir); return { manifest: b.manifest, moduleText: b.moduleText } } }
  }
  for (const p of abs) { try { statSync(p) } catch { throw new Usage(`no such file or directory: ${p}`) } }
  let set: WatchSet = policyWatchSet(abs, [])
  return {
    watchSet: () => set,
    load: async () => {
      const r = compile(paths, { frontEnds: FRONT_ENDS })
      set = policyWatchSet(abs, r.sources) // also after errors: fixing a broken include is a change to watch for
      if (r.ir === undefined) {
        const texts = new Map(r.sources.map(s => [s.display, s.text]))
        const err = new Error(`policy has errors (${summary(r.diagnostics)}):\n${renderText(r.diagnostics.filter(d => d.severity === 'error'), texts)}`)
        throw Object.assign(err, { diagnostics: r.diagnostics })
      }
      const b = buildBundle(r.ir, r.sources)
      return { manifest: verifyBundle(b.manifestText, b.moduleText), moduleText: b.moduleText }
    },
  }
}

const FLAGS = {
  settings: { type: 'string' }, listen: { type: 'string' }, admin: { type: 'string' }, 'trusted-proxies': { type: 'string' },
  'max-header-bytes': { type: 'string' }, 'headers-timeout': { type: 'string' }, 'request-timeout': { type: 'string' },
  'keep-alive-timeout': { type: 'string' }, 'upstream-body-idle': { type: 'string' }, 'no-via': { type: 'boolean' },
  'log-level': { type: 'string' }, 'no-access-log': { type: 'boolean' }, 'log-destination': { type: 'string' },
  redis: { type: 'string' }, 'redis-timeout': { type: 'string' }, 'drain-timeout': { type: 'string' }, watch: { type: 'boolean' },
  workers: { type: 'string' },
} as const

async function run(args: string[]): Promise<void> {
  let parsed
  try { parsed = parseArgs({ args, options: FLAGS, allowPositionals: true, strict: true }) } catch (e) { throw new Usage((e as Error).message) }
  const { values: v, positionals: paths } = parsed
  if (paths.length === 0) throw new Usage('gw run needs a bundle directory or policy files')
  const settings = loadSettings(v.settings, {
    listen: v.listen, admin: v.admin, trustedProxies: v['trusted-proxies'], maxHeaderBytes: v['max-header-bytes'],
    headersTimeoutMs: v['headers-timeout'], requestTimeoutMs: v['request-timeout'], keepAliveTimeoutMs: v['keep-alive-timeout'],
    upstreamBodyIdleMs: v['upstream-body-idle'], via: v['no-via'] ? false : undefined, logLevel: v['log-level'],
    accessLog: v['no-access-log'] ? false : undefined, logDestination: v['log-destination'], redisUrl: v.redis,
    redisTimeoutMs: v['redis-timeout'], drainTimeoutMs: v['drain-timeout'], watch: v.watch, workers: v.workers,
  })
  if (settings.workers > 1) return runWorkers(settings, paths)
  const running = await serve(settings, bundleSource(paths))
  process.stderr.write(`gw ${GWP_VERSION} serving bundle ${running.gateway.active!.version} on http://${running.address.host}:${running.address.port} (admin http://${running.adminAddress!.host}:${running.adminAddress!.port})\n`)
  signals.serving({
    stop: sig => running.shutdown(sig).then(r => { process.stderr.write(shutdownLine(r)); process.exit(0) }, () => process.exit(1)),
    reload: () => { running.reload({ trigger: 'signal' }).catch(() => undefined) },
  })
}

/** --workers N: this process is either the primary or one of its workers (same argv, told apart by env). */
async function runWorkers(settings: Settings, paths: string[]): Promise<void> {
  if (isClusterWorker()) return runWorker(settings) // signals: ignored in workers (bin/signals.ts)
  const c = await runPrimary(settings, bundleSource(paths), settings.workers)
  const host = splitHostPort(settings.listen).host
  process.stderr.write(`gw ${GWP_VERSION} serving bundle ${c.version} on http://${host}:${c.port} (admin http://${splitHostPort(settings.admin).host}:${c.adminPort}) with ${settings.workers} workers\n`)
  signals.serving({
    stop: sig => c.shutdown(sig).then(r => { process.stderr.write(shutdownLine(r)); process.exit(0) }, () => process.exit(1)),
    reload: () => { c.reload({ trigger: 'signal' }).catch(() => undefined) },
  })
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv
  if ((cmd === 'run' || cmd === 'demo') && rest.some(a => a === '--help' || a === '-h')) { process.stdout.write(USAGE); return }
  switch (cmd) {
    case 'run': return run(rest)
    case 'demo': { signals.release(); const { demo } = await import('./demo.js'); return demo(rest) }
    case 'version': case '--version': process.stdout.write(GWP_VERSION + '\n'); return
    case 'help': case '--help': case '-h': process.stdout.write(USAGE); return
    case undefined: process.stdout.write(USAGE); process.exitCode = 2; return
    default: throw new Usage(`unknown command ${JSON.stringify(cmd)}`)
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof Usage) { process.stderr.write(`gw: ${e.message}\n\n${USAGE}`); process.exitCode = 2; return }
  if (e instanceof SettingsError) { process.stderr.write(`gw: ${e.message}\n`); process.exitCode = 2; return }
  process.stderr.write(`gw: ${(e as Error).message}\n`)
  process.exitCode = 1
})
