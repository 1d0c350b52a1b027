// lab/experiments/faults.ts: the faults of issue 10 replayed under a steady open-model load, one scenario at a
// time: SIGHUP reloads (one process and --workers 2), SIGTERM drains (both), clients that never read against a
// pool of 4, Redis frozen (SIGSTOP) and killed, the IdP refusing / answering 503 / slower than the fetch timeout
// with valid tokens, one replica killed, all replicas dead. Per scenario: requests sent, answered, count by
// status, client resets and other transport errors, and what gw's /metrics says afterwards. (Report:
// faults-report.ts.)
import { execFileSync } from 'node:child_process'
import { connect, createServer, type Socket } from 'node:net'
import { scrapeGw, sumMetric } from '../harness/metrics-text.js'
import { call, type GwProcess, startGw, startGwPolicy, startIdpProcess, startStubProcess, type StubProcess, waitFor } from '../harness/rig.js'
import type { Child } from '../harness/supervisor.js'
import { readLoadTokens } from '../../testkit/idp/load-tokens.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleep } from './common.js'
import { faultChecks, faultsMarkdown, summarize, type Stream } from './faults-report.js'
import { formatChecks } from './report.js'
import { terminate } from './rolling.js'
import { startTrace, type TraceRecord, type TraceRequest } from './tracer.js'

export interface FaultsConfig {
  /** Open-model rate of each stream, req/s. */
  rate: number
  /** Length of one scenario's load, s; its fault lands a third of the way in. */
  phaseS: number
  /** IdP sub-phases (refused, 503, slow, recovered), s each. */
  idpPhaseS: number
  /** Clients that never read, against `pool connections` of the download upstream. */
  stalledClients: number
  poolConnections: number
  sendTimeout: string
}

const CONFIGS: Record<Flavour, FaultsConfig> = {
  quick: { rate: 100, phaseS: 6, idpPhaseS: 3, stalledClients: 5, poolConnections: 4, sendTimeout: '2s' },
  full: { rate: 300, phaseS: 15, idpPhaseS: 8, stalledClients: 5, poolConnections: 4, sendTimeout: '5s' },
}

export interface ScenarioRun {
  id: string
  /** What was done, and when (s after the load began). */
  fault: string
  streams: Stream[]
  /** Figures read from gw (metrics, shutdown line) or the harness after the scenario. */
  facts: Record<string, number | string | null>
}

export interface FaultsResult extends ResultHeader {
  config: FaultsConfig
  scenarios: ScenarioRun[]
  checks: ReturnType<typeof faultChecks>
}

const ISSUER = 'https://idp.faults.test/'

function policy(api: number[], dl: number, c: FaultsConfig): string {
  return `# written by lab/experiments/faults.ts
upstream api {
  replicas ${api.map((p) => `127.0.0.1:${p}`).join(' ')}
  pool connections 64 idle 30s
  health passive eject_after 3 errors for 5s
}
upstream dl {
  replicas 127.0.0.1:${dl}
  pool connections ${c.poolConnections} idle 30s send_timeout ${c.sendTimeout}
  health passive eject_after 3 errors for 30s
}
route api      { match path prefix "/api"; timeout 2s; retry 1 idempotent_only; proxy api }
route rl_open  { match path prefix "/rl-open"; ratelimit by ip 1000000 per 1s redis fail_open; timeout 2s; proxy api }
route rl_closed { match path prefix "/rl-closed"; ratelimit by ip 1000000 per 1s redis fail_closed; timeout 2s; proxy api }
route download { match path prefix "/bytes"; timeout 2s; proxy dl }
route dl       { match path prefix "/dl"; timeout 500ms; proxy dl }
`
}

function authPolicy(api: number[], jwksUrl: string): string {
  return `# written by lab/experiments/faults.ts
upstream api { replicas ${api.map((p) => `127.0.0.1:${p}`).join(' ')} }
jwt idp {
  issuer ${JSON.stringify(ISSUER)}
  jwks ${JSON.stringify(jwksUrl)} refresh 10s unknown_kid_cooldown 1s timeout 300ms
  audience "bench-api"
}
route auth { match path prefix "/auth"; auth idp; timeout 2s; proxy api }
`
}

/** A free loopback port (Redis cannot pick its own and report it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

const redisBin = (): string | undefined => {
  try { return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined } catch { return undefined }
}

/** Runs named traced streams for `s` seconds; `at` actions run at their offsets (s); every record is kept. */
async function underLoad(url: string, c: FaultsConfig, s: number, streams: { name: string; mix: TraceRequest[] }[],
  actions: { atS: number; run: () => Promise<void> }[]): Promise<{ name: string; records: TraceRecord[]; origin: number }[]> {
  const origin = Date.now()
  const traces = streams.map((st) => ({ name: st.name, trace: startTrace({ url, rate: c.rate, durationMs: s * 1000, mix: st.mix, connections: 256, timeoutMs: 5000 }) }))
  for (const a of actions) { await sleep(origin + a.atS * 1000 - Date.now()); await a.run() }
  return Promise.all(traces.map(async (t) => ({ name: t.name, records: await t.trace.done, origin })))
}

const metricsOf = async (gw: GwProcess, name: string, where: Record<string, string> = {}): Promise<number | null> => {
  try { return sumMetric(await scrapeGw(gw.adminUrl), name, where) } catch { return null }
}

export async function runFaults(o: ExperimentOptions): Promise<FaultsResult> {
  const c = CONFIGS[o.flavour]
  const { header, value } = await runExperiment('faults', o, 'gwp faults under load', async (env) => {
    const { sup, dir, log, notes } = env
    const scenarios: ScenarioRun[] = []
    const done = (run: ScenarioRun): void => {
      scenarios.push(run)
      log(`  ${run.id}: ` + run.streams.map((st) => `${st.name} sent ${st.sent}, answered ${st.answered} ${JSON.stringify(st.byStatus)}, resets ${st.resets}, other errors ${st.refused + st.timeouts + st.other}`).join('; ') +
        (Object.keys(run.facts).length > 0 ? ` | ${JSON.stringify(run.facts)}` : ''))
    }
    // One stub process per api replica (so one can be killed), one for the download upstream.
    const apiStubs: StubProcess[] = []
    for (let i = 1; i <= 3; i++) apiStubs.push(await startStubProcess(sup, dir, { seed: 20 + i, services: [{ name: 'api', ports: [0], rules: [{ path: '/', latency: { dist: 'uniform', min: 1, max: 10 } }] }] }, `stub-api-${i}`))
    const apiPorts = apiStubs.map((s) => s.ports.get('api-1')!)
    const dlStub = await startStubProcess(sup, dir, { seed: 31, services: [{ name: 'dl', ports: [0], rules: [{ path: '/', latency: 0 }] }] }, 'stub-dl')
    const dlPort = dlStub.ports.get('dl-1')!
    const redis = redisBin()
    let redisChild: Child | null = null
    const gwArgs: string[] = []
    if (redis === undefined) {
      notes.push('skipped: Redis scenarios (redis-server is not installed)')
    } else {
      const port = await freePort()
      redisChild = await sup.start({
        name: 'redis', cmd: redis, role: 'upstream', ready: /Ready to accept connections/,
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      })
      gwArgs.push('--redis', `redis://127.0.0.1:${port}`)
    }
    const text = policy(apiPorts, dlPort, c)
    const gw = await startGwPolicy(sup, dir, 'faults', text, { args: gwArgs })
    const api = [{ path: '/api/items/1' }]
    await underLoad(gw.url, c, 1, [{ name: 'warm', mix: api }], [])

    env.mark('reload')
    for (const workers of [1, 2]) {
      const id = workers === 1 ? 'sighup-reload' : 'sighup-reload-workers-2'
      log(`\n${id}: SIGHUP ×3 under ${c.rate} req/s`)
      const g = workers === 1 ? gw : await startGwPolicy(sup, dir, 'faults-w', text, { args: [...gwArgs, '--workers', '2'], name: 'gw-workers' })
      const times = [0.25, 0.5, 0.75].map((f) => Math.round(f * c.phaseS * 10) / 10)
      const streams = await underLoad(g.url, c, c.phaseS, [{ name: '/api', mix: api }], times.map((t) => ({ atS: t, run: async () => { g.child.proc.kill('SIGHUP') } })))
      const reloads = await metricsOf(g, 'gw_reloads_total')
      done({ id, fault: `SIGHUP at ${times.join(', ')} s`, streams: streams.map(summarize), facts: { 'gw alive after': g.child.exited ? 'no' : 'yes', 'gw_reloads_total': reloads } })
      if (workers === 2) await g.child.stop()
    }

    env.mark('stalled clients')
    {
      log(`\nstalled-clients: ${c.stalledClients} clients never read GET /bytes/268435456; pool connections ${c.poolConnections}, send_timeout ${c.sendTimeout}`)
      const sockets: Socket[] = []
      const port = Number(new URL(gw.url).port)
      const atS = Math.round(c.phaseS / 3 * 10) / 10
      const streams = await underLoad(gw.url, c, c.phaseS + 3, [{ name: '/dl (same upstream)', mix: [{ path: '/dl/small' }] }], [{ atS, run: async () => {
        for (let i = 0; i < c.stalledClients; i++) {
          const s = connect(port, '127.0.0.1')
          s.on('error', () => undefined)
          s.pause()
          s.write('GET /bytes/268435456 HTTP/1.1\r\nHost: faults.test\r\n\r\n')
          sockets.push(s)
        }
      } }])
      for (const s of sockets) s.destroy()
      done({ id: 'stalled-clients', fault: `${c.stalledClients} non-reading clients at ${atS} s`, streams: streams.map(summarize), facts: {
        'dl replica healthy (gauge)': await metricsOf(gw, 'gw_upstream_replica_healthy', { upstream: 'dl' }),
        'pool_exhausted attempts': await metricsOf(gw, 'gw_upstream_requests_total', { upstream: 'dl', outcome: 'pool_exhausted' }),
        'send_timeout cuts': await metricsOf(gw, 'gw_upstream_requests_total', { upstream: 'dl', outcome: 'send_timeout' }),
        'upstream timeouts': await metricsOf(gw, 'gw_upstream_requests_total', { upstream: 'dl', outcome: 'timeout' }),
      } })
    }

    if (redisChild !== null) {
      env.mark('redis')
      const rl = [{ name: '/rl-open (fail_open)', mix: [{ path: '/rl-open/1' }] }, { name: '/rl-closed (fail_closed)', mix: [{ path: '/rl-closed/1' }] }]
      const third = Math.round(c.phaseS / 3 * 10) / 10
      log('\nredis-frozen: SIGSTOP, SIGCONT a third of the phase later')
      const frozen = await underLoad(gw.url, c, c.phaseS, rl, [
        { atS: third, run: async () => { redisChild!.proc.kill('SIGSTOP') } },
        { atS: 2 * third, run: async () => { redisChild!.proc.kill('SIGCONT') } },
      ])
      done({ id: 'redis-frozen', fault: `SIGSTOP at ${third} s, SIGCONT at ${2 * third} s`, streams: frozen.map(summarize), facts: { 'store errors': await metricsOf(gw, 'gw_ratelimit_store_errors_total') } })
      log('\nredis-killed: SIGKILL')
      const killed = await underLoad(gw.url, c, c.phaseS, rl, [{ atS: third, run: async () => { redisChild!.proc.kill('SIGKILL') } }])
      done({ id: 'redis-killed', fault: `SIGKILL at ${third} s`, streams: killed.map(summarize), facts: { 'store errors': await metricsOf(gw, 'gw_ratelimit_store_errors_total') } })
    }

    env.mark('idp')
    {
      log('\nidp: gw starts while the IdP refuses connections; then 503s, then slower than the fetch timeout, then recovers')
      const idp = await startIdpProcess(sup, dir, ISSUER, 64, 'bench-api')
      const tokens = (await readLoadTokens(idp.tokensFile)).tokens.map((t) => t.token)
      const admin = `http://127.0.0.1:${idp.port}/admin`
      await call('POST', `${admin}/down?mode=refuse`)
      const ga = await startGwPolicy(sup, dir, 'faults-auth', authPolicy(apiPorts, idp.jwksUrl), { name: 'gw-auth' })
      const mix = tokens.map((t) => ({ path: '/auth/items/1', headers: { authorization: `Bearer ${t}` } }))
      const phases: { id: string; set: () => Promise<unknown> }[] = [
        { id: 'idp-refused', set: async () => undefined },
        { id: 'idp-503', set: () => call('POST', `${admin}/down?mode=error`) },
        { id: 'idp-slow', set: async () => { await call('POST', `${admin}/down?mode=false`); await call('POST', `${admin}/delay?ms=1500`) } },
        { id: 'idp-recovered', set: () => call('POST', `${admin}/delay?ms=0`) },
      ]
      for (const p of phases) {
        await p.set()
        const streams = await underLoad(ga.url, c, c.idpPhaseS, [{ name: '/auth (valid tokens)', mix }], [])
        done({ id: p.id, fault: p.id === 'idp-slow' ? 'JWKS answers after 1.5 s (fetch timeout 300 ms)' : p.id === 'idp-refused' ? 'IdP refuses connections since before gw started' : p.id === 'idp-503' ? 'IdP answers 503' : 'IdP healthy again', streams: streams.map(summarize), facts: {
          'JWKS fetch errors so far': await metricsOf(ga, 'gw_jwks_fetches_total', { result: 'error' }),
        } })
      }
      await ga.child.stop()
      await idp.child.stop()
    }

    env.mark('drain')
    for (const workers of [1, 2]) {
      const id = workers === 1 ? 'sigterm-drain' : 'sigterm-drain-workers-2'
      log(`\n${id}: SIGTERM under load (drain timeout 10s); the load goes on after gw exits (refused)`)
      const g = await startGw(sup, gw.policyFile, { name: `gw-${id}`, args: [...gwArgs, '--drain-timeout', '10s', ...(workers > 1 ? ['--workers', String(workers)] : [])] })
      const atS = Math.round(c.phaseS / 3 * 10) / 10
      let shut: Awaited<ReturnType<typeof terminate>> | null = null
      let termAt = 0
      const streams = await underLoad(g.url, c, c.phaseS, [{ name: '/api', mix: api }], [{ atS, run: async () => { termAt = Date.now(); shut = await terminate(g, 20_000) } }])
      const s = shut as Awaited<ReturnType<typeof terminate>> | null
      const before = streams.map((st) => ({ ...st, name: `${st.name}, due before SIGTERM`, records: st.records.filter((r) => r.due < termAt) }))
      const afterExit = streams.map((st) => ({ ...st, name: `${st.name}, due after SIGTERM`, records: st.records.filter((r) => r.due >= termAt) }))
      done({ id, fault: `SIGTERM at ${atS} s`, streams: [...before, ...afterExit].map(summarize), facts: {
        'exit code': s?.code ?? null, 'exit after ms': s?.exitMs ?? null, 'gw drained': s?.drained ?? null, 'gw aborted': s?.aborted ?? null, 'gw late': s?.late ?? null,
      } })
    }

    env.mark('replicas')
    {
      const third = Math.round(c.phaseS / 3 * 10) / 10
      log('\nreplica-killed: SIGKILL one of three api replicas')
      const one = await underLoad(gw.url, c, c.phaseS, [{ name: '/api', mix: api }], [{ atS: third, run: async () => { apiStubs[2].child.proc.kill('SIGKILL') } }])
      done({ id: 'replica-killed', fault: `SIGKILL api-3 at ${third} s (retry 1, passive health)`, streams: one.map(summarize), facts: {
        'replicas healthy after': await metricsOf(gw, 'gw_upstream_replica_healthy', { upstream: 'api' }),
      } })
      log('\nall-replicas-dead: SIGKILL the other two')
      const all = await underLoad(gw.url, c, c.phaseS, [{ name: '/api', mix: api }], [{ atS: third, run: async () => { for (const s of apiStubs.slice(0, 2)) s.child.proc.kill('SIGKILL') } }])
      done({ id: 'all-replicas-dead', fault: `SIGKILL api-1 and api-2 at ${third} s`, streams: all.map(summarize), facts: {
        'gw alive after': gw.child.exited ? 'no' : 'yes',
        'gw answers /healthz': (await waitFor(async () => (await call('GET', `${gw.adminUrl}/healthz`, undefined, 1000).catch(() => ({ status: 0 }))).status === 200, 2000)) ? 'yes' : 'no',
      } })
    }
    return { scenarios }
  })
  const result: FaultsResult = { ...header, config: c, ...value, checks: faultChecks(value.scenarios) }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => faultsMarkdown(result, charts), [], o)
  return result
}

