// lab/test/harness-format.test.ts: how results read — number formats, markdown tables, result file names, the
// tax report's sections, and the Prometheus and stub readers the figures come from.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytes, mdTable, num, pct, rps, signed, times } from '../harness/markdown.js'
import { parseMetrics, sumMetric, gwUpstreamCounters } from '../harness/metrics-text.js'
import { resultBase, stamp } from '../harness/results-io.js'
import { checkGoal } from '../harness/stats.js'
import { GOALS } from '../tax/goals.js'
import { taxMarkdown } from '../tax/report.js'
import type { TaxResult } from '../tax/run-tax.js'
import { FLAVOURS } from '../tax/config.js'
import type { TargetSummary } from '../tax/summary.js'

test('numbers read the same everywhere: 3 significant digits, a dash for anything not measurable', () => {
  assert.deepEqual([num(1234.6), num(12.345), num(1.2345), num(0.01234), num(0), num(NaN), num(null), num(Infinity)],
    ['1235', '12.3', '1.23', '0.012', '0', '—', '—', '—'])
  assert.deepEqual([signed(0.42), signed(-1.3), signed(undefined)], ['+0.42', '−1.30', '—'])
  assert.deepEqual([times(1.416), pct(0.034), pct(1), bytes(512), bytes(20_300), bytes(4_194_304)], ['1.42×', '3.40%', '100%', '512 B', '20.3 KB', '4.19 MB'])
  assert.equal(rps(12345.6), '12,346')
})

test('markdown tables escape pipes and align numbers right', () => {
  const t = mdTable(['target', 'req/s'], [['a|b', 1], ['c', 22]])
  assert.equal(t, '| target | req/s |\n| :--- | ---: |\n| a\\|b | 1 |\n| c | 22 |')
})

test('result files are named <UTC stamp>-<name> so they sort by time and never collide on a name', () => {
  const d = new Date(Date.UTC(2025, 0, 2, 3, 4, 5))
  assert.equal(stamp(d), '2025-01-02T0304Z')
  assert.equal(resultBase(d, 'Tax quick!'), '2025-01-02T0304Z-tax-quick')
  assert.equal(resultBase(d, '***'), '2025-01-02T0304Z-run')
})

test('the Prometheus text reader sums samples by name and labels', () => {
  const text = [
    '# HELP gw_upstream_connections_opened_total Upstream TCP connections opened',
    '# TYPE gw_upstream_connections_opened_total counter',
    'gw_upstream_connections_opened_total{upstream="users"} 3',
    'gw_upstream_connections_opened_total{upstream="orders"} 4',
    'gw_upstream_dispatched_total{upstream="users"} 3000',
    'gw_upstream_dispatched_total{upstream="orders",note="a \\"quoted\\" value"} 40 1700000000000',
    'gw_x_bucket{le="+Inf"} +Inf',
    '',
  ].join('\n')
  const s = parseMetrics(text)
  assert.equal(s.length, 5)
  assert.equal(s[3].labels.note, 'a "quoted" value')
  assert.equal(sumMetric(s, 'gw_upstream_connections_opened_total'), 7)
  assert.equal(sumMetric(s, 'gw_upstream_connections_opened_total', { upstream: 'users' }), 3)
  assert.equal(s[4].value, Infinity)
  assert.deepEqual(gwUpstreamCounters(s, 'orders'), { opened: 4, closed: 0, dispatched: 40 })
})

function row(target: string, extra: Partial<TargetSummary> = {}): TargetSummary {
  return {
    target, rounds: 2, rps: 5000, rpsRange: [4900, 5100], p50: 1, p99: 2, p999: 3, addedP99: target === 'direct' ? null : 0.5,
    cpuUsPerRequest: target === 'direct' ? null : 100, heapBytesPerRequest: target === 'direct' ? null : 20000, gcShare: 0.01,
    eventLoopDelayP99Ms: 1, cpuShare: 0.5, perCoreRps: 10000, upstreamConnections: 0, fdsStart: 10, fdsEnd: 10, upstreamCpuShare: 0.2,
    generatorCpuShare: 0.3, errors: 0, completed: 10000, warnings: [], ...extra,
  }
}

test('the tax report leads with the goals, then a table per scenario, the early check, and links its charts', () => {
  const r: TaxResult = {
    kind: 'gwp-bench-tax', version: 1, name: 'tax-quick', flavour: 'quick', config: FLAVOURS.quick,
    startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:04:00Z', durationS: 300, waitedS: 60,
    machine: { cpus: 2, cpuModel: 'Test CPU', memoryBytes: 1, node: 'v20', nginx: null, commit: 'abc', dirty: false },
    cpuPlan: 'pinned with taskset: …', load: [{ at: '', phase: 'start', loadavg: [1, 2, 3], uptime: '' }, { at: '', phase: 'end', loadavg: [2, 2, 3], uptime: '' }],
    notes: ['skipped: nginx not installed'], processes: [],
    scenarios: [{
      id: 'rate-2500', title: '(b) fixed rate 2,500 req/s: open model', spec: { model: 'open', rate: 2500, durationMs: 1, warmupMs: 0 },
      targets: ['direct', 'gw-pass@http1'], summary: [row('direct'), row('gw-pass@http1', { warnings: ['round 1: the generator fell behind'] })],
      ratios: [{ target: 'gw-pass@http1', rps: { direct: 1 }, cpu: {}, addedP99: {} }],
    }],
    goals: [checkGoal(GOALS.passP99, 0.5, [0.4, 0.6]), checkGoal(GOALS.passRps, NaN)],
    early: [{ target: 'gw', good: 1, medianAnswerMs: 3, summary: '1/1 good', attempts: [{ answerMs: 3, status: 413, announcedClose: false, uploaded: 10, uploadMs: 1, next: { ok: true, status: 200, ms: 1 }, verdict: 'ok' }] }],
    engines: ['node', 'http1'], mixes: [], transfers: null, slow: [], soak: null, profiles: [], runs: [], discarded: [],
  }
  const md = taxMarkdown(r, [{ name: 'latency', file: 'x-latency.svg' }, { name: 'rps', file: 'x-rps.svg', error: 'boom' }])
  const goals = md.indexOf('## Goals'), table = md.indexOf('## (b) fixed rate 2,500'), early = md.indexOf('## Upstream answers before reading the body')
  assert.ok(goals > 0 && goals < table && table < early, 'goals, then scenarios, then the early check')
  assert.match(md, /\| gw passthrough added p99 over direct < 1 ms at 2,500 req\/s \| PASS \| 0\.50 ms vs < 1\.00 ms — PASS by 0\.50 ms \(50%\) \(rounds: 0\.40, 0\.60\) \|/)
  assert.match(md, /\| n\/a \| not measured/)
  assert.match(md, /\| gw passthrough @http1 \| 5,000 \(4,900–5,100\) \| 1\.00 \| 2\.00 \| 3\.00 \| \+0\.50 \| 100 \|/)
  assert.match(md, /skipped: nginx not installed/)
  assert.match(md, /\(240 s measuring, after 60 s waiting for other benchmarks or a busy machine\)/)
  assert.match(md, /start 1\/2\/3, end 2\/2\/3/)
  assert.match(md, /!\[latency\]\(x-latency\.svg\)/)
  assert.match(md, /- rps: not rendered \(boom\)/)
  assert.match(md, /round 1: the generator fell behind/)
  assert.doesNotMatch(md, /NaN|undefined|Infinity/)
})
