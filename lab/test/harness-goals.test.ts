// lab/test/harness-goals.test.ts: the arithmetic behind the tax table — interleaving order, medians over
// rounds, ratios and added latencies paired within a round, each goal's PASS/MISS and gap, the half-ceiling
// rate, and which runs count as disturbed.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { interleave } from '../harness/interleave.js'
import type { RunRecord } from '../harness/measure.js'
import { checkGoal, median, paired, ratio, diff } from '../harness/stats.js'
import { halfCeilingRate, ratePlans, FLAVOURS } from '../tax/config.js'
import { evaluateGoals, GOALS, saturationNote } from '../tax/goals.js'
import { disturbed } from '../tax/run-tax.js'
import { ratios, summarize } from '../tax/summary.js'

/** A run record with just the fields the arithmetic reads. */
function run(scenario: string, target: string, round: number, o: { rps?: number; p99?: number; cpu?: number; share?: number; lag?: number; model?: 'open' | 'closed' } = {}): RunRecord {
  const lat = { p50: (o.p99 ?? 1) / 2, p90: o.p99 ?? 1, p99: o.p99 ?? 1, p999: (o.p99 ?? 1) * 2, max: 10, mean: 1, min: 0.1, stddev: 0.1, count: 100 }
  return {
    scenario, target, round, startS: round,
    load: {
      model: o.model ?? 'open', description: '', durationMs: 1000, requestedRps: null, sentRps: o.rps ?? 1000, rps: o.rps ?? 1000, completed: o.rps ?? 1000,
      ok: o.rps ?? 1000, errors: 0, errorKinds: {}, errorSamples: [], statuses: { 200: o.rps ?? 1000 }, latencyMs: lat, serviceTimeMs: null,
      generatorCpuShare: 0.3, scheduleLagP99Ms: o.lag ?? 0.5, clientConnectionsOpened: 64, warnings: [], series: [],
    },
    proxy: target === 'direct' ? null : {
      kind: 'node', cpuUsPerRequest: o.cpu ?? 100, cpuShare: o.share ?? 0.95, heapBytesPerRequest: 1000, gcShare: 0.01, gcCount: 1,
      eventLoopDelayP99Ms: 1, fdsStart: 50, fdsEnd: 50, rssEndBytes: 1e8, heapUsedEndBytes: 1e7,
    },
    upstream: { connectionsOpened: 0, cpuUsPerRequest: 30, cpuShare: 0.3 },
    gw: null,
  }
}

test('interleave runs every target once per round, in order: A B C A B C', () => {
  const s = interleave(['A', 'B', 'C'], 2)
  assert.deepEqual(s.map((x) => `${x.round}${x.target}`), ['0A', '0B', '0C', '1A', '1B', '1C'])
  assert.deepEqual(s.map((x) => x.index), [0, 1, 2, 0, 1, 2])
  assert.throws(() => interleave(['A'], 0), /rounds/)
  assert.deepEqual(interleave([], 3), [])
})

test('median takes the middle (mean of the two middles for an even count) and ignores non-finite values', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 3, 2]), 2.5)
  assert.equal(median([1, NaN, 3, Infinity]), 2)
  assert.ok(Number.isNaN(median([])))
})

test('paired ratios and differences use only rounds both sides ran, then the median', () => {
  const a = new Map([[0, 10], [1, 20], [2, 30]])
  const b = new Map([[0, 5], [2, 10], [3, 99]])
  assert.deepEqual(paired(a, b, ratio), { median: 2.5, perRound: [2, 3] })
  assert.deepEqual(paired(a, b, diff).perRound, [5, 20])
  assert.ok(Number.isNaN(paired(new Map([[0, 1]]), new Map([[1, 1]]), ratio).median))
  assert.ok(Number.isNaN(ratio(1, 0)))
})

test('checkGoal says PASS or MISS with the gap in the goal\'s unit and as a share of the threshold', () => {
  const pass = checkGoal(GOALS.passRps, 1.54)
  assert.equal(pass.status, 'PASS')
  assert.equal(pass.line, '1.54× vs ≥ 1.40× — PASS by 0.14× (10%)')
  const miss = checkGoal(GOALS.passP99, 1.5)
  assert.equal(miss.status, 'MISS')
  assert.equal(miss.margin, -0.5)
  assert.equal(miss.line, '1.50 ms vs < 1.00 ms — MISS by 0.50 ms (50%)')
  // `<` is strict, `<=` is not.
  assert.equal(checkGoal(GOALS.passP99, 1).status, 'MISS')
  assert.equal(checkGoal(GOALS.passCpu, 1.15).status, 'PASS')
  const na = checkGoal(GOALS.fullRps, NaN)
  assert.equal(na.status, 'n/a')
  assert.match(na.line, /not measured/)
})

test('goals are computed from same-round pairs of the right scenarios', () => {
  const records: RunRecord[] = []
  for (const round of [0, 1, 2]) {
    // Drift: every target is slower in round 1; paired ratios stay put.
    const k = round === 1 ? 0.5 : 1
    records.push(run('ceiling', 'direct', round, { rps: 20000 * k, model: 'closed' }))
    records.push(run('ceiling', 'gw-pass@node', round, { rps: 9000 * k, model: 'closed' }))
    records.push(run('ceiling', 'gw-full@node', round, { rps: 7000 * k, model: 'closed' }))
    records.push(run('ceiling', 'fastify', round, { rps: 6000 * k, model: 'closed' }))
    records.push(run('half', 'gw-pass@node', round, { cpu: 110 }))
    records.push(run('half', 'floor', round, { cpu: 100 }))
    records.push(run('r2500', 'direct', round, { p99: 1 + round }))
    records.push(run('r2500', 'gw-pass@node', round, { p99: 1.5 + round }))
    records.push(run('r2500', 'gw-full@node', round, { p99: 4 + round }))
    records.push(run('r5000', 'direct', round, { p99: 2 }))
    records.push(run('r5000', 'gw-pass@node', round, { p99: 3 }))
    records.push(run('r5000', 'fastify', round, { p99: round === 2 ? 2.01 : 6 })) // round 2: fastify added ~nothing → dropped
  }
  const g = evaluateGoals(records, { ceiling: 'ceiling', half: 'half', r2500: 'r2500', r5000: 'r5000' }, ['node'])
  assert.equal(g.length, 6, 'without the http1 engine: the six earlier goals, for gw@node')
  const by = Object.fromEntries(g.map((x) => [x.id.replace(/@node$/, ''), x]))
  assert.match(by['pass-rps'].text, /^gw@node passthrough/)
  assert.equal(by['pass-rps'].value, 1.5)
  assert.equal(by['pass-rps'].status, 'PASS')
  assert.deepEqual(by['pass-rps'].perRound, [1.5, 1.5, 1.5])
  assert.ok(Math.abs(by['full-rps'].value - 7 / 6) < 1e-9)
  assert.equal(by['full-rps'].status, 'MISS')
  assert.ok(Math.abs(by['pass-cpu'].value - 1.1) < 1e-9)
  assert.equal(by['pass-cpu'].status, 'PASS')
  assert.equal(by['pass-p99-2500'].value, 0.5)
  assert.equal(by['pass-p99-2500'].status, 'PASS')
  assert.equal(by['full-p99-2500'].value, 3)
  assert.equal(by['full-p99-2500'].status, 'MISS')
  assert.deepEqual(by['pass-p99-5000'].perRound, [0.25, 0.25])
  assert.equal(by['pass-p99-5000'].status, 'PASS')
})

test('a goal whose targets did not run is n/a, not a PASS or a MISS', () => {
  const g = evaluateGoals([run('ceiling', 'gw-pass@node', 0)], { ceiling: 'ceiling', half: 'half', r2500: 'r2500', r5000: 'r5000' })
  assert.equal(g.length, 9 + 6 + 6, "issue 13's nine, then the earlier six per engine")
  assert.ok(g.every((x) => x.status === 'n/a'))
})

test('a ceiling ratio is qualified when a proxy\'s core was not saturated, with the per-core ratio', () => {
  const recs = [0, 1].flatMap((round) => [
    run('c', 'gw-pass', round, { rps: 8000, share: 0.6, model: 'closed' }),
    run('c', 'fastify', round, { rps: 4000, share: 1.0, model: 'closed' }),
  ])
  const note = saturationNote(recs, 'c', 'gw-pass', 'fastify')
  assert.match(note ?? '', /gw-pass 60%/)
  assert.match(note ?? '', /per-core capacity ratio 3\.33×/)
  const full = [run('c', 'gw-pass', 0, { share: 0.95 }), run('c', 'fastify', 0, { share: 0.9 })]
  assert.equal(saturationNote(full, 'c', 'gw-pass', 'fastify'), undefined)
})

test('summaries take medians over rounds; added p99 and ratios pair with direct and the peers per round', () => {
  const recs = [
    run('s', 'direct', 0, { rps: 5000, p99: 1 }), run('s', 'direct', 1, { rps: 5000, p99: 3 }),
    run('s', 'gw-pass', 0, { rps: 4000, p99: 2, cpu: 100 }), run('s', 'gw-pass', 1, { rps: 5000, p99: 3.5, cpu: 120 }),
    run('s', 'floor', 0, { rps: 4000, p99: 1.5, cpu: 80 }), run('s', 'floor', 1, { rps: 5000, p99: 3.2, cpu: 100 }),
  ]
  const [d, gw, floor] = summarize(recs, 's', ['direct', 'gw-pass', 'floor', 'nginx'])
  assert.equal(d.addedP99, null)
  assert.equal(gw.rps, 4500)
  assert.deepEqual(gw.rpsRange, [4000, 5000])
  assert.equal(gw.addedP99, 0.75) // rounds: +1, +0.5
  assert.equal(gw.cpuUsPerRequest, 110)
  assert.ok(Math.abs((floor.addedP99 ?? 0) - 0.35) < 1e-9)
  const [row] = ratios(recs, 's', ['gw-pass'], ['direct', 'floor', 'fastify'])
  assert.equal(row.rps.direct, 0.9)
  assert.equal(row.rps.fastify, undefined, 'a reference that did not run gets no ratio')
  assert.ok(Math.abs(row.cpu.floor - 1.225) < 1e-9)
  assert.ok(Math.abs(row.addedP99.floor - (2 + 0.5 / 0.2) / 2) < 1e-9)
})

test('the half-ceiling rate is half the slowest proxy, rounded down to 100, and plans keep target order', () => {
  assert.equal(halfCeilingRate(new Map([['direct', 20000], ['floor', 9000], ['fastify', 4321], ['gw-pass', 7000]])), 2100)
  assert.equal(halfCeilingRate(new Map([['direct', 20000]])), 1000)
  assert.equal(halfCeilingRate(new Map([['gw-pass', 150]])), 100)
  const plans = ratePlans(FLAVOURS.quick, 2100, ['direct', 'floor', 'gw-pass@http1', 'gw-auth@http1', 'fastify', 'nginx'])
  assert.deepEqual(plans.map((p) => p.id), ['half-ceiling', 'rate-2500', 'rate-5000'])
  assert.equal(plans[0].spec.rate, 2100)
  assert.deepEqual(plans[0].targets, ['direct', 'floor', 'gw-pass@http1', 'fastify'], 'quick runs the half-ceiling on the goal targets only')
  assert.deepEqual(plans[1].targets, ['direct', 'floor', 'gw-pass@http1', 'fastify'], 'quick runs the fixed rates on the goal targets only')
  assert.deepEqual(plans[2].targets, ['direct', 'floor', 'gw-pass@http1', 'fastify'], '5,000 req/s: what its goal reads')
  const full = ratePlans(FLAVOURS.full, 2100, ['direct', 'floor', 'gw-pass@http1', 'gw-auth@http1', 'fastify', 'nginx'])
  assert.deepEqual(full[0].targets, ['direct', 'floor', 'gw-pass@http1', 'gw-auth@http1', 'fastify', 'nginx'], 'full: the half-ceiling runs every target')
  assert.deepEqual(full[2].targets, ['direct', 'floor', 'gw-pass@http1', 'fastify'])
})

test('an open-model run whose generator fell behind its own schedule is disturbed; a closed one never is', () => {
  assert.equal(disturbed(run('s', 'gw-pass', 0, { lag: 25 }), 10), true)
  assert.equal(disturbed(run('s', 'gw-pass', 0, { lag: 2 }), 10), false)
  assert.equal(disturbed(run('s', 'gw-pass', 0, { lag: 25, model: 'closed' }), 10), false)
})
