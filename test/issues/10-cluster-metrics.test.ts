// Issue 10 (gaps): with --workers, the summed counters went down when a worker died (Prometheus reads that
// as a reset), and gw_reloads_total counted each reload once per worker and never counted refused or
// unchanged ones. Now a dead worker's last counter and histogram values stay in the sum, and the primary
// counts reloads once per gateway reload, by result. Checked through the admin /metrics of a real gateway.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { startStub } from '../../testkit/upstream/stub.js'
import { metric } from '../helpers/gateway.js'
import { getText, startGw } from '../helpers/gw-process.js'

const policy = (upstream: number, tag: string) => `
upstream web { replicas 127.0.0.1:${upstream} }
route tag { match path "/tag"; timeout 1s; respond 200 text "${tag}" }
route api { match path prefix "/api"; timeout 5s; proxy web }
`

/** Every counter and histogram series of a Prometheus text: `name{labels}` → value. */
function cumulative(text: string): Map<string, number> {
  const kinds = new Map<string, string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) kinds.set(m[1], m[2])
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([^{ ]+)(\{.*\})? (\S+)$/.exec(line)
    if (m === null) continue
    const base = m[1].replace(/_(bucket|sum|count)$/, '')
    const kind = kinds.get(m[1]) ?? kinds.get(base)
    if (kind === 'counter' || kind === 'histogram') out.set(m[1] + (m[2] ?? ''), Number(m[3]))
  }
  return out
}

const scrape = async (adminUrl: string) => (await request(adminUrl + '/metrics')).body.text()

test('--workers 2: a dead worker takes nothing out of the sums; reloads are counted once each, by result', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 1 }] })
  const dir = mkdtempSync(join(tmpdir(), 'gw-cm-'))
  const file = join(dir, 'p.gwp')
  writeFileSync(file, policy(stub.replicas[0].port, 'v0'))
  const gw = await startGw([file, '--workers', '2'])
  try {
    // fresh connections: the primary hands them to both workers
    const answers = await Promise.all(Array.from({ length: 40 }, () => getText(gw.url + '/api/x')))
    assert.equal(answers.filter(a => a.startsWith('error:')).length, 0)
    const before = await scrape(gw.adminUrl)
    assert.equal(metric(before, 'gw_requests_total', { route: 'api', code: '2xx' }), 40)
    const workers = [...new Set(gw.logs().filter(l => l.msg === 'gw listening').map(l => l.pid))]
    assert.equal(workers.length, 2)

    process.kill(workers[0], 'SIGKILL')
    await gw.waitLog(l => l.msg === 'worker died; starting another', 10_000, 'the primary noticing the death')
    await gw.waitLog(l => l.msg === 'gw listening' && !workers.includes(l.pid), 30_000, 'the replacement worker')
    const after = await scrape(gw.adminUrl)
    const was = cumulative(before)
    const now = cumulative(after)
    const down = [...was].filter(([k, v]) => (now.get(k) ?? 0) < v).map(([k, v]) => `${k}: ${v} → ${now.get(k)}`)
    assert.deepEqual(down, [], 'no counter or histogram series went down')
    assert.equal(metric(after, 'gw_requests_total', { route: 'api', code: '2xx' }), 40)
    await Promise.all(Array.from({ length: 10 }, () => getText(gw.url + '/api/y')))
    assert.equal(metric(await scrape(gw.adminUrl), 'gw_requests_total', { route: 'api', code: '2xx' }), 50, 'new requests add to the kept total')

    // reloads: one of each result, each counted once for the gateway (not once per worker)
    const reload = async () => { const r = await request(gw.adminUrl + '/config/reload', { method: 'POST' }); await r.body.dump(); return r.statusCode }
    assert.equal(await reload(), 200) // unchanged
    writeFileSync(file, policy(stub.replicas[0].port, 'v1'))
    assert.equal(await reload(), 200) // applied
    writeFileSync(file, 'route broken { match path "/x"; timeout 1s; proxy nowhere }\n')
    assert.equal(await reload(), 422) // refused
    const text = await scrape(gw.adminUrl)
    for (const result of ['applied', 'unchanged', 'refused']) assert.equal(metric(text, 'gw_reloads_total', { result }), 1, `${result}:\n${text.split('\n').filter(l => l.includes('reloads')).join('\n')}`)
    // a SIGHUP reload counts the same way
    writeFileSync(file, policy(stub.replicas[0].port, 'v2'))
    gw.proc.kill('SIGHUP')
    await gw.waitLog(l => l.trigger === 'signal' && l.msg === 'bundle reloaded in every worker', 10_000, 'the SIGHUP reload')
    assert.equal(metric(await scrape(gw.adminUrl), 'gw_reloads_total', { result: 'applied' }), 2)
  } finally {
    await gw.stop()
    await stub.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
