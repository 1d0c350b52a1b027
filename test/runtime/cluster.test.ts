// `gw run --workers 2`: two processes share the client port; the primary aggregates metrics, reloads every
// worker with the same bundle, and drains them all on SIGTERM.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { startStub } from '../../testkit/upstream/stub.js'
import { spawnGateway } from '../policies/fixtures.js'
import { metric } from '../helpers/gateway.js'
import { spawnGw } from '../helpers/gw-process.js'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const policy = (port: number, tag: string) => `
upstream web { replicas 127.0.0.1:${port} }
route api { match path prefix "/api"; timeout 5s; headers response set X-Version "${tag}"; proxy web }
`

test('two workers serve one port, metrics add up, a reload reaches both, SIGTERM drains both', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 2 }] })
  const log = join(mkdtempSync(join(tmpdir(), 'gw-cluster-')), 'access.log')
  const gw = await spawnGateway(policy(stub.replicas[0].port, 'v1'), ['--workers', '2', '--log-destination', log, '--log-level', 'info'], { accessLog: true })
  const file = /run (\S+\.gwp)/.exec(gw.proc.spawnargs.join(' '))![1]
  try {
    // fresh connections, so the primary's round robin hands them to both workers
    const call = async () => { const a = new Agent(); const r = await request(gw.url + '/api/x', { dispatcher: a }); await r.body.dump(); await a.close(); return String(r.headers['x-version']) }
    const before = await Promise.all(Array.from({ length: 40 }, call))
    assert.deepEqual([...new Set(before)], ['v1'])
    const text = await (await request(gw.adminUrl + '/metrics')).body.text()
    assert.equal(metric(text, 'gw_requests_total', { route: 'api', code: '2xx' }), 40, 'the primary adds up both workers')
    writeFileSync(file, policy(stub.replicas[0].port, 'v2'))
    const r = await request(gw.adminUrl + '/config/reload', { method: 'POST' })
    assert.equal(r.statusCode, 200)
    assert.equal((await r.body.json() as { changed: boolean }).changed, true)
    const after = await Promise.all(Array.from({ length: 40 }, call))
    assert.deepEqual([...new Set(after)], ['v2'], 'every worker serves the new bundle')
    const exited = new Promise<number | null>(res => gw.proc.once('exit', code => res(code)))
    gw.proc.kill('SIGTERM')
    assert.equal(await exited, 0)
    // access lines come from two worker processes
    await new Promise(res => setTimeout(res, 100))
    const pids = new Set(readFileSync(log, 'utf8').split('\n').filter(l => l.includes('"msg":"access"')).map(l => JSON.parse(l).pid))
    assert.equal(pids.size, 2, `access lines from ${pids.size} worker(s)`)
  } finally {
    await gw.stop()
    await stub.close()
  }
})

test('a worker that cannot start fails the start-up (exit 1, the reason printed) instead of being replaced forever', { timeout: 60_000 }, async () => {
  const taken = createServer()
  await new Promise<void>(r => taken.listen(0, '127.0.0.1', () => r()))
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-'))
  writeFileSync(join(dir, 'p.gwp'), 'route r { match path "/r"; timeout 1s; respond 200 text "x" }\n')
  const gw = spawnGw([join(dir, 'p.gwp'), '--workers', '2', '--listen', `127.0.0.1:${(taken.address() as AddressInfo).port}`])
  try {
    const hung = setTimeout(() => gw.proc.kill('SIGKILL'), 40_000) // a primary that keeps replacing it never exits
    const exit = await gw.exited
    clearTimeout(hung)
    assert.deepEqual(exit, { code: 1, signal: null })
    assert.match(gw.stderr(), /gw: a worker could not start: .*EADDRINUSE/)
  } finally {
    await gw.stop()
    taken.close()
  }
})
