// Hot reload and graceful shutdown of a real `gw run` process under steady load: a reload applies within a
// second and drops nothing; a broken policy never goes live; SIGTERM lets in-flight requests finish, reports
// them as drained, and refuses nothing that was already accepted.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import { startStub } from '../../testkit/upstream/stub.js'
import { spawnGateway, steady, tally } from '../policies/fixtures.js'

const policy = (port: number, tag: string, timeout = '5s') => `
upstream web { replicas 127.0.0.1:${port} }
route api { match path prefix "/api"; timeout ${timeout}; headers response set X-Version "${tag}"; proxy web }
`

test('reloads under load apply within a second and drop no request; a broken policy is refused', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: { dist: 'uniform', min: 1, max: 20 } }] })
  const gw = await spawnGateway(policy(stub.replicas[0].port, 'v1'))
  const file = /run (\S+\.gwp)/.exec(gw.proc.spawnargs.join(' '))![1]
  const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })
  try {
    const versions: string[] = []
    const applied: number[] = []
    const reloads: Promise<void>[] = []
    let n = 1
    const shots = await steady(200, 3000, async () => {
      const r = await request(gw.url + '/api/x', { dispatcher: agent })
      await r.body.dump()
      versions.push(String(r.headers['x-version']))
      return r.statusCode
    }, elapsed => {
      // every ~600 ms: write a new version and ask for a reload (one of them broken)
      if (elapsed < n * 600 || n > 4) return
      const tag = `v${++n}`
      const broken = n === 3
      reloads.push((async () => {
        await writeFile(file, broken ? 'route api { match path prefix "/api"; proxy nowhere }' : policy(stub.replicas[0].port, tag))
        const t0 = performance.now()
        const r = await request(gw.adminUrl + '/config/reload', { method: 'POST' })
        const body = await r.body.json() as { applied: boolean }
        if (broken) assert.equal(r.statusCode, 422, 'a broken policy is refused')
        else { assert.equal(r.statusCode, 200); assert.ok(body.applied); applied.push(performance.now() - t0) }
      })())
    })
    await Promise.all(reloads)
    const statuses = tally(shots.map(s => s.status))
    assert.deepEqual(statuses, { 200: shots.length }, `every request under reload succeeded: ${JSON.stringify(statuses)}`)
    assert.ok(applied.length >= 2)
    for (const ms of applied) assert.ok(ms < 1000, `reload took ${ms.toFixed(0)} ms`)
    // versions only move forward, and the broken one never went live
    assert.ok(!versions.includes('v3'))
    assert.ok(versions.includes('v1') && versions.includes('v4'), JSON.stringify([...new Set(versions)]))
  } finally {
    await agent.destroy()
    await gw.stop()
    await stub.close()
  }
})

test('SIGTERM drains in-flight requests, reports drained vs aborted, and exits 0', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 600 }] })
  const gw = await spawnGateway(policy(stub.replicas[0].port, 'v1'), ['--drain-timeout', '5s', '--log-level', 'info'])
  const agent = new Agent({ connections: 16 })
  try {
    const inflight = Array.from({ length: 10 }, () => request(gw.url + '/api/slow', { dispatcher: agent }).then(async r => { await r.body.dump(); return r.statusCode }, () => 0))
    await new Promise(r => setTimeout(r, 200)) // all ten are at the upstream
    const health = await request(gw.adminUrl + '/healthz')
    assert.equal(health.statusCode, 200)
    await health.body.dump()
    const exited = new Promise<number | null>(r => gw.proc.once('exit', code => r(code)))
    gw.proc.kill('SIGTERM')
    await new Promise(r => setTimeout(r, 100))
    // draining: the admin still answers, and says so (take the replica out of the load balancer)
    const draining = await request(gw.adminUrl + '/healthz').then(async r => { await r.body.dump(); return r.statusCode }, () => 0)
    assert.equal(draining, 503)
    // a new connection is refused while draining
    const late = await request(gw.url + '/api/late', { dispatcher: new Agent() }).then(() => 'served', e => (e as Error & { code?: string }).code ?? 'error')
    assert.notEqual(late, 'served')
    assert.deepEqual(await Promise.all(inflight), Array(10).fill(200), 'every in-flight request completed')
    assert.equal(await exited, 0)
    assert.match(gw.stderr(), /drained 10, aborted 0, late 0, unanswered 0, reset 0, tunnels 0\n/)
  } finally {
    await agent.destroy()
    await gw.stop()
    await stub.close()
  }
})

test('requests still running at the drain deadline are aborted and counted', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 5000 }] })
  const gw = await spawnGateway(policy(stub.replicas[0].port, 'v1', '10s'), ['--drain-timeout', '300ms'])
  const agent = new Agent({ connections: 8 })
  try {
    const inflight = Array.from({ length: 3 }, () => request(gw.url + '/api/slow', { dispatcher: agent }).then(() => 'answered', () => 'cut'))
    await new Promise(r => setTimeout(r, 200))
    const t0 = performance.now()
    const exited = new Promise<number | null>(r => gw.proc.once('exit', code => r(code)))
    gw.proc.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.ok(performance.now() - t0 < 3000, 'the drain deadline bounds shutdown')
    assert.deepEqual(await Promise.all(inflight), ['cut', 'cut', 'cut'])
    // each cut request's connection is destroyed with the request in progress: counted as reset
    assert.match(gw.stderr(), /drained 0, aborted 3, late 0, unanswered 0, reset 3, tunnels 0\n/)
  } finally {
    await agent.destroy()
    await gw.stop()
    await stub.close()
  }
})
