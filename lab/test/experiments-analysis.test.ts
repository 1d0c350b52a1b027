// lab/test/experiments-analysis.test.ts: the resilience experiments' own analysis on synthetic inputs — who made a
// response, when the breaker opened, the retry amplification per phase, how old-key tokens ended, drained vs cut
// requests, stage differences paired per round, the balancer's choices, phase schedules and the quiet-machine check.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { LoadDigest, RunRecord } from '../harness/measure.js'
import { analyzeContainment, classify, typicalSecondP99, unchanged } from '../experiments/containment-report.js'
import { quantile } from '../harness/stats.js'
import { episodeOutcome } from '../experiments/breaker-reaction.js'
import { analyzeStorm, clientRequests, coveredDelta, ratioSeries } from '../experiments/retry-storm-report.js'
import { isSpike, oldKeyOutcome } from '../experiments/jwks-rotation-report.js'
import { rotationSchedule } from '../experiments/jwks-rotation.js'
import { analyzeDrain, outcomes, perBin } from '../experiments/rolling-report.js'
import { parseShutdownLine } from '../experiments/rolling.js'
import { gwSideLatency, parseAccessLog, summarizeStages } from '../experiments/stage-cost-report.js'
import { parseBackend, pickNext } from '../experiments/lb.js'
import { checkPhases, phaseAt } from '../experiments/phases.js'
import { othersOnly, parsePgrep } from '../harness/quiet.js'
import type { TraceRecord } from '../experiments/tracer.js'
import type { PollSample } from '../experiments/timeline.js'

const T0 = 1_800_000_000_000

const summary = (p99: number) => ({ p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2, min: 0, stddev: 0, count: 1 })

function digest(o: Partial<LoadDigest> = {}): LoadDigest {
  return {
    model: 'open', description: '', durationMs: 1000, requestedRps: 100, sentRps: 100, rps: 100, completed: 100, ok: 100, errors: 0,
    errorKinds: { connect_refused: 0, reset: 0, timeout: 0, other: 0 }, errorSamples: [], statuses: { 200: 100 }, latencyMs: summary(2),
    serviceTimeMs: null, generatorCpuShare: 0.1, scheduleLagP99Ms: 0, clientConnectionsOpened: 1, warnings: [], series: [], ...o,
  }
}

const rec = (due: number, end: number, status: number, headers?: Record<string, string>): TraceRecord => ({ i: 0, due, end, ms: end - due, status, ...(headers ? { headers } : {}) })

test('a response is the upstream\'s when it carries x-stub-replica, else gw made it', () => {
  const up = { 'x-stub-replica': 'payments-1' }
  assert.equal(classify(rec(0, 1, 200, up)), 'ok')
  assert.equal(classify(rec(0, 1, 503, up)), 'upstream_5xx')
  assert.equal(classify(rec(0, 1, 503, {})), 'gw_503')
  assert.equal(classify(rec(0, 1, 504)), 'gw_504')
  assert.equal(classify(rec(0, 1, 502)), 'gw_502')
  assert.equal(classify({ ...rec(0, 1, 0), error: 'reset' }), 'transport')
  assert.equal(quantile([5, 1, 4, 2, 3], 0.99), 5)
  assert.equal(quantile([5, 1, 4, 2, 3], 0.5), 3)
  assert.ok(Number.isNaN(quantile([], 0.5)))
})

test('"no measurable change" compares the typical second\'s p99 (50% or 1 ms), and no new errors', () => {
  const secs = (...p99s: number[]) => digest({ series: p99s.map((p99Ms, t) => ({ t, sent: 1, completed: 1, errors: 0, p99Ms })) })
  assert.equal(typicalSecondP99(secs(2, 40, 2.2, 1.8, 2)), 2, 'one disturbed second does not move it')
  assert.ok(unchanged(secs(2, 2, 2), secs(3, 3, 3)))
  assert.ok(unchanged(secs(0.5, 0.5), secs(1.4, 1.4)), 'below 2 ms the 1 ms floor applies')
  assert.ok(!unchanged(secs(2, 2, 2), secs(3.2, 3.2, 3.2)))
  assert.ok(unchanged(secs(2, 2, 2), secs(2, 50, 2)), 'a single slow second is noise, not a change')
  assert.ok(!unchanged(secs(2), { ...secs(2), errors: 3 }))
})

test('containment: the breaker opening is bracketed after the switch, and the first fast 503 is found', () => {
  const samples: PollSample[] = []
  for (let ms = 0; ms <= 4000; ms += 100) {
    samples.push({ at: T0 + ms, values: { 'payments.breakerOpened': ms >= 2400 ? 1 : 0, 'payments.inFlight': ms >= 2000 && ms < 2400 ? 50 : 2, 'payments.breakerState': ms >= 2400 ? 2 : 0 } })
  }
  const records = [rec(T0 + 1000, T0 + 1005, 200, { 'x-stub-replica': 'p-1' }), rec(T0 + 2010, T0 + 2250, 503, { 'x-stub-replica': 'p-2' }),
    rec(T0 + 2420, T0 + 2421, 503, {}), rec(T0 + 3000, T0 + 3001, 503, {})]
  const run = analyzeContainment({
    variant: 'on', round: 0, origin: T0, records, samples,
    phases: [
      { id: 'baseline', startS: 0, endS: 2, actionAt: T0, loadStartedAt: new Date(T0).toISOString(), load: digest() },
      { id: 'bad', startS: 2, endS: 4, actionAt: T0 + 2000, loadStartedAt: new Date(T0 + 2001).toISOString(), load: digest() },
    ],
  })
  assert.deepEqual(run.breaker.openedAfterMs, [300, 400])
  assert.equal(run.breaker.firstFast503Ms, 421)
  assert.equal(run.breaker.firstUpstreamFailureMs, 250)
  assert.equal(run.breaker.switchS, 2)
  const bad = run.phases.find((p) => p.id === 'bad')!
  assert.equal(bad.pileup.inFlightMax, 50)
  assert.equal(bad.pileup.breakerOpened, 1)
  assert.deepEqual(bad.payments.classes, { upstream_5xx: 1, gw_503: 2 })
  assert.equal(run.phases[0].payments.count, 1)
})

test('breaker reaction: each episode finds its own opening and first fast 503, not the next episode\'s', () => {
  const samples: PollSample[] = []
  for (let ms = 0; ms <= 12_000; ms += 50) samples.push({ at: T0 + ms, values: { 'payments.breakerOpened': (ms >= 1600 ? 1 : 0) + (ms >= 6900 ? 1 : 0) } })
  const records = [rec(T0 + 1500, T0 + 1650, 503, {}), rec(T0 + 6800, T0 + 6950, 503, {}), rec(T0 + 6000, T0 + 6100, 503, { 'x-stub-replica': 'p' })]
  assert.deepEqual(episodeOutcome(samples, records, T0 + 1000, T0 + 3500), { openedAfterMs: [550, 600], firstFast503Ms: 650 })
  assert.deepEqual(episodeOutcome(samples, records, T0 + 6000, T0 + 8500), { openedAfterMs: [850, 900], firstFast503Ms: 950 })
  assert.deepEqual(episodeOutcome(samples, [], T0 + 9000, T0 + 11_000), { openedAfterMs: null, firstFast503Ms: null })
})

test('retry storm: amplification per phase from gw\'s attempts counter over the client requests', () => {
  const samples: PollSample[] = []
  // 100 attempts/s while healthy (t < 2 s), 400/s while dead; the stub answers the same until it stops at 2 s.
  let att = 0
  for (let ms = 0; ms <= 4000; ms += 250) {
    samples.push({ at: T0 + ms, values: { 'storm.attempts': att, ...(ms <= 2000 ? { 'stub.storm.requests': att } : {}) } })
    att += ms < 2000 ? 25 : 100
  }
  const run = analyzeStorm({
    variant: 'naive', mode: 'refused', round: 0, origin: T0, samples,
    phases: [
      { id: 'healthy', startS: 0, endS: 2, actionAt: T0, actionDoneAt: T0, loadStartedAt: new Date(T0).toISOString(), load: digest({ completed: 200 }) },
      { id: 'dead', startS: 2, endS: 4, actionAt: T0 + 2000, actionDoneAt: T0 + 2000, loadStartedAt: new Date(T0 + 2000).toISOString(), load: digest({ completed: 150, errorKinds: { connect_refused: 0, reset: 0, timeout: 50, other: 0 } }) },
    ],
  })
  const [healthy, dead] = run.phases
  assert.equal(healthy.attempts, 200)
  assert.equal(healthy.amplification, 1)
  assert.equal(healthy.stubRequests, 200)
  assert.equal(dead.clientSent, 200, 'timed-out requests were sent too')
  assert.equal(dead.attempts, 800)
  assert.equal(dead.amplification, 4)
  assert.equal(dead.stubRequests, null, 'the stub was not there to count')
  assert.deepEqual(run.series.attempts.map((p) => p.value), [100, 100, 400, 400])
  assert.equal(clientRequests(digest({ completed: 7, errorKinds: { connect_refused: 1, reset: 2, timeout: 0, other: 0 } })), 10)
  assert.deepEqual(ratioSeries([{ t: 0, value: 8 }, { t: 1, value: 3 }, { t: 2, value: 1 }], [{ t: 0, value: 2 }, { t: 1, value: 0 }]), [{ t: 0, value: 4 }])
  const steady = [0, 250, 500, 750, 1000].map((at) => ({ at, value: at / 100 }))
  assert.equal(coveredDelta(steady, 0, 1000), 10)
  assert.equal(coveredDelta(steady, 0, 5000), null, 'no reading near the end')
  assert.equal(coveredDelta([{ at: 0, value: 0 }, { at: 100, value: 1 }, { at: 1900, value: 3 }, { at: 2000, value: 4 }], 0, 2000), null, 'a gap (the process was down)')
})

test('old-key tokens: 200 until the refresh after retirement, then 401 only; anything else is unclean', () => {
  const retire = T0 + 10_000
  const rs = [rec(T0, T0 + 2, 200), rec(retire + 100, retire + 102, 200), rec(retire + 3000, retire + 3004, 401), rec(retire + 4000, retire + 4001, 401)]
  const o = oldKeyOutcome(rs, retire)
  assert.deepEqual(o.before, { 200: 1 })
  assert.deepEqual(o.after, { 200: 1, 401: 2 })
  assert.equal(o.firstRejectMs, 3004)
  assert.equal(o.lastOkMs, 102)
  assert.ok(o.steadyAfterFirstReject)
  assert.equal(o.unclean, 0)
  const flappy = oldKeyOutcome([...rs, rec(retire + 5000, retire + 5001, 200), { ...rec(retire + 6000, retire + 6001, 0), error: 'reset' }], retire)
  assert.ok(!flappy.steadyAfterFirstReject)
  assert.equal(flappy.unclean, 1)
  assert.ok(isSpike({ nearMs: 12, steadyMs: 1, ratio: 12 }))
  assert.ok(!isSpike({ nearMs: 5.5, steadyMs: 1, ratio: 5.5 }), 'within steady + 5 ms')
  assert.ok(!isSpike({ nearMs: 12, steadyMs: 1, ratio: 12, p90Ms: 14 }), 'no worse than the run\'s ordinary bad seconds')
})

test('the rotation lands 1 s after a background JWKS fetch, the rest at fixed distances', () => {
  const c = { rotateAfterS: 8, switchDelayS: 1.5, retireAfterS: 8, tailS: 4, refresh: '15s', refreshAhead: '1s' } as Parameters<typeof rotationSchedule>[0]
  // gw fetched at origin − 2.3 s; background fetches every 14 s: origin + 11.7 s is the first at or after 7 s.
  assert.deepEqual(rotationSchedule(c, T0 - 2300, T0), { rotateS: 12.7, switchS: 14.2, retireS: 22.2, endS: 40.2, everyMs: 14_000 })
  // A fetch just before the earliest time still counts when it is within the last second.
  assert.equal(rotationSchedule(c, T0 + 7500, T0).rotateS, 8.5)
  assert.equal(rotationSchedule(c, T0 + 6900, T0).rotateS, 21.9)
})

test('drain: requests sent before the SIGTERM are told apart from those after, and those in flight at it counted', () => {
  const term = T0 + 3000
  const rs = [rec(T0 + 2500, T0 + 2600, 200), rec(T0 + 2900, T0 + 3200, 200), { ...rec(T0 + 2950, T0 + 3300, 0), error: 'reset' as const },
    { ...rec(T0 + 3100, T0 + 3101, 0), error: 'connect_refused' as const }]
  const d = analyzeDrain({ id: 'x', deadline: '1s', origin: T0, termAt: term, records: rs, code: 0, drained: 1, aborted: 1, late: 0, exitMs: 400 })
  assert.equal(d.inFlightAtTerm, 2)
  assert.deepEqual(d.atTerm, { answered: 1, cut: 1 })
  assert.deepEqual(d.late, { refused: 1, answered: 0, cut: 0 })
  assert.deepEqual(d.before, { ok: 2, failed: 1, kinds: { reset: 1 } })
  assert.deepEqual(d.after, { ok: 0, failed: 1, kinds: { connect_refused: 1 } })
  assert.equal(d.termS, 3)
  assert.deepEqual(outcomes([rec(0, 1, 503)]), { ok: 0, failed: 1, kinds: { 503: 1 } })
  assert.deepEqual(parseShutdownLine('x\ngw: drained 37, aborted 50, late 8\n'), { drained: 37, aborted: 50, late: 8 })
  assert.deepEqual(parseShutdownLine('gw: drained 3, aborted 0'), { drained: 3, aborted: 0, late: null })
  assert.deepEqual(parseShutdownLine(''), { drained: null, aborted: null, late: null })
  assert.deepEqual(perBin(rs, T0, () => true), [{ t: 2.6, value: 1 }, { t: 3.1, value: 1 }, { t: 3.2, value: 1 }, { t: 3.3, value: 1 }])
})

test('stage differences over passthrough are paired within each round', () => {
  const run = (target: string, round: number, p99: number, cpu: number, heap: number): RunRecord => ({
    scenario: 'stage-cost', target, round, startS: 0, load: digest({ latencyMs: summary(p99) }),
    proxy: { kind: 'node', cpuUsPerRequest: cpu, cpuShare: 0.5, heapBytesPerRequest: heap, gcShare: 0, gcCount: 0, eventLoopDelayP99Ms: 1, fdsStart: 1, fdsEnd: 1, rssEndBytes: 1, heapUsedEndBytes: 1 },
    upstream: { connectionsOpened: 0, cpuUsPerRequest: null, cpuShare: null }, gw: null,
  })
  const runs = [run('pass', 0, 1.0, 50, 4000), run('auth', 0, 1.1, 60, 4500), run('pass', 1, 2.0, 52, 4000), run('auth', 1, 2.3, 61, 4400), run('pass', 2, 1.5, 51, 4000), run('auth', 2, 1.5, 62, 4300)]
  const [pass, auth] = summarizeStages(runs, ['pass', 'auth', 'absent'])
  assert.equal(pass.addedP99, 0)
  assert.deepEqual(auth.addedP99Rounds.map((x) => Math.round(x * 1000)), [100, 300, 0])
  assert.equal(Math.round(auth.addedP99 * 1000), 100, 'median of the paired differences, not a difference of medians')
  assert.equal(auth.addedCpuUs, 10)
  assert.equal(auth.addedHeapBytes, 400)
  assert.equal(auth.p99, 1.5)
  assert.equal(auth.base, 'pass')
  // a row may name another baseline (the redirect answer over a fixed respond answer), still paired per round
  const more = [...runs, run('respond', 0, 0.5, 30, 3000), run('redirect', 0, 0.6, 31, 3300), run('respond', 1, 0.5, 32, 3000), run('redirect', 1, 0.5, 34, 3100)]
  const [, , respond, redirect] = summarizeStages(more, ['pass', 'auth', 'respond', 'redirect'], (s) => (s === 'redirect' ? 'respond' : 'pass'))
  assert.equal(redirect.base, 'respond')
  assert.equal(redirect.addedCpuUs, 1.5, 'median of +1 and +2, over the respond row')
  assert.equal(redirect.addedHeapBytes, 200)
  assert.equal(respond.addedCpuUs, -20, 'the respond row itself over passthrough')
})

test('gw\'s access log gives each stage\'s own p99 per run window, paired with passthrough per round', () => {
  const line = (time: number, route: string, ms: number, up: number | null) =>
    JSON.stringify({ level: 30, pid: 1, msg: 'access', time, id: 'x', route, status: 200, ms, ...(up === null ? {} : { upstreamMs: up }) })
  const text = [
    JSON.stringify({ level: 30, msg: 'gw listening' }),
    line(1000, 'pass', 1.0, 0.8), line(1001, 'pass', 1.2, 0.9), line(1500, 'auth', 1.4, 1.0), line(1501, 'auth', 1.5, 1.0),
    line(2000, 'pass', 2.0, 1.9), line(2500, 'auth', 2.2, 1.8), line(9000, 'auth', 50, 1), '{"level":30,"msg":"access","ti',
  ].join('\n')
  const lines = parseAccessLog(text)
  assert.equal(lines.length, 7)
  const windows = [
    { stage: 'pass', route: 'pass', round: 0, from: 900, to: 1100 }, { stage: 'auth', route: 'auth', round: 0, from: 1400, to: 1600 },
    { stage: 'pass', route: 'pass', round: 1, from: 1900, to: 2100 }, { stage: 'auth', route: 'auth', round: 1, from: 2400, to: 2600 },
  ]
  const [pass, auth] = gwSideLatency(lines, windows, ['pass', 'auth'])
  assert.equal(pass.lines, 3)
  assert.equal(auth.lines, 3, 'the line outside every window is not counted')
  // gw's own time (ms − upstreamMs): round 0 auth 0.5 vs pass 0.3, round 1 auth 0.4 vs pass 0.1 → +0.2, +0.3 → median 0.25
  assert.ok(Math.abs(auth.addedOwnP99 - 0.25) < 1e-9, `${auth.addedOwnP99}`)
  assert.ok(Math.abs(pass.ownP99 - 0.2) < 1e-9, 'median of 0.3 and 0.1')
  assert.equal(auth.p99, 1.85)
})

test('the balancer parses backends and skips unhealthy ones (failing open when none is healthy)', () => {
  assert.deepEqual(parseBackend('http://127.0.0.1:80,http://127.0.0.1:81'), { url: 'http://127.0.0.1:80', admin: 'http://127.0.0.1:81' })
  assert.deepEqual(parseBackend('http://127.0.0.1:80'), { url: 'http://127.0.0.1:80', admin: null })
  assert.throws(() => parseBackend('127.0.0.1:80'), /bad --backend/)
  const bs = [{ healthy: true }, { healthy: false }, { healthy: true }]
  assert.equal(pickNext(bs, 0), 0)
  assert.equal(pickNext(bs, 1), 2)
  assert.equal(pickNext(bs, 2, 2), 0, 'a retry goes elsewhere')
  assert.equal(pickNext([{ healthy: false }, { healthy: false }], 1), 1, 'no healthy backend: plain rotation')
  assert.equal(pickNext([{ healthy: false }, { healthy: true }], 1, 1), 0, 'a retry may go to an unhealthy one rather than nowhere')
})

test('phase schedules must be ordered and long enough; a time finds its phase', () => {
  const ps = [{ id: 'a', startS: 0, endS: 2 }, { id: 'b', startS: 2, endS: 5 }]
  checkPhases(ps)
  assert.throws(() => checkPhases([{ id: 'a', startS: 0, endS: 2 }, { id: 'b', startS: 1, endS: 3 }]), /starts before/)
  assert.throws(() => checkPhases([{ id: 'a', startS: 0, endS: 0.05 }]), /at least 100 ms/)
  assert.equal(phaseAt(ps, 2)?.id, 'b')
  assert.equal(phaseAt(ps, 1.99)?.id, 'a')
  assert.equal(phaseAt(ps, 5), undefined)
})

test('the quiet-machine check ignores this process, its ancestors and children', () => {
  const lines = parsePgrep('12 node dist/lab/run.js tax\n34 node dist/lab/run.js containment --quick\n\n56 node dist/bench/micro.js\n')
  assert.deepEqual(lines.map((l) => l.pid), [12, 34, 56])
  assert.equal(lines[1].cmd, 'node dist/lab/run.js containment --quick')
  assert.deepEqual(othersOnly(lines, new Set([34])).map((l) => l.pid), [12, 56])
})
