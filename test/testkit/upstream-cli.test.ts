// test/testkit/upstream-cli.test.ts: the stub CLI as a separate process: a topology file hosting several services,
// one line per replica, requests served with the file's rules, clean exit on SIGTERM, exit 2 on bad usage.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { repoPath } from '../helpers/paths.js'

const MAIN = repoPath('dist/testkit/upstream/main.js')
const agent = new Agent()
let dir: string
const children: ChildProcess[] = []
before(async () => { dir = await mkdtemp(join(tmpdir(), 'stub-cli-')) })
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await agent.close()
  await rm(dir, { recursive: true, force: true })
})

/** Start the CLI and resolve with its first `n` stdout lines. */
async function run(args: string[], n: number): Promise<{ child: ChildProcess; lines: string[] }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let stderr = ''
  child.stderr!.on('data', (d) => { stderr += d })
  const lines: string[] = []
  const rl = createInterface({ input: child.stdout! })
  for await (const line of rl) { lines.push(line); if (lines.length === n) break }
  assert.equal(lines.length, n, `expected ${n} lines, stderr: ${stderr}`)
  return { child, lines }
}

test('a topology file starts every replica, prints one line each, and SIGTERM exits 0', async () => {
  const topo = join(dir, 'topology.yaml')
  await writeFile(topo, [
    '- name: payments',
    '  ports: [0, 0]',
    '  rules: [{ path: /v1/payments, status: 202 }]',
    '- { name: catalog, ports: [0] }',
  ].join('\n'))
  const { child, lines } = await run(['--topology', topo, '--seed', '42'], 3)
  const replicas = lines.map((l) => {
    const m = /^listening (\S+) (http:\/\/127\.0\.0\.1:\d+)$/.exec(l)
    assert.ok(m, l)
    return { name: m[1], url: m[2] }
  })
  assert.deepEqual(replicas.map((r) => r.name), ['payments-1', 'payments-2', 'catalog-1'])
  for (const r of replicas) {
    const res = await request(r.url + '/v1/payments/1', { dispatcher: agent })
    assert.equal(res.headers['x-stub-replica'], r.name)
    assert.equal(res.statusCode, r.name.startsWith('payments') ? 202 : 200)
    await res.body.dump()
  }
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})

test('--listen with --name and --config; SIGINT exits 0', async () => {
  const cfg = join(dir, 'rules.json')
  await writeFile(cfg, JSON.stringify({ rules: [{ path: '/', error: { rate: 1, status: 503 } }] }))
  const { child, lines } = await run(['--listen', '127.0.0.1:0', '--listen', '0', '--name', 'orders', '--config', cfg], 2)
  assert.match(lines[0], /^listening orders-1 http:\/\/127\.0\.0\.1:\d+$/)
  assert.match(lines[1], /^listening orders-2 http:\/\/127\.0\.0\.1:\d+$/)
  const res = await request(lines[1].split(' ')[2] + '/x', { dispatcher: agent })
  assert.equal(res.statusCode, 503)
  await res.body.dump()
  child.kill('SIGINT')
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})

test('bad usage exits 2 with a message', async () => {
  for (const args of [[], ['--listen', 'nope'], ['--bogus'], ['--config', join(dir, 'missing.yaml')]]) {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    const [code] = await once(child, 'exit')
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`)
    assert.match(stderr, /^main\.js: /)
  }
})
