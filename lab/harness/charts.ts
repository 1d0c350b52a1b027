// lab/harness/charts.ts: the result charts as vega-lite specs (data in, spec out: testable without rendering)
// and their rendering to SVG with vega's headless view (renderer 'none'). No SVG is ever built by hand here.
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

export interface LatencyRow { scenario: string; target: string; percentile: 'p50' | 'p99' | 'p99.9'; ms: number }

/**
 * Latency percentiles per target, one panel per scenario (own y scale each: a ceiling run's queueing latency and
 * a 2,500 req/s run's sub-millisecond latency do not share an axis). Log scale, since p99.9 can be 100× p50; so
 * filled points, not bars (a bar's zero baseline has no place on a log axis and vega draws nothing).
 */
export function latencySpec(rows: LatencyRow[], title: string, targetOrder: string[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows.filter((r) => Number.isFinite(r.ms) && r.ms > 0) },
    facet: { row: { field: 'scenario', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 520,
      height: 160,
      mark: { type: 'point', filled: true, size: 70, opacity: 0.9, tooltip: true },
      encoding: {
        x: { field: 'target', type: 'nominal', sort: targetOrder, title: null, axis: { labelAngle: -30, labelLimit: 200 } },
        xOffset: { field: 'percentile', sort: ['p50', 'p99', 'p99.9'] },
        y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'latency (ms, log)' },
        shape: { field: 'percentile', type: 'nominal', sort: ['p50', 'p99', 'p99.9'] },
        color: { field: 'percentile', type: 'nominal', sort: ['p50', 'p99', 'p99.9'], scale: { scheme: 'tableau10' } },
      },
    },
  }
}

export interface RateRow { scenario: string; target: string; round: number; t: number; rps: number }

/** Completed req/s per second of each run, on the benchmark's time line: interleaving and drift are visible. */
export function rateSpec(rows: RateRow[], title: string, targetOrder: string[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: { row: { field: 'scenario', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left', labelFontWeight: 'bold' } } },
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 640,
      height: 150,
      mark: { type: 'line', point: { size: 12 }, tooltip: true },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds since the benchmark started' },
        y: { field: 'rps', type: 'quantitative', title: 'completed req/s' },
        color: { field: 'target', type: 'nominal', sort: targetOrder, scale: { scheme: 'tableau10' }, legend: { labelLimit: 260 } },
        detail: { field: 'round', type: 'nominal' },
      },
    },
  }
}

export interface SeriesRow { series: string; t: number; value: number }

/** Several named series over time, one panel each with its own y scale (fds, heap MB, req/s of a soak). */
export function seriesSpec(rows: SeriesRow[], title: string, xTitle = 'seconds'): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows },
    facet: { row: { field: 'series', type: 'nominal', title: null, header: { labelAngle: 0, labelAlign: 'left' } } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 640,
      height: 120,
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 't', type: 'quantitative', title: xTitle },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
      },
    },
  }
}

export interface BarRow { group: string; measure: string; value: number }

/** One bar chart per measure (own scale each), bars by group: the connection-reuse variants side by side. */
export function barsSpec(rows: BarRow[], title: string, groupOrder: string[], measureOrder?: string[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values: rows.filter((r) => Number.isFinite(r.value)) },
    facet: { column: { field: 'measure', type: 'nominal', title: null, ...(measureOrder ? { sort: measureOrder } : {}) } },
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: 150,
      height: 180,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'group', type: 'nominal', sort: groupOrder, title: null, axis: { labelAngle: -30 } },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'group', type: 'nominal', sort: groupOrder, legend: null },
      },
    },
  }
}

/** Renders a vega-lite spec to an SVG string (headless: renderer 'none', no DOM, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec
  const view = new vega.View(vega.parse(vg), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
