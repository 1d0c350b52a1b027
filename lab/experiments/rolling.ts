// lab/experiments/rolling.ts: graceful shutdown and rolling replicas. (A) SIGTERM to a gw under load: every
// request it had accepted is drained within the deadline (and a too-short deadline aborts and counts the rest).
// (B) two gw replicas behind lab/experiments/lb.ts, restarted one at a time under steady load (SIGTERM, wait for
// exit, start again on the same ports, wait for /healthz): with a balancer that health-checks and retries refused
// connections, no client sees an error; a naive one shows why it must. (Report: rolling-report.ts.)
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { digestLoad } from '../harness/measure.js'
import { distFile } from '../harness/paths.js'
import { call, groupPorts, type GwProcess, healthz, replicaList, startGw, startStubProcess, waitFor } from '../harness/rig.js'
import type { Supervisor } from '../harness/supervisor.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleep, sleepUntil } from './common.js'
import { runPhasedLoad } from './phases.js'
import { formatChecks } from './report.js'
import { analyzeDrain, analyzeRolling, rollingChecks, rollingCharts, rollingMarkdown, type DrainRun, type Restart, type RollingRun } from './rolling-report.js'
import { startTrace } from './tracer.js'

export interface RollingConfig {
  warmupMs: number
  /** (A) tracer rate, SIGTERM at, stream end; upstream latency range; the drain deadlines tried. */
  drainRate: number
  termS: number
  drainEndS: number
  drainLatency: [number, number]
  deadlines: { id: string; drain: string }[]
  /** (B) load through the balancer, the pause before the first and between restarts, the tail after the last. */
  rollRate: number
  leadS: number
  gapS: number
  tailS: number
  lbModes: { id: string; label: string; args: string[] }[]
}

const LB_MODES = [
  { id: 'aware', label: 'balancer health-checks /healthz every 100 ms and retries a refused/reset connection once', args: ['--health-ms', '100', '--retry'] },
  { id: 'naive', label: 'naive balancer: plain round robin, no health checks, no retry', args: [] },
]

const CONFIGS: Record<Flavour, RollingConfig> = {
  quick: {
    warmupMs: 1500, drainRate: 200, termS: 3, drainEndS: 6, drainLatency: [50, 600],
    deadlines: [{ id: 'deadline-10s', drain: '10s' }, { id: 'deadline-200ms', drain: '200ms' }],
    rollRate: 300, leadS: 3, gapS: 3, tailS: 3, lbModes: LB_MODES,
  },
  full: {
    warmupMs: 3000, drainRate: 200, termS: 5, drainEndS: 10, drainLatency: [50, 600],
    deadlines: [{ id: 'deadline-10s', drain: '10s' }, { id: 'deadline-200ms', drain: '200ms' }],
    rollRate: 300, leadS: 5, gapS: 8, tailS: 5, lbModes: LB_MODES,
  },
}

const policyText = (ports: number[]): string => `# written by lab/experiments/rolling.ts
upstream api {
  replicas ${replicaList(ports)}
  pool connections 64 idle 30s
}

route api {
  match path prefix "/api"
  timeout 5s
  proxy api
}
`

/** gw's shutdown line: "gw: drained N, aborted M[, late L]" (late: since 3a1db7a). */
export function parseShutdownLine(output: string): { drained: number | null; aborted: number | null; late: number | null } {
  const m = /drained (\d+), aborted (\d+)(?:, late (\d+))?/.exec(output)
  return m === null ? { drained: null, aborted: null, late: null } : { drained: Number(m[1]), aborted: Number(m[2]), late: m[3] === undefined ? null : Number(m[3]) }
}

/** Sends SIGTERM and waits for the exit; returns the exit code and gw's drained / aborted / late counts. */
export async function terminate(gw: GwProcess, timeoutMs: number): Promise<{ code: number | null; drained: number | null; aborted: number | null; late: number | null; exitMs: number }> {
  const t0 = Date.now()
  const exited = new Promise<number | null>((r) => { if (gw.child.exited) r(gw.child.proc.exitCode); else gw.child.proc.once('exit', (c) => r(c)) })
  gw.child.proc.kill('SIGTERM')
  const code = await Promise.race([exited, sleep(timeoutMs).then(() => undefined)])
  if (code === undefined) await gw.child.stop(500) // did not exit in time: the result says so (code null)
  else await gw.child.stop()
  return { code: code ?? null, ...parseShutdownLine(gw.child.output()), exitMs: Date.now() - t0 }
}

export interface RollingResult extends ResultHeader {
  config: RollingConfig
  drains: DrainRun[]
  rolls: RollingRun[]
  checks: ReturnType<typeof rollingChecks>
}

export async function runRolling(o: ExperimentOptions): Promise<RollingResult> {
  const c = CONFIGS[o.flavour]
  const { header, value } = await runExperiment('rolling', o, 'gwp graceful shutdown and rolling replicas', async (env) => {
    const { sup, dir, log } = env
    const stub = await startStubProcess(sup, dir, {
      seed: 13, services: [
        { name: 'slow', ports: [0, 0], rules: [{ path: '/', latency: { dist: 'uniform', min: c.drainLatency[0], max: c.drainLatency[1] } }] },
        { name: 'api', ports: [0, 0], rules: [{ path: '/', latency: { dist: 'uniform', min: 5, max: 30 } }] },
      ],
    })
    const drainPolicy = join(dir, 'drain.gwp')
    writeFileSync(drainPolicy, policyText(groupPorts(stub.ports, 'slow')))
    const rollPolicy = join(dir, 'roll.gwp')
    writeFileSync(rollPolicy, policyText(groupPorts(stub.ports, 'api')))

    // (A) one gw, SIGTERM mid-load.
    const drains: DrainRun[] = []
    for (const d of c.deadlines) {
      env.mark(`drain ${d.id}`)
      log(`\n(A) SIGTERM under ${c.drainRate} req/s, upstream ${c.drainLatency[0]}–${c.drainLatency[1]} ms, drain deadline ${d.drain}`)
      const gw = await startGw(sup, drainPolicy, { name: `gw-drain-${d.id}`, args: ['--drain-timeout', d.drain] })
      const mix = [{ path: '/api/slow' }]
      await startTrace({ url: gw.url, rate: c.drainRate, durationMs: c.warmupMs, mix }).done
      const origin = Date.now() + 200
      await sleepUntil(origin)
      const trace = startTrace({ url: gw.url, rate: c.drainRate, durationMs: c.drainEndS * 1000, mix, connections: 256, timeoutMs: 5000 })
      await sleepUntil(origin + c.termS * 1000)
      const termAt = Date.now()
      const t = await terminate(gw, 20_000)
      const records = await trace.done
      const run = analyzeDrain({ id: d.id, deadline: d.drain, origin, termAt, records, ...t })
      drains.push(run)
      log(`  exit ${t.code} after ${t.exitMs} ms; gw: drained ${t.drained}, late ${t.late}, aborted ${t.aborted}; client: ${run.inFlightAtTerm} in flight at SIGTERM, ` +
        `of the requests sent before it ${run.before.ok} answered and ${run.before.failed} failed; after it ${run.after.ok} answered, ${run.after.failed} failed (${JSON.stringify(run.after.kinds)})`)
    }

    // (B) two replicas behind the balancer, restarted one at a time.
    const rolls: RollingRun[] = []
    for (const mode of c.lbModes) {
      env.mark(`rolling ${mode.id}`)
      log(`\n(B) rolling restart of 2 gw replicas under ${c.rollRate} req/s; ${mode.label}`)
      const replicas = await Promise.all([0, 1].map((i) => startGw(sup, rollPolicy, { name: `gw-r${i + 1}`, args: ['--drain-timeout', '10s'] })))
      const addr = replicas.map((g) => ({ listen: new URL(g.url).host, admin: new URL(g.adminUrl).host }))
      const lb = await startLb(sup, replicas, mode.args)
      const mix = [{ method: 'GET', path: '/api/items/1' }]
      await runPhasedLoad({ url: lb, mix, rate: c.rollRate, origin: Date.now(), phases: [{ id: 'warm', startS: 0, endS: c.warmupMs / 1000 }] })
      const origin = Date.now() + 300
      const endS = c.leadS + 2 * c.gapS + c.tailS + 4
      const restarts: Restart[] = []
      const rolling = (async () => {
        await sleepUntil(origin + c.leadS * 1000)
        for (let i = 0; i < replicas.length; i++) {
          const termAt = Date.now()
          const t = await terminate(replicas[i], 20_000)
          const exitAt = Date.now()
          // Same listener and admin ports, so the balancer's configuration stays valid.
          replicas[i] = await startGw(sup, rollPolicy, { name: `gw-r${i + 1}`, args: ['--drain-timeout', '10s', '--listen', addr[i].listen, '--admin', addr[i].admin] })
          const startedAt = Date.now()
          await waitFor(async () => (await healthz(replicas[i].adminUrl)) === 200, 10_000, 20)
          const healthyAt = Date.now()
          restarts.push({ replica: i + 1, termAt, exitAt, startedAt, healthyAt, ...t })
          log(`  replica ${i + 1}: SIGTERM → exit ${t.code} in ${exitAt - termAt} ms (drained ${t.drained}, aborted ${t.aborted}); up again ${startedAt - exitAt} ms later, healthy after ${healthyAt - startedAt} ms`)
          await sleep(c.gapS * 1000)
        }
      })()
      const phases = await runPhasedLoad({ url: lb, mix, rate: c.rollRate, origin, connections: 64, phases: [{ id: 'rolling', startS: 0, endS }] })
      await rolling
      const lbStats = (await call('GET', `${lb}/__lb/stats`)).body as Record<string, unknown>
      const run = analyzeRolling({ mode: mode.id, label: mode.label, origin, restarts, lbStats, loadStartedAt: phases[0].result.startedAt, load: digestLoad(phases[0].result) })
      rolls.push(run)
      log(`  client: ${run.load.completed} answered, ${run.load.errors} errors (${JSON.stringify(run.load.errorKinds)}, statuses ${JSON.stringify(run.load.statuses)}); balancer retries ${String(lbStats.retries)}`)
      for (const g of replicas) await g.child.stop()
      await sup.children().find((ch) => ch.name === 'lb')?.stop()
    }
    return { drains, rolls }
  })
  const result: RollingResult = { ...header, config: c, ...value, checks: rollingChecks(value.drains, value.rolls) }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => rollingMarkdown(result, charts), rollingCharts(result), o)
  return result
}

/** Starts lb.js in front of the replicas (pinned with the load generator and the stub); resolves with its URL. */
async function startLb(sup: Supervisor, replicas: GwProcess[], args: string[]): Promise<string> {
  const child = await sup.start({
    name: 'lb', cmd: process.execPath, role: 'upstream', ready: /^lb ready /,
    args: [distFile('lab/experiments/lb.js'), '--listen', '127.0.0.1:0', ...replicas.flatMap((g) => ['--backend', `${g.url},${g.adminUrl}`]), ...args],
  })
  const m = /^lb ready (http:\/\/\S+)/.exec(child.readyLine)
  if (m === null) throw new Error(`lb: unexpected ready line ${JSON.stringify(child.readyLine)}`)
  return m[1]
}
