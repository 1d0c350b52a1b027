// lab/test/tax-issue13.test.ts: issue 13's side of the tax table, as pure functions of run records — gw on both
// engines as targets (naming, expansion, the default set), issue 13's goals (PASS/MISS with the gap, n/a without
// the http1 engine), the 1 MiB transfer summaries and the slow reader's memory, before/after and the gap to the
// byte-level limit case, the FINDINGS-ready markdown and the report's new sections; plus the two measuring pieces
// that are not pure (the probe's peak sampling and the throttled slow reader), against real sockets.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { getHeapStatistics } from 'node:v8'
import type { AddressInfo } from 'node:net'
import type { RunRecord } from '../harness/measure.js'
import { areaOf, formatAreas, formatTop, type ProfileSummary } from '../harness/cpu-profile.js'
import { estimateSeconds, FLAVOURS } from '../tax/config.js'
import { beforeAfter, findingsMarkdown, limitGap } from '../tax/findings.js'
import { evaluateGoals, ISSUE13, issue13Goals } from '../tax/goals.js'
import { taxMarkdown } from '../tax/report.js'
import { wantedTargets, type TaxResult } from '../tax/run-tax.js'
import { engineOf, expandTargets, parseEngines, targetDef, TARGETS, type TargetId } from '../tax/targets.js'
import { MIB, slowGrowthMiB, slowRead, summarizeTransfers, transferMix, transferPlans, type SlowReaderResult } from '../tax/transfers.js'
import { createProcessProbe } from '../probe/process-probe.js'
import { createTreeProbe } from '../probe/tree-reader.js'

interface RunOpts { rps?: number; p99?: number; cpu?: number; share?: number; heap?: number; rssPeak?: number; heapPeak?: number; errors?: number }

/** A run record with just the fields the arithmetic reads. */
function run(scenario: string, target: string, round: number, o: RunOpts = {}): RunRecord {
  const rps = o.rps ?? 1000
  const lat = { p50: (o.p99 ?? 1) / 2, p90: o.p99 ?? 1, p99: o.p99 ?? 1, p999: (o.p99 ?? 1) * 2, max: 10, mean: 1, min: 0.1, stddev: 0.1, count: 100 }
  return {
    scenario, target, round, startS: round,
    load: {
      model: 'closed', description: '', durationMs: 1000, requestedRps: null, sentRps: rps, rps, completed: rps, ok: rps, errors: o.errors ?? 0,
      errorKinds: {}, errorSamples: [], statuses: { 200: rps }, latencyMs: lat, serviceTimeMs: null, generatorCpuShare: 0.3, scheduleLagP99Ms: null,
      clientConnectionsOpened: 8, warnings: [], series: [],
    },
    proxy: target === 'direct' ? null : {
      kind: 'node', cpuUsPerRequest: o.cpu ?? 100, cpuShare: o.share ?? 0.95, heapBytesPerRequest: o.heap ?? 1000, gcShare: 0.01, gcCount: 1,
      eventLoopDelayP99Ms: 1, fdsStart: 50, fdsEnd: 50, rssEndBytes: 1e8, heapUsedEndBytes: 1e7,
      ...(o.rssPeak === undefined ? {} : { rssPeakBytes: o.rssPeak, heapPeakBytes: o.heapPeak ?? null }),
    },
    upstream: { connectionsOpened: 0, cpuUsPerRequest: 30, cpuShare: 0.3 },
    gw: null,
  }
}

const S = { ceiling: 'ceiling', half: 'half', r2500: 'r2500', r5000: 'r5000', download: 'download-1mib', upload: 'upload-1mib' }

/** A run where gw@http1 meets every issue-13 goal but the full chain's CPU, paired values constant over rounds. */
function records13(): RunRecord[] {
  const out: RunRecord[] = []
  for (const round of [0, 1, 2]) {
    const k = round === 1 ? 0.8 : 1 // a slower round: every target alike, so paired ratios stay put
    out.push(run('ceiling', 'direct', round, { rps: 60000 * k }))
    out.push(run('ceiling', 'floor', round, { rps: 30000 * k, cpu: 32 }))
    out.push(run('ceiling', 'bytes', round, { rps: 60000 * k, cpu: 16, heap: 3000 }))
    out.push(run('ceiling', 'gw-pass@node', round, { rps: 20000 * k, cpu: 48, heap: 19000 }))
    out.push(run('ceiling', 'gw-pass@http1', round, { rps: 42000 * k, cpu: 22 + round, heap: 9000 }))
    out.push(run('ceiling', 'gw-full@node', round, { rps: 18000 * k, cpu: 55 }))
    out.push(run('ceiling', 'gw-full@http1', round, { rps: 30000 * k, cpu: 33 + round }))
    out.push(run('ceiling', 'fastify', round, { rps: 14000 * k, cpu: 72 }))
    out.push(run('r2500', 'direct', round, { p99: 1 + round }))
    out.push(run('r2500', 'floor', round, { p99: 1.5 + round }))
    out.push(run('r2500', 'gw-pass@node', round, { p99: 2.5 + round }))
    out.push(run('r2500', 'gw-pass@http1', round, { p99: 1.3 + round }))
    out.push(run('download-1mib', 'gw-pass@node', round, { rps: 400 * k, cpu: 900 }))
    out.push(run('download-1mib', 'gw-pass@http1', round, { rps: 480 * k, cpu: 600 }))
    out.push(run('upload-1mib', 'gw-pass@node', round, { rps: 300 * k }))
    out.push(run('upload-1mib', 'gw-pass@http1', round, { rps: 270 * k }))
  }
  return out
}

const slowOf = (target: string, start: number, peak: number): SlowReaderResult => ({
  target, readers: 4, rate: 256 * 1024, bodyBytes: 64 * MIB, ms: 3000, statuses: [200, 200, 200, 200], bytesRead: 3 * MIB, errors: [],
  rssStartBytes: start, rssPeakBytes: peak, heapPeakBytes: 20 * MIB,
})

test('gw targets are named by engine; a bare gw id means every engine asked for; --engines is checked', () => {
  assert.equal(targetDef('gw-pass@http1').engine, 'http1')
  assert.equal(targetDef('gw-pass@node').base, 'gw-pass')
  assert.match(targetDef('gw-full@http1').label, /^gw full chain @http1$/)
  assert.equal(engineOf('gw-pass@http1'), 'http1')
  assert.equal(engineOf('floor'), undefined)
  const ids = TARGETS.map((t) => t.id)
  assert.ok(ids.indexOf('gw-pass@node') + 1 === ids.indexOf('gw-pass@http1'), 'before and after sit side by side')
  assert.deepEqual(expandTargets(['gw-pass', 'floor'], ['node', 'http1']), ['floor', 'gw-pass@node', 'gw-pass@http1'])
  assert.deepEqual(expandTargets(['gw-pass', 'gw-full@node'], ['http1']), ['gw-pass@http1'], 'an engine not asked for is dropped')
  assert.throws(() => expandTargets(['gw-nope'], ['node']), /unknown target "gw-nope"/)
  assert.deepEqual(parseEngines('http1, node'), ['node', 'http1'])
  assert.throws(() => parseEngines('http2'), /unknown engine "http2"/)
  assert.throws(() => parseEngines(','), /at least one/)
})

test('by default passthrough and the full chain run on both engines, the other gw stages on the flavour\'s stage engines', () => {
  const w = wantedTargets(undefined, ['node', 'http1'], FLAVOURS.full.stageEngines)
  assert.deepEqual(w, ['direct', 'floor', 'bytes', 'gw-pass@node', 'gw-pass@http1', 'gw-auth@http1', 'gw-ratelimit@http1', 'gw-breaker@http1',
    'gw-full@node', 'gw-full@http1', 'fastify', 'nginx'])
  assert.deepEqual(wantedTargets(undefined, ['node', 'http1'], FLAVOURS.quick.stageEngines).filter((t) => t.startsWith('gw-')),
    ['gw-pass@node', 'gw-pass@http1', 'gw-full@node', 'gw-full@http1'], 'quick: the goals\' gw targets only')
  assert.deepEqual(wantedTargets(['gw-auth'], ['node', 'http1'], ['http1']), ['direct', 'gw-auth@node', 'gw-auth@http1'], 'named targets are taken as named; direct always')
  assert.deepEqual(wantedTargets(undefined, ['node'], ['http1']).filter((t) => t.startsWith('gw-')), ['gw-pass@node', 'gw-full@node'])
})

test("issue 13's goals: computed from same-round pairs for gw@http1, PASS/MISS with the gap", () => {
  const g = issue13Goals(records13(), S, [slowOf('gw-pass@http1', 60 * MIB, 70 * MIB), slowOf('gw-pass@node', 60 * MIB, 200 * MIB)])
  const by = Object.fromEntries(g.map((x) => [x.id, x]))
  assert.deepEqual(g.map((x) => x.id), Object.values(ISSUE13).map((x) => x.id))
  // ≤ 24 µs: the median of the rounds' own CPU (22, 23, 24).
  assert.equal(by['i13-pass-cpu'].value, 23)
  assert.deepEqual(by['i13-pass-cpu'].perRound, [22, 23, 24])
  assert.equal(by['i13-pass-cpu'].line, '23.0 µs vs ≤ 24.0 µs — PASS by 1.0 µs (4%)')
  assert.ok(Math.abs(by['i13-pass-cpu-floor'].value - 23 / 32) < 1e-9)
  assert.equal(by['i13-pass-cpu-floor'].status, 'PASS')
  assert.ok(Math.abs(by['i13-pass-rps-floor'].value - 1.4) < 1e-9, 'paired: the slow round does not move it')
  assert.equal(by['i13-pass-rps-floor'].status, 'PASS')
  assert.equal(by['i13-pass-rps-fastify'].value, 3)
  assert.equal(by['i13-pass-rps-fastify'].status, 'PASS')
  assert.equal(by['i13-full-cpu'].value, 34)
  assert.equal(by['i13-full-cpu'].status, 'MISS')
  assert.equal(by['i13-full-cpu'].line, '34.0 µs vs ≤ 32.0 µs — MISS by 2.0 µs (6%)')
  // gw's added p99 − the floor's = gw's p99 − the floor's in the same round: 1.3 − 1.5.
  assert.ok(Math.abs(by['i13-pass-p99-floor'].value + 0.2) < 1e-9)
  assert.equal(by['i13-pass-p99-floor'].status, 'PASS')
  assert.ok(Math.abs(by['i13-download'].value - 1.2) < 1e-9)
  assert.equal(by['i13-download'].status, 'PASS')
  assert.ok(Math.abs(by['i13-upload'].value - 0.9) < 1e-9)
  assert.equal(by['i13-upload'].status, 'MISS')
  assert.equal(by['i13-slow-reader'].value, 10, 'RSS growth of gw@http1 only, in MiB')
  assert.equal(by['i13-slow-reader'].status, 'PASS')
  assert.match(by['i13-slow-reader'].note ?? '', /4 readers at 256 KiB\/s for 3 s, each asking for 64 MiB \(buffering them whole would take 256 MiB\); RSS peak 70\.0 MiB, V8 heap peak 20\.0 MiB/)
})

test("issue 13's ceiling goals say when gw's core was not saturated", () => {
  const recs = records13().map((r) => (r.target === 'gw-pass@http1' && r.proxy !== null ? { ...r, proxy: { ...r.proxy, cpuShare: 0.5 } } : r))
  const by = Object.fromEntries(issue13Goals(recs, S).map((x) => [x.id, x]))
  assert.match(by['i13-pass-cpu'].note ?? '', /gw-pass@http1's core was 50% busy/)
  assert.match(by['i13-pass-rps-floor'].note ?? '', /not both saturated \(proxy core busy: gw-pass@http1 50%\)/)
  assert.equal(by['i13-slow-reader'].status, 'n/a', 'no slow-reader result: n/a')
})

test('evaluateGoals: issue 13 first, then the earlier goals per engine; without the http1 engine no issue-13 goal', () => {
  const all = evaluateGoals(records13(), S, ['node', 'http1'])
  assert.equal(all.length, 9 + 6 + 6)
  assert.ok(all.slice(0, 9).every((x) => x.id.startsWith('i13-')))
  assert.deepEqual(all.slice(9).map((x) => x.id.split('@')[1]), [...Array(6).fill('node'), ...Array(6).fill('http1')])
  const node = evaluateGoals(records13(), S, ['node'])
  assert.equal(node.length, 6)
  assert.ok(node.every((x) => x.id.endsWith('@node')))
  // Downloads and uploads without their scenarios: n/a, not a PASS.
  const none = issue13Goals(records13(), { ceiling: 'ceiling', half: 'half', r2500: 'r2500', r5000: 'r5000' })
  assert.equal(none.find((x) => x.id === 'i13-download')?.status, 'n/a')
})

test('1 MiB transfers: MiB/s, CPU and heap per MiB, the RSS and heap peaks over the rounds', () => {
  const recs = [
    run('download-1mib', 'gw-pass@http1', 0, { rps: 400, cpu: 500, heap: 2000, rssPeak: 80 * MIB, heapPeak: 10 * MIB }),
    run('download-1mib', 'gw-pass@http1', 1, { rps: 300, cpu: 700, heap: 4000, rssPeak: 90 * MIB, heapPeak: 9 * MIB, errors: 2 }),
    run('download-1mib', 'direct', 0, { rps: 900 }),
  ]
  const [d, gw] = summarizeTransfers(recs, 'download-1mib', ['direct', 'gw-pass@http1', 'floor'], MIB)
  assert.equal(d.target, 'direct')
  assert.equal(d.cpuUsPerMiB, null)
  assert.equal(gw.mibPerS, 350)
  assert.equal(gw.cpuUsPerMiB, 600)
  assert.equal(gw.heapBytesPerMiB, 3000)
  assert.equal(gw.rssPeakBytes, 90 * MIB)
  assert.equal(gw.heapPeakBytes, 10 * MIB)
  assert.equal(gw.errors, 2)
  // Half-MiB bodies: twice the requests per MiB.
  const [half] = summarizeTransfers([run('upload-1mib', 'floor', 0, { rps: 100, cpu: 50 })], 'upload-1mib', ['floor'], MIB / 2)
  assert.equal(half.mibPerS, 50)
  assert.equal(half.cpuUsPerMiB, 100)
  assert.equal(slowGrowthMiB(slowOf('x', 10 * MIB, 15 * MIB)), 5)
  assert.equal(slowGrowthMiB({ ...slowOf('x', 0, 0), rssStartBytes: null }), null)
  const plans = transferPlans(FLAVOURS.quick.transfer, ['direct', 'gw-pass@http1'])
  assert.deepEqual(plans.map((p) => p.id), ['download-1mib', 'upload-1mib'])
  assert.equal(plans[0].spec.peakEveryMs, 25)
  assert.equal(transferMix('download-1mib', MIB)[0].path, '/bytes/1048576')
  assert.deepEqual(transferMix('upload-1mib', MIB)[0].body, { size: MIB })
})

test('before/after pairs gw@node with gw@http1 per round; the gap to the byte-level limit case too', () => {
  const recs = records13()
  const [pass, full] = beforeAfter(recs, 'ceiling', ['gw-pass', 'gw-auth', 'gw-full'])
  assert.equal(pass.base, 'gw-pass')
  assert.equal(full.base, 'gw-full', 'a target on one engine only has no row')
  assert.equal(pass.before.rps, 20000)
  assert.equal(pass.after.cpu, 23)
  assert.ok(Math.abs((pass.rpsRatio ?? 0) - 2.1) < 1e-9)
  assert.ok(Math.abs((pass.cpuRatio ?? 0) - 23 / 48) < 1e-9)
  const [g] = limitGap(recs, 'ceiling', ['gw-pass@http1', 'gw-auth@http1'])
  assert.equal(g.cpuGapUs, 7)
  assert.ok(Math.abs((g.cpuRatio ?? 0) - 23 / 16) < 1e-9)
  assert.equal(g.rpsRatio, 0.7)
  assert.equal(g.heapGapBytes, 6000)
  assert.deepEqual(limitGap(recs.filter((r) => r.target !== 'bytes'), 'ceiling', ['gw-pass@http1']), [], 'no bytes run: no gap rows')
})

const profile = (label: string): { label: string; summary: ProfileSummary } => ({
  label, summary: {
    file: 'x.cpuprofile', totalMs: 1000,
    top: [{ fn: '(idle)', where: '', selfMs: 500, selfShare: 0.5 }, { fn: 'writev', where: '', selfMs: 200, selfShare: 0.2 },
      { fn: 'parseHead', where: 'dist/runtime/http1/request-parser.js:10', selfMs: 50, selfShare: 0.05 }],
    byArea: [{ area: '(idle)', ms: 500, share: 0.5 }, { area: '(native/builtin)', ms: 400, share: 0.4 }, { area: 'gw runtime/http1/', ms: 100, share: 0.1 }],
  },
})

test('the FINDINGS section: ceiling table with ratios, before/after, the gap to bytes, transfers, profiles side by side', () => {
  const recs = records13()
  const md = findingsMarkdown({
    ceiling: 'ceiling', r2500: 'r2500', records: recs, order: ['direct', 'floor', 'bytes', 'gw-pass@node', 'gw-pass@http1', 'gw-full@node', 'gw-full@http1', 'fastify'],
    transfers: {
      download: summarizeTransfers(recs, 'download-1mib', ['gw-pass@node', 'gw-pass@http1'], MIB),
      upload: summarizeTransfers(recs, 'upload-1mib', ['gw-pass@node', 'gw-pass@http1'], MIB),
    },
    slow: [slowOf('gw-pass@http1', 60 * MIB, 70 * MIB)],
    profiles: [profile('gw passthrough @node at the ceiling'), profile('gw passthrough @http1 at the ceiling')],
    commit: 'abc123', resultName: 'tax-quick',
  })
  assert.match(md, /^## For docs\/FINDINGS\.md/)
  // Ceiling: req/s ÷ floor 1.40×, CPU ÷ floor 0.72×, req/s ÷ fastify 3.00×, CPU ÷ bytes 1.44×; added p99 at 2,500 +0.30.
  assert.match(md, /\| gw passthrough @http1 \| 42,000 \| 23\.0 \| 9\.00 KB \| \+0\.30 \| 1\.40× \| 0\.72× \| 3\.00× \| 1\.44× \|/)
  assert.match(md, /\| direct to upstream \| 60,000 \| — \| — \| — \|/)
  assert.match(md, /\| gw passthrough \| ceiling \| 20,000 → 42,000 \| 2\.10× \| 48\.0 → 23\.0 \| 0\.48× \|/)
  assert.match(md, /\| gw passthrough \| r2500 \|/)
  assert.match(md, /What remains between gw and the byte-level limit case/)
  assert.match(md, /\| gw passthrough @http1 \| 23\.0 \| 16\.0 \| 1\.44× \| \+7\.00 \| 0\.70× \| \+6\.00 KB \|/)
  assert.match(md, /\| gw passthrough @http1 \| 480 \| 600 \| 270 \| \d+ \| — \| 70\.0 MiB \(\+10\.0 MiB\) \| 20\.0 MiB \|/)
  assert.match(md, /\| area \| gw passthrough @node \| gw passthrough @http1 \|/)
  assert.match(md, /\| gw runtime\/http1\/ \| 10\.0% \| 10\.0% \|/)
  assert.match(md, /Top functions, gw passthrough @http1 at the ceiling \(self time; 50\.0% of the samples idle\)/)
  assert.match(md, /\| `parseHead` \| dist\/runtime\/http1\/request-parser\.js:10 \| 5\.00% \| 10\.0% \|/)
  assert.doesNotMatch(md, /\| `\(idle\)` \|/, 'idle is said once, not listed as a function')
  assert.match(md, /\| gw passthrough \| ceiling \| .* \| — \|\n/, 'no added p99 at the ceiling: a closed model\'s latency is its own queue')
  assert.doesNotMatch(md, /Top functions, gw passthrough @node/, 'top lists for the new engine only; the areas table has both')
  assert.doesNotMatch(md, /NaN|undefined|Infinity/)
})

test('the tax report renders the engines, transfers, slow readers, a mix per engine and the FINDINGS section', () => {
  const recs = records13()
  const r: TaxResult = {
    kind: 'gwp-bench-tax', version: 1, name: 'tax-quick', flavour: 'quick', config: FLAVOURS.quick,
    startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:04:00Z', durationS: 300, waitedS: 0,
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryBytes: 1, node: 'v20', nginx: null, commit: 'abc', dirty: false },
    cpuPlan: 'pinned', load: [{ at: '', phase: 'start', loadavg: [1, 1, 1], uptime: '' }], notes: [], processes: [],
    engines: ['node', 'http1'],
    scenarios: [{ id: 'ceiling', title: '(a) ceiling', spec: { model: 'closed', concurrency: 64, durationMs: 1, warmupMs: 0 }, targets: ['direct', 'gw-pass@node', 'gw-pass@http1'], summary: [], ratios: [] }],
    goals: evaluateGoals(recs, S, ['node', 'http1'], [slowOf('gw-pass@http1', 60 * MIB, 70 * MIB)]),
    early: [],
    mixes: [{ target: 'gw-mix@http1', engine: 'http1', rate: 600, probeRate: 200, classes: { routes: 64, smallShare: 0.97, largeShare: 0.02, sseShare: 0.01 }, summary: null, smallRoutes: { p50: 1, p99: 5, p999: 9 } }],
    transfers: {
      config: FLAVOURS.quick.transfer,
      download: summarizeTransfers(recs, 'download-1mib', ['gw-pass@node', 'gw-pass@http1'], MIB),
      upload: summarizeTransfers(recs, 'upload-1mib', ['gw-pass@node', 'gw-pass@http1'], MIB),
    },
    slow: [slowOf('gw-pass@node', 60 * MIB, 61 * MIB), slowOf('gw-pass@http1', 60 * MIB, 70 * MIB)],
    soak: null, profiles: [profile('gw passthrough @http1 at the ceiling')], runs: recs, discarded: [],
  }
  const md = taxMarkdown(r, [])
  assert.match(md, /gw engines: `@node` \(node:http \+ undici: before\), `@http1` \(gw's own HTTP\/1\.1 engine, GW_ENGINE=http1: after\)/)
  assert.match(md, /\| gw@http1 passthrough ≤ 24 µs CPU\/req at the ceiling \| PASS \| 23\.0 µs vs ≤ 24\.0 µs/)
  assert.match(md, /\| gw@node passthrough ≥ 1\.4× @fastify\/http-proxy req\/s \(ceiling\) \|/)
  assert.match(md, /## \(c\) topology mix through gw@http1 at 600 req\/s/)
  assert.match(md, /## 1 MiB transfers/)
  assert.match(md, /\| gw passthrough @http1 \| 480 \| 600 \|/)
  assert.match(md, /## Memory under slow readers/)
  assert.match(md, /\| gw passthrough @http1 \| 200 \| 3\.00 MiB \| 60\.0 MiB \| 70\.0 MiB \| \+10\.0 MiB \| 20\.0 MiB \| — \|/)
  const goals = md.indexOf('## Goals'), transfers = md.indexOf('## 1 MiB transfers'), findings = md.indexOf('## For docs/FINDINGS.md')
  assert.ok(goals > 0 && goals < transfers && transfers < findings)
  assert.doesNotMatch(md, /NaN|undefined|Infinity/)
})

test('profiles: gw\'s own engine is an area of its own, and the top functions print with their share', () => {
  assert.equal(areaOf('file:///r/dist/runtime/http1/writer.js', 'writeHead'), 'gw runtime/http1/')
  assert.equal(areaOf('file:///r/dist/runtime/gateway.js', 'handle'), 'gw runtime/')
  assert.equal(areaOf('file:///r/dist/lab/peers/floor.js', 'x'), 'lab/peers (peer proxy code)')
  const p = profile('x').summary
  assert.deepEqual(formatTop(p, 5), ['  20.0%  (40.0% of busy)  writev', '   5.0%  (10.0% of busy)  parseHead  dist/runtime/http1/request-parser.js:10'])
  assert.equal(formatAreas(p), '(idle) 50.0%, (native/builtin) 40.0%, gw runtime/http1/ 10.0%')
  assert.equal(areaOf('file:///r/dist/lab/probe/preload.js', 'x'), 'lab/probe (the measuring probe)')
  assert.equal(areaOf('file:///r/dist/bin/gw.js', 'x'), 'gw bin/')
})

test('the probe samples RSS and the V8 heap when asked, and reports their peaks over the window', async () => {
  const probe = createProcessProbe()
  probe.start({ peakEveryMs: 5 })
  let keep: number[][] | null = Array.from({ length: 200 }, () => new Array(1000).fill(1))
  await new Promise((r) => setTimeout(r, 30))
  const inside = getHeapStatistics().used_heap_size // while the arrays are held (≥ 1.6 MB of them)
  await new Promise((r) => setTimeout(r, 15))
  const used = keep.length
  keep = null
  const r = probe.stop()
  assert.ok(used > 0)
  assert.ok(r.peak !== undefined, 'peak reported')
  assert.ok(r.peak.samples >= 2)
  assert.ok(r.peak.rssBytes >= Math.min(r.rssBytes.start, r.rssBytes.end))
  assert.ok(r.peak.heapUsedBytes >= inside - 256 * 1024, `the heap held in the window counts in the peak (${r.peak.heapUsedBytes} vs ${inside})`)
  probe.start()
  assert.equal(probe.stop().peak, undefined, 'not asked: no sampling, no peak')
})

test('the tree probe (nginx) samples the tree\'s RSS from /proc when asked', async () => {
  const t = createTreeProbe(process.pid)
  t.start({ peakEveryMs: 50 })
  await new Promise((r) => setTimeout(r, 160))
  const r = t.stop()
  assert.ok(r.peak !== undefined)
  assert.ok(r.peak.samples >= 3, `${r.peak.samples} samples`)
  assert.ok(r.peak.rssBytes >= Math.max(r.rssBytes.start, r.rssBytes.end), 'the peak covers the start and the end')
  t.start()
  assert.equal(t.stop().peak, undefined)
})

test('the slow reader reads at its pace over a real socket, then hangs up', async () => {
  const body = Buffer.alloc(4 * MIB, 'x')
  let closed = false
  const server = createServer((_req, res) => {
    res.on('close', () => { closed = true })
    res.writeHead(200, { 'content-length': body.length })
    res.end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const r = await slowRead(url, '/bytes/4194304', 256 * 1024, 600)
    assert.equal(r.status, 200)
    assert.equal(r.error, undefined)
    assert.ok(r.ms >= 550 && r.ms < 2000, `hung up after ${r.ms} ms`)
    // 600 ms at 256 KiB/s is ~154 KiB; one socket read (up to 64 KiB) may land past the pace before it pauses.
    assert.ok(r.bytes > 64 * 1024 && r.bytes < 320 * 1024, `read ${r.bytes} B`)
    await new Promise((res) => setTimeout(res, 100))
    assert.ok(closed, 'the server saw the client go')
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
})

test('the command line refuses an unknown engine or target before anything starts, and lists --engines', () => {
  const runJs = fileURLToPath(new URL('../run.js', import.meta.url))
  const bad = spawnSync(process.execPath, [runJs, 'tax', '--quick', '--engines', 'http2'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /run: unknown engine "http2" \(node, http1\)/)
  const t = spawnSync(process.execPath, [runJs, 'tax', '--quick', '--targets', 'gw-pass@http2'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(t.status, 2)
  assert.match(t.stderr, /run: unknown target "gw-pass@http2"/)
  const help = spawnSync(process.execPath, [runJs, 'help'], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(help.status, 0)
  assert.match(help.stdout, /--engines A,B {8}gw's engines \(node, http1; default both\)/)
})

test('the expected duration: quick stays near 6 minutes; the final full run without the soak, 5 s windows, about half an hour', () => {
  // 4 peers + gw on 2 engines; direct also in the transfers; 4 gw profiles + the flavour's peers.
  const shape = (targets: TargetId[], profilePeers: number) => ({ targets, transferTargets: 7, slowTargets: 6, mixEngines: 2, profiles: 4 + profilePeers })
  const quick = estimateSeconds(FLAVOURS.quick, shape(wantedTargets(undefined, ['node', 'http1'], FLAVOURS.quick.stageEngines), 1))
  assert.ok(quick > 240 && quick <= 360, `quick: ${quick} s`)
  const full = FLAVOURS.full
  const fullShape = (p: number) => shape(wantedTargets(undefined, ['node', 'http1'], full.stageEngines), p)
  const final = estimateSeconds({ ...full, soakMs: 0, durationMs: 5000, warmupMs: 1000 }, fullShape(2))
  assert.ok(final > 20 * 60 && final < 32 * 60, `final run: ${final} s`)
  assert.ok(estimateSeconds({ ...full, soakMs: 0, durationMs: 5000, warmupMs: 1000, rounds: 3 }, fullShape(2)) < final, 'fewer rounds, shorter')
  assert.equal(estimateSeconds(full, fullShape(2)) - estimateSeconds({ ...full, soakMs: 0 }, fullShape(2)), 600, 'the soak adds its 10 minutes')
})
