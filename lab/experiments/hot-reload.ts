// lab/experiments/hot-reload.ts: hot reload under load — a steady open-model load while the routing table is
// rewritten and reloaded (`POST /config/reload` on the admin port) several times: routes added and removed, the
// busy route moved to another upstream, one broken policy among them. Nothing may fail, each reload must apply
// within a second, and the refused one must leave the previous version serving. (Report: hot-reload-report.ts.)
import { writeFileSync } from 'node:fs'
import { digestLoad } from '../harness/measure.js'
import { call, groupPorts, replicaList, startGwPolicy, startStubProcess } from '../harness/rig.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleepUntil } from './common.js'
import { analyzeReload, reloadCharts, reloadChecks, reloadMarkdown, type ReloadRun, type ReloadShot } from './hot-reload-report.js'
import { runPhasedLoad } from './phases.js'
import { gwReader, startPoller } from './poller.js'
import { formatChecks } from './report.js'
import { startTrace } from './tracer.js'

export interface ReloadConfig {
  warmupMs: number
  rate: number
  tracerRate: number
  /** Seconds between reloads; the first at `everyS`, the run ends `everyS` after the last. */
  everyS: number
  reloads: number
  /** 1-based index of the reload whose policy is broken. */
  brokenAt: number[]
  pollMs: number
}

const CONFIGS: Record<Flavour, ReloadConfig> = {
  quick: { warmupMs: 1500, rate: 500, tracerRate: 50, everyS: 3, reloads: 6, brokenAt: [3], pollMs: 250 },
  full: { warmupMs: 3000, rate: 500, tracerRate: 50, everyS: 4, reloads: 20, brokenAt: [3, 11, 17], pollMs: 250 },
}

/**
 * Version n of the policy. Odd versions send /api to `web`, even ones to `web2` (so half the reloads swap the busy
 * route's upstream: new pools, the old ones closed once idle); each adds a route of its own (`/v<n>`) and drops
 * the previous one's, and tags responses with `X-Version: v<n>`.
 */
export function versionPolicy(n: number, web: number[], web2: number[]): string {
  const up = n % 2 === 1 ? 'web' : 'web2'
  return `# written by lab/experiments/hot-reload.ts: version v${n}
upstream web {
  replicas ${replicaList(web)}
  pool connections 64 idle 30s
}

upstream web2 {
  replicas ${replicaList(web2)}
  pool connections 64 idle 30s
}

route api {
  match path prefix "/api"
  timeout ${2 + (n % 3)}s
  headers response set X-Version "v${n}"
  proxy ${up}
}

route only_v${n} {
  match path exact "/v${n}"
  timeout 1s
  respond 200 json "{\\"version\\":\\"v${n}\\"}"
}
`
}

/** A policy that does not compile (an unknown upstream): the reload must be refused and change nothing. */
export const BROKEN_POLICY = `# written by lab/experiments/hot-reload.ts: broken on purpose
route api {
  match path prefix "/api"
  proxy nowhere
}
`

export interface ReloadResult extends ResultHeader {
  config: ReloadConfig
  run: ReloadRun
  checks: ReturnType<typeof reloadChecks>
}

export async function runHotReload(o: ExperimentOptions): Promise<ReloadResult> {
  const c = CONFIGS[o.flavour]
  const { header, value: run } = await runExperiment('hot-reload', o, 'gwp hot reload under load', async (env) => {
    const { sup, dir, log } = env
    const stub = await startStubProcess(sup, dir, {
      seed: 11, rules: [{ path: '/', latency: { dist: 'uniform', min: 1, max: 10 } }],
      services: [{ name: 'web', ports: [0, 0] }, { name: 'web2', ports: [0, 0] }],
    })
    const web = groupPorts(stub.ports, 'web'), web2 = groupPorts(stub.ports, 'web2')
    const gw = await startGwPolicy(sup, dir, 'reload', versionPolicy(1, web, web2))
    const mix = [{ method: 'GET', path: '/api/items/1' }, { method: 'GET', path: '/api/items/2?q=x' }]
    await runPhasedLoad({ url: gw.url, mix, rate: c.rate, origin: Date.now(), phases: [{ id: 'warm', startS: 0, endS: c.warmupMs / 1000 }] })
    const origin = Date.now() + 300
    const endS = c.everyS * (c.reloads + 1)
    const poller = startPoller(c.pollMs, gwReader(gw.adminUrl, ['web', 'web2']))
    await sleepUntil(origin)
    const tracer = startTrace({ url: gw.url, rate: c.tracerRate, durationMs: endS * 1000, mix: [{ path: '/api/version-probe' }], keep: ['x-version'], connections: 8 })
    const shots: ReloadShot[] = []
    const reloads = (async () => {
      let live = 1
      for (let i = 1; i <= c.reloads; i++) {
        await sleepUntil(origin + i * c.everyS * 1000)
        const broken = c.brokenAt.includes(i)
        const version = broken ? null : live + 1
        writeFileSync(gw.policyFile, broken ? BROKEN_POLICY : versionPolicy(version!, web, web2))
        const at = Date.now()
        const r = await call('POST', `${gw.adminUrl}/config/reload`, undefined, 10_000)
        const doneAt = Date.now()
        const body = r.body as { applied?: boolean; ms?: number; version?: string; error?: string }
        // The route only the new version has answers at once (or, after a refused reload, the old one still does).
        const probe = await call('GET', `${gw.url}/v${broken ? live : version}`, undefined, 2000).catch(() => ({ status: 0, body: null }))
        shots.push({ index: i, broken, tag: broken ? `v${live}` : `v${version}`, at, doneAt, status: r.status, applied: body.applied === true,
          adminMs: body.ms ?? null, error: broken ? String(body.error ?? '').split('\n')[0].slice(0, 160) : null, routeProbe: probe.status })
        log(`  reload ${i}: ${broken ? 'broken policy' : `v${version}`} → ${r.status} in ${doneAt - at} ms` +
          `${body.ms !== undefined ? ` (gw says ${body.ms} ms)` : ''}; /v${broken ? live : version} answers ${probe.status}`)
        if (!broken && r.status === 200) live = version!
      }
    })()
    const phases = await runPhasedLoad({ url: gw.url, mix, rate: c.rate, origin, connections: 32, phases: [{ id: 'steady', startS: 0, endS }] })
    await reloads
    const records = await tracer.done
    const samples = await poller.stop()
    return analyzeReload({ origin, shots, records, samples, loadStartedAt: phases[0].result.startedAt, load: digestLoad(phases[0].result), sent: phases[0].result.requests.sent })
  })
  const result: ReloadResult = { ...header, config: c, run, checks: reloadChecks(run) }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => reloadMarkdown(result, charts), reloadCharts(result), o)
  return result
}
