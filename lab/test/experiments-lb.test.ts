// lab/test/experiments-lb.test.ts: the rolling experiment's balancer as a process — round robin over two backends,
// one of them gone (connection refused): without help half the requests fail; a retry on the other backend, or a
// health check that takes the dead one out of rotation, each hides it.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { request } from 'undici'
import { deadUrl } from '../../test/helpers/dead-address.js'
import { repoPath } from '../../test/helpers/paths.js'

let live: Server
let liveUrl = ''
const dead = deadUrl()
const procs: ChildProcess[] = []

before(async () => {
  live = createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain', 'x-path': req.url ?? '' }); res.end('ok') })
  await new Promise<void>((r) => live.listen(0, '127.0.0.1', r))
  liveUrl = `http://127.0.0.1:${(live.address() as { port: number }).port}`
})

after(async () => {
  for (const p of procs) p.kill('SIGKILL')
  live.closeAllConnections()
  await new Promise<void>((r) => live.close(() => r()))
})

async function startLb(args: string[]): Promise<string> {
  const p = spawn(process.execPath, [repoPath('dist/lab/experiments/lb.js'), '--listen', '127.0.0.1:0', '--backend', `${liveUrl},${liveUrl}`, '--backend', `${dead},${dead}`, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  procs.push(p)
  return new Promise((resolve, reject) => {
    let out = ''
    p.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; const m = /lb ready (http:\/\/\S+)/.exec(out); if (m !== null) resolve(m[1]) })
    p.once('exit', (code) => reject(new Error(`lb exited ${code}`)))
  })
}

async function statuses(url: string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) { const r = await request(`${url}/x/${i}`); await r.body.dump(); out.push(r.statusCode) }
  return out
}

test('plain round robin sends every other request to the dead backend', async () => {
  const url = await startLb([])
  const s = await statuses(url, 10)
  assert.equal(s.filter((x) => x === 502).length, 5, JSON.stringify(s))
})

test('one retry on the other backend hides a refused connection; the stats count it', async () => {
  const url = await startLb(['--retry'])
  assert.deepEqual(await statuses(url, 10), Array(10).fill(200))
  const st = await (await request(`${url}/__lb/stats`)).body.json() as { retries: number; errors: number; backends: { requests: number }[] }
  assert.equal(st.retries, 5)
  assert.equal(st.errors, 0)
})

test('health checks take the dead backend out of rotation', async () => {
  const url = await startLb(['--health-ms', '50'])
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(await statuses(url, 10), Array(10).fill(200))
  const st = await (await request(`${url}/__lb/stats`)).body.json() as { backends: { healthy: boolean; markedDown: number }[] }
  assert.deepEqual(st.backends.map((b) => b.healthy), [true, false])
  assert.equal(st.backends[1].markedDown, 1)
})
