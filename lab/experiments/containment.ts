// lab/experiments/containment.ts: slow upstream containment — `payments` turns slow (200 ms p50) and failing
// (30% 503s) while `catalog` and `payments` both carry load through one gw; the same run with the breaker (and a
// bulkhead) off and on. Does catalog notice, how fast does the breaker open, do sockets and in-flight requests on
// payments pile up? Then the breaker's reaction time over the phases of its one-second bucket (breaker-reaction.ts).
// (Report and charts: containment-report.ts.)
import { digestLoad } from '../harness/measure.js'
import { groupPorts, setStubRules, startGwPolicy, startStubProcess } from '../harness/rig.js'
import type { RuleSpec } from '../../testkit/upstream/rules.js'
import { runReaction, type Reaction, type ReactionConfig } from './breaker-reaction.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleepUntil } from './common.js'
import { BAD, CATALOG, HEALTHY, VARIANTS, containmentPolicy, type Variant } from './containment-policy.js'
import { analyzeContainment, containmentCharts, containmentChecks, containmentMarkdown, type ContainmentRun } from './containment-report.js'
import { runPhasedLoad } from './phases.js'
import { combine, gwReader, startPoller, stubReader } from './poller.js'
import { formatChecks } from './report.js'
import { startTrace } from './tracer.js'

export interface ContainmentConfig {
  rounds: number
  /** The breaker's reaction time over the phases of its bucket (breaker-reaction.ts). */
  reaction: ReactionConfig
  warmupMs: number
  baselineMs: number
  badMs: number
  recoveryMs: number
  catalogRate: number
  paymentsRate: number
  pollMs: number
}

const CONFIGS: Record<Flavour, ContainmentConfig> = {
  quick: { reaction: { episodes: 5, shiftS: 0.2, badS: 2.5, periodS: 6, paymentsRate: 250, pollMs: 50 }, rounds: 1, warmupMs: 3000, baselineMs: 5000, badMs: 12_000, recoveryMs: 5000, catalogRate: 400, paymentsRate: 250, pollMs: 100 },
  full: { reaction: { episodes: 10, shiftS: 0.1, badS: 2.5, periodS: 6, paymentsRate: 250, pollMs: 50 }, rounds: 2, warmupMs: 5000, baselineMs: 15_000, badMs: 40_000, recoveryMs: 15_000, catalogRate: 400, paymentsRate: 250, pollMs: 100 },
}

export interface ContainmentResult extends ResultHeader {
  config: ContainmentConfig
  variants: readonly Variant[]
  rules: { healthy: RuleSpec[]; bad: RuleSpec[]; catalog: RuleSpec[] }
  runs: ContainmentRun[]
  reaction: Reaction
  checks: ReturnType<typeof containmentChecks>
}

export async function runContainment(o: ExperimentOptions): Promise<ContainmentResult> {
  const c = CONFIGS[o.flavour]
  const { header, value: { runs, reaction } } = await runExperiment('containment', o, 'gwp slow upstream containment', async (env) => {
    const { sup, dir, log } = env
    const stub = await startStubProcess(sup, dir, {
      seed: 7, services: [{ name: 'payments', ports: [0, 0, 0], rules: HEALTHY }, { name: 'catalog', ports: [0, 0, 0], rules: CATALOG }],
    })
    const ctlUrl = stub.url('catalog-1')
    const payments = groupPorts(stub.ports, 'payments')
    const catalog = groupPorts(stub.ports, 'catalog')
    const out: ContainmentRun[] = []
    for (let round = 0; round < c.rounds; round++) {
      for (const v of VARIANTS) {
        env.mark(`${v.id} round ${round + 1}`)
        log(`\n[round ${round + 1}/${c.rounds}] ${v.label}`)
        const gw = await startGwPolicy(sup, dir, `containment-${v.id}`, containmentPolicy(v, payments, catalog))
        await setStubRules(ctlUrl, 'payments', HEALTHY)
        const catalogMix = [{ method: 'GET', path: '/v1/catalog/items/1' }]
        const paymentsMix = [{ method: 'GET' as const, path: '/v1/payments/42' }]
        // Unrecorded warm-up of both streams: JIT, pools and connections are warm before t = 0.
        const warm = startTrace({ url: gw.url, rate: c.paymentsRate, durationMs: c.warmupMs, mix: paymentsMix })
        await runPhasedLoad({ url: gw.url, mix: catalogMix, rate: c.catalogRate, origin: Date.now(), phases: [{ id: 'warm', startS: 0, endS: c.warmupMs / 1000 }] })
        await warm.done
        const origin = Date.now() + 300
        const badS = c.baselineMs / 1000
        const recoverS = badS + c.badMs / 1000
        const endS = recoverS + c.recoveryMs / 1000
        const poller = startPoller(c.pollMs, combine(gwReader(gw.adminUrl, ['payments', 'catalog']), stubReader(ctlUrl, 'payments')))
        await sleepUntil(origin)
        const trace = startTrace({ url: gw.url, rate: c.paymentsRate, durationMs: endS * 1000, mix: paymentsMix, connections: 256, keep: ['x-stub-replica'], timeoutMs: 5000 })
        const phases = await runPhasedLoad({
          url: gw.url, mix: catalogMix, rate: c.catalogRate, origin, connections: 32,
          phases: [
            { id: 'baseline', startS: 0, endS: badS },
            { id: 'bad', startS: badS, endS: recoverS, action: () => setStubRules(ctlUrl, 'payments', BAD) },
            { id: 'recovery', startS: recoverS, endS, action: () => setStubRules(ctlUrl, 'payments', HEALTHY) },
          ],
        })
        const records = await trace.done
        const samples = await poller.stop()
        await gw.child.stop()
        const run = analyzeContainment({
          variant: v.id, round, origin, phases: phases.map((p) => ({ id: p.id, startS: p.startS, endS: p.endS, actionAt: p.actionAt, loadStartedAt: p.result.startedAt, load: digestLoad(p.result) })),
          records, samples,
        })
        out.push(run)
        const b = run.phases.find((p) => p.id === 'bad')!
        const base = run.phases.find((p) => p.id === 'baseline')!
        log(`  catalog p99 ${base.catalog.latencyMs.p99} → ${b.catalog.latencyMs.p99} ms (errors ${base.catalog.errors} → ${b.catalog.errors}); ` +
          `payments while bad: ${b.payments.count} requests, p99 ${b.payments.p99Ms} ms, classes ${JSON.stringify(b.payments.classes)}; ` +
          `in-flight max ${b.pileup.inFlightMax}, upstream sockets max ${b.pileup.stubSocketsMax}, connections opened ${b.pileup.connectionsOpened}` +
          (run.breaker.openedAfterMs !== null ? `; breaker opened ${run.breaker.openedAfterMs[0]}–${run.breaker.openedAfterMs[1]} ms after the switch` : '') +
          (run.breaker.firstFast503Ms !== null ? `, first fast 503 after ${run.breaker.firstFast503Ms} ms` : ''))
      }
    }
    env.mark('reaction')
    log(`\nbreaker reaction time: payments bad ${c.reaction.episodes} times, each switch ${c.reaction.shiftS} s later in the breaker's one-second bucket`)
    const reaction = await runReaction(sup, dir, c.reaction, payments, catalog, ctlUrl, log)
    return { runs: out, reaction }
  })
  const result: ContainmentResult = {
    ...header, config: c, variants: VARIANTS, rules: { healthy: HEALTHY, bad: BAD, catalog: CATALOG }, runs, reaction, checks: containmentChecks(runs, reaction),
  }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => containmentMarkdown(result, charts), containmentCharts(result), o)
  return result
}
