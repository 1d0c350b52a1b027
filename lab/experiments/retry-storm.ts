// lab/experiments/retry-storm.ts: retry storm — one upstream of 4 replicas dies (every replica answers 503, or
// nothing listens: connection refused) under a fixed client rate. Naive retries (`retry 3 all_methods no_budget`,
// no breaker) against the safe configuration (`retry 1` idempotent only, `budget 10%`, a breaker): how many
// upstream attempts does each client request turn into? (Report and charts: retry-storm-report.ts.)
import { digestLoad } from '../harness/measure.js'
import { groupPorts, INERT_PASSIVE_HEALTH, replicaList, setStubRules, startGwPolicy, startStubProcess, type StubProcess } from '../harness/rig.js'
import type { RuleSpec } from '../../testkit/upstream/rules.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleepUntil } from './common.js'
import { runPhasedLoad } from './phases.js'
import { combine, gwReader, startPoller, stubReader } from './poller.js'
import { formatChecks } from './report.js'
import { analyzeStorm, stormChecks, stormCharts, stormMarkdown, type StormRun } from './retry-storm-report.js'

export interface StormConfig {
  rounds: number
  warmupMs: number
  healthyMs: number
  deadMs: number
  recoveredMs: number
  rate: number
  pollMs: number
  modes: DeadMode[]
}

export type DeadMode = '503' | 'refused'

const CONFIGS: Record<Flavour, StormConfig> = {
  quick: { rounds: 1, warmupMs: 1000, healthyMs: 4000, deadMs: 8000, recoveredMs: 4000, rate: 200, pollMs: 250, modes: ['503', 'refused'] },
  full: { rounds: 2, warmupMs: 2000, healthyMs: 10_000, deadMs: 30_000, recoveredMs: 15_000, rate: 200, pollMs: 250, modes: ['503', 'refused'] },
}

const HEALTHY: RuleSpec[] = [{ path: '/', latency: { dist: 'uniform', min: 1, max: 3 } }]
const DEAD: RuleSpec[] = [{ path: '/', latency: 1, status: 503 }]

export interface StormVariant { id: string; label: string; upstream: string; route: string }

export const STORM_VARIANTS: readonly StormVariant[] = [
  { id: 'naive', label: 'naive: retry 3 all_methods no_budget, no breaker', upstream: '', route: 'retry 3 all_methods no_budget' },
  {
    id: 'safe', label: 'safe: retry 1 idempotent_only budget 10% + breaker',
    upstream: 'breaker error_ratio 50% min_requests 20 window 10s open_for 2s half_open 3', route: 'retry 1 idempotent_only budget 10%',
  },
]

export function stormPolicy(v: StormVariant, ports: number[]): string {
  return `# written by lab/experiments/retry-storm.ts: variant ${v.id}
upstream storm {
  replicas ${replicaList(ports)}
  pool connections 64 idle 30s
  ${INERT_PASSIVE_HEALTH}
  ${v.upstream}
}

route storm {
  match path prefix "/v1/orders"
  timeout 2s
  ${v.route}
  proxy storm
}
`
}

/** Three GETs to one POST: the naive retries resend every method, the safe ones only the idempotent ones. */
export const STORM_MIX = [
  { method: 'GET', path: '/v1/orders/1', weight: 3 },
  { method: 'POST', path: '/v1/orders', headers: { 'content-type': 'application/json' }, body: '{"item":42,"qty":1}', weight: 1 },
]

export interface StormResult extends ResultHeader {
  config: StormConfig
  variants: readonly StormVariant[]
  runs: StormRun[]
  checks: ReturnType<typeof stormChecks>
}

export async function runRetryStorm(o: ExperimentOptions): Promise<StormResult> {
  const c = CONFIGS[o.flavour]
  const { header, value: runs } = await runExperiment('retry-storm', o, 'gwp retry storm', async (env) => {
    const { sup, dir, log } = env
    let stub: StubProcess = await startStubProcess(sup, dir, { seed: 3, services: [{ name: 'storm', ports: [0, 0, 0, 0], rules: HEALTHY }] }, 'stub-storm')
    const ports = groupPorts(stub.ports, 'storm')
    // The same ports every time it is started again (after a connection-refused run), so gw's policy stays valid.
    const restart = async (): Promise<void> => {
      stub = await startStubProcess(sup, dir, { seed: 3, services: [{ name: 'storm', ports, rules: HEALTHY }] }, 'stub-storm')
    }
    const out: StormRun[] = []
    for (let round = 0; round < c.rounds; round++) {
      for (const mode of c.modes) {
        for (const v of STORM_VARIANTS) {
          env.mark(`${v.id} ${mode} round ${round + 1}`)
          log(`\n[round ${round + 1}/${c.rounds}] upstream dead by ${mode === '503' ? '503 from every replica' : 'connection refused'}; ${v.label}`)
          if (stub.child.exited) await restart()
          await setStubRules(stub.url('storm-1'), 'storm', HEALTHY)
          const gw = await startGwPolicy(sup, dir, `storm-${v.id}`, stormPolicy(v, ports))
          await runPhasedLoad({ url: gw.url, mix: STORM_MIX, rate: c.rate, origin: Date.now(), phases: [{ id: 'warm', startS: 0, endS: c.warmupMs / 1000 }] })
          const origin = Date.now() + 300
          const deadS = c.healthyMs / 1000
          const upS = deadS + c.deadMs / 1000
          const endS = upS + c.recoveredMs / 1000
          const stubUrl = stub.url('storm-1')
          // The stub reader fails while the stub is down (refused mode): those samples carry gw's figures only.
          const poller = startPoller(c.pollMs, combine(gwReader(gw.adminUrl, ['storm']), () => stubReader(stub.url('storm-1'), 'storm')()))
          await sleepUntil(origin)
          const phases = await runPhasedLoad({
            url: gw.url, mix: STORM_MIX, rate: c.rate, origin, connections: 64, timeoutMs: 5000,
            phases: [
              { id: 'healthy', startS: 0, endS: deadS },
              { id: 'dead', startS: deadS, endS: upS, action: mode === '503' ? () => setStubRules(stubUrl, 'storm', DEAD) : () => stub.child.stop() },
              { id: 'recovered', startS: upS, endS, action: mode === '503' ? () => setStubRules(stubUrl, 'storm', HEALTHY) : restart },
            ],
          })
          const samples = await poller.stop()
          await gw.child.stop()
          const run = analyzeStorm({
            variant: v.id, mode, round, origin, samples,
            phases: phases.map((p) => ({ id: p.id, startS: p.startS, endS: p.endS, actionAt: p.actionAt, actionDoneAt: p.actionDoneAt, loadStartedAt: p.result.startedAt, load: digestLoad(p.result) })),
          })
          out.push(run)
          const d = run.phases.find((p) => p.id === 'dead')!
          log(`  dead: ${d.clientSent} client requests → ${d.attempts} upstream attempts (amplification ${d.amplification.toFixed(2)}` +
            `${d.stubRequests === null ? '' : `; the upstream received ${d.stubRequests}`}), retries ${d.retries}, budget denied ${d.budgetDenied}, ` +
            `breaker rejected ${d.breakerRejected}; client p99 ${d.load.latencyMs.p99} ms, statuses ${JSON.stringify(d.load.statuses)}`)
        }
      }
    }
    return out
  })
  const result: StormResult = { ...header, config: c, variants: STORM_VARIANTS, runs, checks: stormChecks(runs) }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => stormMarkdown(result, charts), stormCharts(result), o)
  return result
}
