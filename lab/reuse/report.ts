// lab/reuse/report.ts: the connection-reuse experiment as markdown tables and bar charts (one panel per measure).
import type { TopLevelSpec } from 'vega-lite'
import { barsSpec, type BarRow } from '../harness/charts.js'
import { mdTable, num, rps } from '../harness/markdown.js'
import type { ReuseResult } from './run-reuse.js'

const ratioText = (x: number): string => (x === Infinity ? '∞ (no new connection)' : num(x))

export function reuseMarkdown(r: ReuseResult, charts: { name: string; file: string; error?: string }[]): string {
  const label = (id: string): string => r.variants.find((v) => v.id === id)?.label ?? id
  const out: string[] = []
  const m = r.machine
  out.push(`# gwp connection reuse — ${r.name} (${r.flavour})`, '')
  out.push(`Run ${r.startedAt} → ${r.finishedAt} (${r.durationS - (r.waitedS ?? 0)} s measuring${r.waitedS ? `, after ${r.waitedS} s waiting for other benchmarks or a busy machine` : ''}), commit \`${m.commit ?? '?'}\`${m.dirty ? ' (with uncommitted changes)' : ''}, node ${m.node}, ${m.cpus} × ${m.cpuModel}.`, '')
  out.push(`- CPU placement: ${r.cpuPlan}.`)
  out.push(`- Machine load (shared; \`uptime\` 1/5/15 min): ` + r.load.map((l) => `${l.phase} ${l.loadavg.join('/')}`).join(', ') + '.')
  for (const n of r.notes ?? []) out.push(`- ${n}`)
  out.push(`- One gw per variant, each with a one-route policy to one stub replica that answers in ${r.config.upstreamLatencyMs} ms. ` +
    `keep-alive off = the replica answers \`Connection: close\`, so undici opens a connection per request. ` +
    `New connections and the reuse ratio come from gw's own counters (\`gw_upstream_connections_opened_total\`, \`gw_upstream_dispatched_total\`); ` +
    `fds are gw's, sampled every 100 ms during each window. Variants run interleaved, ${r.config.rounds} rounds; figures are medians.`, '')
  for (const s of r.scenarios) {
    out.push(`## ${s.title}`, '')
    out.push(mdTable(['variant', 'req/s', 'p50 ms', 'p99 ms', 'new upstream conns/s', 'requests per connection', 'gw fds median / max', 'CPU µs/req', 'errors'],
      s.summary.map((v) => [label(v.variant), rps(v.rps), num(v.p50), num(v.p99), num(v.newConnectionsPerS), ratioText(v.reuseRatio),
        `${rps(v.fdsMedian)} / ${rps(v.fdsMax)}`, num(v.cpuUsPerRequest), v.errors])), '')
  }
  if (r.soak.length > 0) {
    out.push(`## Soak: steady-state reuse (${r.soak[0].durationS} s per variant, ${r.config.concurrency} concurrent)`, '')
    out.push('"steady" is dispatched ÷ opened within the soak (warm pool); "since start" is the metric ratio `gw_upstream_dispatched_total / gw_upstream_connections_opened_total` over the gw process\'s life.', '')
    out.push(mdTable(['variant', 'requests', 'new conns', 'new conns/s', 'requests per connection (steady)', 'since start', 'req/s', 'p99 ms', 'fds median / max'],
      r.soak.map((s) => [label(s.variant), rps(s.dispatched), rps(s.opened), num(s.newConnectionsPerS), ratioText(s.steadyRatio), ratioText(s.cumulativeRatio),
        rps(s.rps), num(s.p99), `${rps(s.fdsMedian)} / ${rps(s.fdsMax)}`])), '')
  }
  if (charts.length > 0) {
    out.push('## Charts', '')
    for (const c of charts) out.push(c.error === undefined ? `![${c.name}](${c.file})` : `- ${c.name}: not rendered (${c.error})`)
    out.push('')
  }
  return out.join('\n')
}

export function reuseCharts(r: ReuseResult): { name: string; spec: TopLevelSpec }[] {
  const order = r.variants.map((v) => v.id)
  const charts: { name: string; spec: TopLevelSpec }[] = []
  for (const s of r.scenarios) {
    const rows: BarRow[] = []
    for (const v of s.summary) {
      rows.push({ group: v.variant, measure: 'req/s', value: v.rps }, { group: v.variant, measure: 'p99 ms', value: v.p99 },
        { group: v.variant, measure: 'new upstream conns/s', value: v.newConnectionsPerS }, { group: v.variant, measure: 'gw fds (max)', value: v.fdsMax })
    }
    charts.push({ name: s.id, spec: barsSpec(rows, `connection reuse: ${s.title}`, order, ['req/s', 'p99 ms', 'new upstream conns/s', 'gw fds (max)']) })
  }
  return charts
}
