// lab/test/experiments-tools.test.ts: the experiments' instruments against a real local server — the tracer keeps
// every response (status, kept headers, transport errors), the phased load switches behaviour on schedule with an
// action at the boundary, the poller samples on its interval — and the timeline chart renders with its events.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { renderSvg } from '../harness/charts.js'
import { timelineSpec, toRows } from '../experiments/charts.js'
import { runPhasedLoad } from '../experiments/phases.js'
import { startPoller } from '../experiments/poller.js'
import { startTrace } from '../experiments/tracer.js'

let server: Server
let url = ''
let failing = false
let hits = 0

before(async () => {
  server = createServer((req, res) => {
    hits++
    if (req.url === '/close') { req.socket.destroy(); return }
    res.writeHead(failing ? 503 : 200, { 'x-version': failing ? 'bad' : 'good', 'content-type': 'text/plain' })
    res.end('x')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }))

test('the tracer keeps every response with its due time, status and the headers asked for', async () => {
  failing = false
  const t0 = Date.now()
  const records = await startTrace({ url, rate: 200, durationMs: 500, mix: [{ path: '/a' }, { path: '/close' }], keep: ['x-version', 'x-absent'] }).done
  assert.equal(records.length, 100)
  const ok = records.filter((r) => r.status === 200)
  const cut = records.filter((r) => r.status === 0)
  assert.equal(ok.length, 50)
  assert.equal(cut.length, 50, 'a closed connection is a transport error, not a response')
  assert.ok(cut.every((r) => r.error !== undefined && r.message !== undefined))
  assert.ok(ok.every((r) => r.headers?.['x-version'] === 'good' && !('x-absent' in r.headers) && r.i === 0))
  const dues = records.map((r) => r.due).sort((a, b) => a - b)
  assert.ok(dues[0] >= t0 && dues[99] - dues[0] < 600, 'due times follow the schedule (5 ms apart)')
  assert.ok(records.every((r) => r.end >= r.due && r.ms >= 0))
})

test('stop() ends a trace early; requests in flight still settle', async () => {
  const tr = startTrace({ url, rate: 100, durationMs: 10_000, mix: [{ path: '/a' }] })
  setTimeout(() => tr.stop(), 200)
  const records = await tr.done
  assert.ok(records.length > 5 && records.length < 40, `${records.length} records`)
})

test('phases run on schedule, each with its own result, the action taken at the boundary', async () => {
  failing = false
  const origin = Date.now() + 50
  const runs = await runPhasedLoad({
    url, mix: [{ method: 'GET', path: '/p' }], rate: 200, origin,
    phases: [{ id: 'good', startS: 0, endS: 0.5 }, { id: 'bad', startS: 0.5, endS: 1, action: async () => { failing = true } }],
  })
  failing = false
  assert.deepEqual(runs.map((r) => r.id), ['good', 'bad'])
  // A request due just before the boundary may leave a moment after it (timer granularity): a few, never many.
  assert.ok((runs[0].result.status['503'] ?? 0) <= 3 && runs[0].result.status['200'] >= 95, JSON.stringify(runs[0].result.status))
  assert.deepEqual(Object.keys(runs[1].result.status), ['503'])
  assert.ok(Math.abs(runs[1].actionAt - (origin + 500)) < 50, 'the action runs at the phase start')
  for (const r of runs) assert.ok(Math.abs(r.result.requests.sent - 100) <= 3, `${r.id}: ${r.result.requests.sent} sent`)
})

test('the poller samples on its interval and leaves a gap when a read fails', async () => {
  let n = 0
  const p = startPoller(20, async () => { n++; if (n === 3) throw new Error('down'); return { n } })
  await new Promise((r) => setTimeout(r, 150))
  const samples = await p.stop()
  assert.ok(samples.length >= 4, `${samples.length} samples`)
  assert.ok(!samples.some((s) => s.values.n === 3), 'the failed read left no sample')
  for (let i = 1; i < samples.length; i++) assert.ok(samples[i].at - samples[i - 1].at >= 15)
})

test('the timeline chart stacks its panels, colours series alike, and marks events', async () => {
  const rows = [...toRows('p99', 'off', [{ t: 0, value: 2 }, { t: 1, value: 3 }]), ...toRows('p99', 'on', [{ t: 0, value: 2 }, { t: 1, value: 0 }]),
    ...toRows('state', 'on', [{ t: 0, value: 0 }, { t: 1.5, value: 2 }])]
  const spec = timelineSpec(rows, {
    title: 'containment', seriesOrder: ['off', 'on'], events: [{ t: 1, label: 'goes bad' }],
    panels: [{ id: 'p99', title: 'p99 (ms, log)', log: true }, { id: 'state', title: 'breaker', step: true, domain: [0, 2] }],
  }) as Record<string, any>
  assert.equal(spec.vconcat.length, 2)
  assert.equal(spec.vconcat[0].layer[0].data.values.length, 3, 'a zero cannot be drawn on a log axis')
  assert.equal(spec.vconcat[1].layer[0].mark.interpolate, 'step-after')
  assert.equal(spec.vconcat[0].layer.length, 3, 'lines, the event rule and its label')
  assert.equal(spec.vconcat[1].layer.length, 2, 'labels only in the top panel')
  const svg = await renderSvg(spec as never)
  assert.match(svg, /^<svg/)
  assert.match(svg, /goes bad/)
  assert.match(svg, /containment/)
})

test('a benchmark that only waits its turn is not active; one that started processes is', async () => {
  const { spawn } = await import('node:child_process')
  const { isActive } = await import('../harness/quiet.js')
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  const parent = spawn(process.execPath, ['-e', "require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); setInterval(() => {}, 1000)"], { stdio: 'ignore' })
  try {
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(await isActive(idle.pid!, 300), false)
    assert.equal(await isActive(parent.pid!, 300), true)
  } finally {
    const { processTree } = await import('../probe/tree-reader.js')
    for (const p of [...processTree(parent.pid!)].reverse()) try { process.kill(p.pid, 'SIGKILL') } catch { /* gone */ }
    idle.kill('SIGKILL')
  }
})
