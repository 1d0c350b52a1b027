// lab/experiments/charts.ts: the one chart shape the resilience experiments share — stacked panels over one
// time axis (p99, in-flight, upstream req/s…), a colored line per variant, and the experiment's events (upstream
// goes bad, reload, SIGTERM) as labelled vertical rules — as a vega-lite spec, rendered by lab/harness/charts.
import type { TopLevelSpec } from 'vega-lite'

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

/** One point of one series (a variant, or a measure) in one panel. */
export interface TimelineRow { panel: string; series: string; t: number; value: number }

/** A vertical rule across every panel at `t`, labelled in the top panel. `series` colours it like that series' lines. */
export interface EventMark { t: number; label: string }

export interface PanelSpec {
  /** Matches TimelineRow.panel. */
  id: string
  /** The panel's title (what its y axis measures, with the unit). */
  title: string
  /** Step lines (a state: breaker closed/half-open/open), else straight lines with points. */
  step?: boolean
  /** Log y scale (latencies that span decades). */
  log?: boolean
  /** Fixed y domain, e.g. [0, 2] for a breaker state. */
  domain?: [number, number]
  /** Points only (events such as fetches), no line. */
  points?: boolean
}

export interface TimelineOptions {
  title: string
  panels: PanelSpec[]
  /** Series order (legend and colours). */
  seriesOrder?: string[]
  events?: EventMark[]
  xTitle?: string
  width?: number
  height?: number
}

/**
 * Stacked panels sharing the x axis (seconds on the experiment's time line). Each panel draws only its rows; the
 * colour scale is shared so a variant has one colour everywhere. Non-positive values are dropped on log panels.
 */
export function timelineSpec(rows: readonly TimelineRow[], o: TimelineOptions): TopLevelSpec {
  const width = o.width ?? 640
  const height = o.height ?? 120
  const events = o.events ?? []
  const color = { field: 'series', type: 'nominal' as const, title: null, ...(o.seriesOrder ? { sort: o.seriesOrder, scale: { domain: o.seriesOrder, scheme: 'tableau10' } } : { scale: { scheme: 'tableau10' } }), legend: { orient: 'top' as const, labelLimit: 320 } }
  const xs = rows.map((r) => r.t).concat(events.map((e) => e.t))
  const xDomain: [number, number] = xs.length === 0 ? [0, 1] : [Math.floor(Math.min(...xs)), Math.ceil(Math.max(...xs))]
  const panels = o.panels.map((p, i) => {
    const values = rows.filter((r) => r.panel === p.id && Number.isFinite(r.value) && (!p.log || r.value > 0))
    const layers: unknown[] = [{
      data: { values },
      mark: p.points ? { type: 'point', filled: true, size: 60, tooltip: true }
        : p.step ? { type: 'line', interpolate: 'step-after', tooltip: true } : { type: 'line', point: { size: 10 }, tooltip: true },
      encoding: {
        x: { field: 't', type: 'quantitative', title: i === o.panels.length - 1 ? (o.xTitle ?? 'seconds') : null, scale: { domain: xDomain, nice: false } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { ...(p.log ? { type: 'log' } : { zero: true }), ...(p.domain ? { domain: p.domain } : {}) } },
        color,
      },
    }]
    if (events.length > 0) {
      layers.push({
        data: { values: events },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#666' },
        encoding: { x: { field: 't', type: 'quantitative' } },
      })
      if (i === 0) {
        layers.push({
          data: { values: events },
          mark: { type: 'text', angle: 0, align: 'left', baseline: 'top', dx: 3, dy: 2, fontSize: 9, color: '#444' },
          encoding: { x: { field: 't', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
        })
      }
    }
    // The panel's name above it, not along a rotated axis title (which would set the vertical spacing).
    return { width, height, title: { text: p.title, anchor: 'start', fontSize: 11, fontWeight: 'normal' }, layer: layers }
  })
  return {
    $schema: SCHEMA,
    title: o.title,
    vconcat: panels,
    resolve: { scale: { color: 'shared' } },
  } as unknown as TopLevelSpec
}

/** Rows from points: tags each point with its panel and series. */
export function toRows(panel: string, series: string, points: readonly { t: number; value: number }[]): TimelineRow[] {
  return points.map((p) => ({ panel, series, t: p.t, value: p.value }))
}
