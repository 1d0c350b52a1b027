// lab/test/harness-charts.test.ts: chart specs are built from the data (vega-lite, one panel per scenario,
// targets in table order) and render to SVG through vega's headless view.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { barsSpec, latencySpec, rateSpec, renderSvg, seriesSpec, type LatencyRow } from '../harness/charts.js'

const rows: LatencyRow[] = [
  { scenario: 'ceiling', target: 'direct', percentile: 'p50', ms: 1 },
  { scenario: 'ceiling', target: 'direct', percentile: 'p99', ms: 3 },
  { scenario: 'ceiling', target: 'gw', percentile: 'p99', ms: 5 },
  { scenario: 'rate-2500', target: 'gw', percentile: 'p99', ms: NaN },
  { scenario: 'rate-2500', target: 'gw', percentile: 'p50', ms: 0 },
]

test('the latency spec facets by scenario, keeps target order, and drops values a log scale cannot show', () => {
  const spec = latencySpec(rows, 'title', ['direct', 'gw']) as Record<string, any>
  assert.deepEqual(spec.data.values.map((r: LatencyRow) => `${r.scenario}/${r.target}/${r.percentile}`), ['ceiling/direct/p50', 'ceiling/direct/p99', 'ceiling/gw/p99'])
  assert.equal(spec.facet.row.field, 'scenario')
  assert.equal(spec.resolve.scale.y, 'independent')
  assert.deepEqual(spec.spec.encoding.x.sort, ['direct', 'gw'])
  assert.equal(spec.spec.encoding.y.scale.type, 'log')
  assert.equal(spec.spec.encoding.xOffset.field, 'percentile')
  assert.equal(spec.spec.mark.type, 'point', 'bars have a zero baseline, which a log axis cannot draw')
})

test('the rate spec draws one line per run (detail = round) on the benchmark time line', () => {
  const spec = rateSpec([{ scenario: 's', target: 'gw', round: 0, t: 1, rps: 100 }, { scenario: 's', target: 'gw', round: 1, t: 9, rps: 90 }], 't', ['gw']) as Record<string, any>
  assert.equal(spec.spec.encoding.detail.field, 'round')
  assert.equal(spec.spec.encoding.x.field, 't')
  assert.equal(spec.data.values.length, 2)
})

test('charts render to SVG with vega (renderer none), labels included', async () => {
  const svg = await renderSvg(latencySpec(rows, 'latency percentiles', ['direct', 'gw']))
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  // Every plottable value is drawn as a point (an empty chart still renders axes and a title).
  assert.equal((svg.match(/aria-roledescription="point"/g) ?? []).length, 3)
  assert.match(svg, /aria-label="target: gw; latency \(ms, log\): 5; percentile: p99"/)
  assert.match(svg, /latency percentiles/)
  assert.match(svg, />direct</)
  assert.match(svg, /<\/svg>$/)
  const bars = await renderSvg(barsSpec([{ group: 'keepalive', measure: 'req/s', value: 5000 }, { group: 'small-pool', measure: 'req/s', value: 900 }], 'reuse', ['keepalive', 'small-pool']))
  assert.match(bars, />small-pool</)
  const series = await renderSvg(seriesSpec([{ series: 'fds', t: 0, value: 10 }, { series: 'fds', t: 30, value: 11 }], 'soak'))
  assert.match(series, />fds</)
})
