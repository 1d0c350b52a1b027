// lab/tax/report.ts: the tax run as a reader sees it — markdown tables (goals first, then each scenario, the
// ratios, the early-answer check, the topology mix, the soak, the profile) and the chart specs rendered beside it.
import type { TopLevelSpec } from 'vega-lite'
import { latencySpec, rateSpec, seriesSpec, type LatencyRow, type RateRow, type SeriesRow } from '../harness/charts.js'
import { formatLoad } from '../harness/machine.js'
import { bytes, mdTable, num, pct, rps, signed, times } from '../harness/markdown.js'
import type { TaxResult } from './run-tax.js'
import type { TargetSummary } from './summary.js'
import { TARGETS } from './targets.js'
import { findingsMarkdown } from './findings.js'
import { MIB, slowGrowthMiB, unboundedMiB } from './transfers.js'

const label = (id: string): string => TARGETS.find((t) => t.id === id)?.label ?? (id.startsWith('gw-mix@') ? `gw topology mix @${id.slice(7)}` : id)
const ORDER = TARGETS.map((t) => t.id as string)

function scenarioTable(rows: TargetSummary[]): string {
  return mdTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'added p99 ms', 'CPU µs/req', 'proxy CPU', 'req/s per proxy core', 'heap B/req', 'GC', 'ELD p99 / max ms', 'upstream conns', 'fds start→end', 'errors'],
    rows.map((s) => [
      label(s.target),
      rps(s.rps) + (s.rounds > 1 ? ` (${rps(s.rpsRange[0])}–${rps(s.rpsRange[1])})` : ''),
      num(s.p50), num(s.p99), num(s.p999),
      s.target === 'direct' ? '—' : signed(s.addedP99),
      num(s.cpuUsPerRequest), pct(s.cpuShare), rps(s.perCoreRps), s.heapBytesPerRequest === null ? '—' : bytes(s.heapBytesPerRequest),
      pct(s.gcShare), s.eventLoopDelayP99Ms === null ? '—' : `${num(s.eventLoopDelayP99Ms)} / ${num(s.eventLoopDelayMaxMs ?? null)}`, rps(s.upstreamConnections),
      s.fdsStart === null ? '—' : `${s.fdsStart}→${s.fdsEnd}`, s.errors,
    ]),
  )
}

export function taxMarkdown(r: TaxResult, charts: { name: string; file: string; error?: string }[]): string {
  const out: string[] = []
  const m = r.machine
  out.push(`# gwp tax table — ${r.name} (${r.flavour})`, '')
  out.push(`Run ${r.startedAt} → ${r.finishedAt} (${r.durationS - (r.waitedS ?? 0)} s measuring${r.waitedS ? `, after ${r.waitedS} s waiting for other benchmarks or a busy machine` : ''}), commit \`${m.commit ?? '?'}\`${m.dirty ? ' (with uncommitted changes)' : ''}, ` +
    `node ${m.node}, nginx ${m.nginx ?? 'not installed'}, ${m.cpus} × ${m.cpuModel}.`, '')
  out.push(`- CPU placement: ${r.cpuPlan}.`)
  out.push(`- Machine load (shared machine; \`uptime\`): ` + r.load.map((l) => `${l.phase} ${l.loadavg.join('/')}`).join(', ') +
    ` (1/5/15-minute load averages; ${m.cpus} CPUs).`)
  out.push(`- Each scenario runs its targets interleaved (A B C, A B C…) for ${r.config.rounds} rounds; a figure is the median over rounds, ` +
    `a ratio or an added latency is paired within each round, then the median. Costs (CPU, heap, GC, event-loop delay, fds) are the proxy ` +
    `process's over each measured window, per completed request; "upstream conns" are new TCP connections the stub accepted in a window.`)
  out.push(`- gw runs \`examples/bench.gwp\` (${r.config.tokens} pre-signed load tokens; each is verified once, then served from the verified-token cache) ` +
    `with the access log on (to /dev/null), request ids, traceparent propagation and metrics; every target gets the same request ` +
    `(\`GET /pass/42\`-shaped, Host api.bench.test, a traceparent), the auth targets a bearer token.`)
  const engines = r.engines ?? []
  if (engines.length > 0) {
    out.push(`- gw engines: ${engines.map((e) => `\`@${e}\` ${e === 'node' ? '(node:http + undici: before)' : '(gw\'s own HTTP/1.1 engine, GW_ENGINE=http1: after)'}`).join(', ')}; ` +
      'one gw process per engine serves its gw targets, pinned like every proxy.')
  }
  for (const n of r.notes) out.push(`- ${n}`)
  out.push('')

  out.push('## Goals', '')
  out.push(mdTable(['goal', 'result', 'measured'], r.goals.map((g) => [g.text, g.status,
    g.line + (g.perRound && g.perRound.length > 1 ? ` (rounds: ${g.perRound.map((x) => x.toFixed(2)).join(', ')})` : '') + (g.note ? `; ${g.note}` : '')]), ['l', 'l', 'l']), '')
  if (r.discarded.length > 0) {
    out.push(`${r.discarded.length} run(s) were run again because the load generator itself stalled (schedule lag p99 > ${r.config.disturbedLagMs} ms; ` +
      `${[...new Set(r.discarded.map((d) => d.run.target))].join(', ')})${r.discarded.length >= r.config.rerunBudget ? `; the re-run budget (${r.config.rerunBudget}) ran out, so later disturbed runs were kept (see the warnings)` : ''}. ` +
      'The set-aside runs are in the JSON (`discarded`), in no figure.', '')
  }

  for (const s of r.scenarios) {
    out.push(`## ${s.title}`, '')
    out.push(scenarioTable(s.summary), '')
    if (s.ratios.length > 0) {
      const refs = ['direct', 'floor', 'bytes', 'fastify', 'nginx'].filter((x) => s.summary.some((t) => t.target === x))
      const proxies = refs.filter((x) => x !== 'direct')
      // Added p99 ratios only for the open model: a closed run's latency is its own queue, not what the proxy adds.
      const p99s = s.spec.model === 'open' ? proxies : []
      out.push(mdTable(
        ['ratios', ...refs.map((x) => `req/s ÷ ${x}`), ...proxies.map((x) => `CPU/req ÷ ${x}`), ...p99s.map((x) => `added p99 ÷ ${x}'s`)],
        s.ratios.map((row) => [label(row.target), ...refs.map((x) => times(row.rps[x])), ...proxies.map((x) => times(row.cpu[x])), ...p99s.map((x) => times(row.addedP99[x]))]),
      ), '')
    }
    const warned = s.summary.filter((t) => t.warnings.length > 0)
    if (warned.length > 0) {
      out.push('<details><summary>load generator warnings</summary>', '')
      for (const t of warned) for (const w of t.warnings) out.push(`- ${t.target}: ${w}`)
      out.push('', '</details>', '')
    }
  }

  if (r.early.length > 0) {
    out.push('## Upstream answers before reading the body', '')
    out.push('A 1 MB POST to the stub\'s `/early` (answers 413 at once, then discards the rest of the body), over one raw connection; then a ' +
      '`GET /pass/1` on the same connection. Good = the answer arrived, the upload was not left hanging, and the next request worked (or the ' +
      'proxy announced `Connection: close` and closed).', '')
    out.push(mdTable(['target', 'good', 'answer ms (median)', 'status', 'upload done', 'next request', 'summary'], r.early.map((e) => {
      const a = e.attempts[0]
      return [e.target, `${e.good}/${e.attempts.length}`, num(e.medianAnswerMs), a?.status ?? '—',
        a?.uploadMs != null ? `${num(a.uploadMs)} ms` : `${a?.uploaded ?? 0} B`, a === undefined ? '—' : a.next.ok ? `${a.next.status} in ${num(a.next.ms)} ms` : a.next.why, e.summary]
    }), ['l', 'r', 'r', 'r', 'r', 'l', 'l']), '')
  }

  for (const mix of r.mixes ?? []) {
    out.push(`## (c) topology mix through ${label(mix.target).replace(/^gw topology mix /, 'gw')} at ${mix.rate} req/s`, '')
    const c = mix.classes
    out.push(`${c.routes} routes; ${pct(c.smallShare)} small JSON, ${pct(c.largeShare)} 1–10 MB bodies (1 MB and 10 MB uploads, 4 MiB downloads), ` +
      `${pct(c.sseShare)} SSE (5 events, 100 ms apart). The mix's latency includes the large bodies and streams; the small-route stream ` +
      `(${mix.probeRate} req/s of public GETs, sent alongside) shows what a small request sees meanwhile.`, '')
    if (mix.summary !== null) out.push(scenarioTable([mix.summary]), '')
    if (mix.smallRoutes !== null) out.push(`Small routes during the mix: p50 ${num(mix.smallRoutes.p50)} ms, p99 ${num(mix.smallRoutes.p99)} ms, p99.9 ${num(mix.smallRoutes.p999)} ms.`, '')
  }

  if (r.transfers != null) {
    const t = r.transfers
    out.push(`## ${t.config.bytes === MIB ? '1 MiB' : `${t.config.bytes} B`} transfers`, '')
    out.push(`Closed model, ${t.config.concurrency} concurrent clients, ${t.config.rounds} interleaved rounds of ${t.config.durationMs / 1000} s; downloads are the stub's ` +
      '`/bytes/N` (pattern bytes written with backpressure), uploads its `/upload` (hashed and dropped). gw runs a one-route policy here (every path ' +
      'to the same replicas, as the peers forward), one process per engine. CPU and heap per MiB moved; RSS and V8 heap peaks sampled every 25 ms in the proxy.', '')
    const row = (x: (typeof t.download)[number]): (string | number)[] => [label(x.target), num(x.mibPerS), num(x.cpuUsPerMiB), x.heapBytesPerMiB === null ? '—' : bytes(x.heapBytesPerMiB),
      x.rssPeakBytes === null ? '—' : `${num(x.rssPeakBytes / MIB)} MiB`, x.heapPeakBytes === null ? '—' : `${num(x.heapPeakBytes / MIB)} MiB`, x.errors]
    const head = ['target', 'MiB/s', 'CPU µs/MiB', 'heap B/MiB', 'RSS peak', 'heap peak', 'errors']
    if (t.download.length > 0) out.push('Downloads:', '', mdTable(head, t.download.map(row)), '')
    if (t.upload.length > 0) out.push('Uploads:', '', mdTable(head, t.upload.map(row)), '')
  }

  if ((r.slow ?? []).length > 0) {
    const one = r.slow[0]
    out.push('## Memory under slow readers', '')
    out.push(`${one.readers} clients at once, each asking for a ${num(one.bodyBytes / MIB)} MiB download and reading ${Math.round(one.rate / 1024)} KiB/s (it stops reading ` +
      `whenever it is ahead of that pace), hang up after ${one.ms / 1000} s. A proxy that buffered what the upstream sends would hold up to ` +
      `${num(unboundedMiB(one))} MiB; one that passes backpressure on holds its socket buffers.`, '')
    out.push(mdTable(['target', 'statuses', 'read in all', 'RSS at start', 'RSS peak', 'growth', 'V8 heap peak', 'errors'], r.slow.map((x) => {
      const g = slowGrowthMiB(x)
      return [label(x.target), [...new Set(x.statuses)].join('/'), `${num(x.bytesRead / MIB)} MiB`, x.rssStartBytes === null ? '—' : `${num(x.rssStartBytes / MIB)} MiB`,
        x.rssPeakBytes === null ? '—' : `${num(x.rssPeakBytes / MIB)} MiB`, g === null ? '—' : `${signed(g)} MiB`, x.heapPeakBytes === null ? '—' : `${num(x.heapPeakBytes / MIB)} MiB`,
        x.errors.length === 0 ? '—' : x.errors.join('; ')]
    })), '')
  }

  if (r.soak !== null) {
    out.push('## Soak', '', r.soak.summary, '')
    out.push(mdTable(['t s', 'req/s', 'p99 ms', 'errors', 'CPU µs/req', 'fds', 'heap MB', 'RSS MB', 'upstream conns'],
      r.soak.windows.map((w) => [num(w.t), rps(w.rps), num(w.p99Ms), w.errors, num(w.cpuUsPerRequest), w.fds ?? '—', num(w.heapUsedMB), num(w.rssMB), w.upstreamConnections])), '')
  }

  for (const p of r.profiles) {
    out.push(`## CPU profile: ${p.label}`, '')
    out.push(`${num(p.summary.totalMs)} ms of samples. By area: ` + p.summary.byArea.slice(0, 8).map((a) => `${a.area} ${pct(a.share)}`).join(', ') + '.', '')
    out.push(mdTable(['function', 'where', 'self ms', 'self'], p.summary.top.map((t) => [t.fn, t.where, num(t.selfMs), pct(t.selfShare)]), ['l', 'l', 'r', 'r']), '')
  }

  out.push(findingsMarkdown({
    ceiling: 'ceiling', r2500: 'rate-2500', records: r.runs, order: r.scenarios.find((x) => x.id === 'ceiling')?.targets ?? ORDER,
    transfers: r.transfers == null ? null : { download: r.transfers.download, upload: r.transfers.upload }, slow: r.slow ?? [], profiles: r.profiles,
    commit: m.commit ?? '?', resultName: r.name,
  }), '')

  if (charts.length > 0) {
    out.push('## Charts', '')
    for (const c of charts) out.push(c.error === undefined ? `![${c.name}](${c.file})` : `- ${c.name}: not rendered (${c.error})`)
    out.push('')
  }
  out.push(`Machine load at start: ${formatLoad(r.load[0], m.cpus)}; at end: ${formatLoad(r.load[r.load.length - 1], m.cpus)}.`, '')
  return out.join('\n')
}

export function taxCharts(r: TaxResult): { name: string; spec: TopLevelSpec }[] {
  const lat: LatencyRow[] = []
  for (const s of r.scenarios) {
    for (const t of s.summary) {
      lat.push({ scenario: s.id, target: label(t.target), percentile: 'p50', ms: t.p50 },
        { scenario: s.id, target: label(t.target), percentile: 'p99', ms: t.p99 },
        { scenario: s.id, target: label(t.target), percentile: 'p99.9', ms: t.p999 })
    }
  }
  const rate: RateRow[] = []
  for (const run of r.runs) {
    if (run.scenario === 'soak' || run.scenario === 'profile' || run.scenario === 'download-1mib' || run.scenario === 'upload-1mib') continue
    for (const s of run.load.series) {
      // A bucket covers [t, t+1) s of the window, the last one only part of a second: scale it to a rate. The
      // drain seconds after the window are left out.
      const width = Math.min(1, run.load.durationMs / 1000 - s.t)
      if (width <= 0.05) continue
      rate.push({ scenario: run.scenario, target: label(run.target), round: run.round, t: Math.round((run.startS + s.t) * 10) / 10, rps: Math.round(s.completed / width) })
    }
  }
  const order = ORDER.map(label)
  const charts: { name: string; spec: TopLevelSpec }[] = [
    { name: 'latency', spec: latencySpec(lat, `gwp tax table: latency percentiles per target (${r.flavour}, median of ${r.config.rounds} rounds)`, order) },
    { name: 'rps', spec: rateSpec(rate, 'completed req/s over time, per target (interleaved runs)', [...order, ...(r.mixes ?? []).map((x) => label(x.target))]) },
  ]
  if (r.soak !== null) {
    const rows: SeriesRow[] = []
    for (const w of r.soak.windows) {
      rows.push({ series: 'req/s', t: w.t, value: w.rps }, { series: 'fds', t: w.t, value: w.fds ?? NaN },
        { series: 'V8 heap used (MB)', t: w.t, value: w.heapUsedMB ?? NaN }, { series: 'RSS (MB)', t: w.t, value: w.rssMB ?? NaN })
    }
    charts.push({ name: 'soak', spec: seriesSpec(rows.filter((x) => Number.isFinite(x.value)), `soak: ${r.soak.target} at the ceiling`) })
  }
  return charts
}
