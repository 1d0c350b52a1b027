// test/testkit/load-closed.test.ts: the closed model's throughput is bounded by concurrency / latency, and
// every response is counted by status and by bytes without being kept.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runClosed, formatSummary, type LoadResult } from '../../testkit/load/index.js'
import { repoPath } from '../helpers/paths.js'

let server: http.Server
let url = ''
let maxInFlight = 0
let inFlight = 0
const BIG = Buffer.alloc(10 * 1024, 'b')

before(async () => {
  server = http.createServer((req, res) => {
    req.resume()
    if (req.url === '/big') return res.end(BIG)
    if (req.url === '/fail') { res.statusCode = 503; return res.end('no') }
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    setTimeout(() => { inFlight--; res.end('ok') }, 20)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => { server.closeAllConnections(); await new Promise((r) => server.close(r)) })

test('throughput is bounded by concurrency / latency and never more than C requests are in flight', async () => {
  maxInFlight = 0
  const r = await runClosed({ url: url + '/slow', concurrency: 4, durationMs: 1000 })
  assert.equal(r.model, 'closed')
  assert.match(r.description, /^closed model: 4 concurrent workers/)
  const bound = 4 / 0.020 // 200 req/s
  assert.ok(r.rate.completed <= bound * 1.05, `throughput ${r.rate.completed} > bound ${bound}`)
  assert.ok(r.rate.completed >= bound * 0.5, `throughput ${r.rate.completed} far below ${bound}`)
  assert.ok(maxInFlight <= 4, `in flight ${maxInFlight}`)
  assert.ok(r.latencyMs.p50 >= 20, `p50 ${r.latencyMs.p50}`)
  assert.ok(r.connections.opened <= 4, `opened ${r.connections.opened}`)
  assert.equal(r.requests.completed, r.requests.sent)
  assert.equal(r.errors.total, 0)
})

test('response bodies are consumed and counted, statuses >= 400 are errors by status', async () => {
  const r = await runClosed({
    url, concurrency: 2, durationMs: 300,
    mix: [{ path: '/big', weight: 1 }, { path: '/fail', weight: 1 }],
  })
  assert.ok(r.requests.completed > 10)
  const big = r.status['200']
  const fail = r.status['503']
  assert.ok(Math.abs(big - fail) <= 2, `200: ${big}, 503: ${fail}`)
  assert.equal(r.bytes.received, big * BIG.length + fail * 2)
  assert.deepEqual(r.errors.byStatus, { 503: fail })
  assert.equal(r.requests.ok, big)
  assert.match(formatSummary(r), /errors {2}503: \d+/)
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)))
})

async function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = spawn(process.execPath, [repoPath('dist/testkit/load/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  c.stdout.on('data', (d) => { out += String(d) })
  c.stderr.on('data', (d) => { err += String(d) })
  const [code] = await once(c, 'exit')
  return { code: code as number | null, out, err }
}

test('the CLI prints a summary, writes the JSON result, and rejects bad usage with exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwp-load-cli-'))
  try {
    const file = join(dir, 'r.json')
    const ok = await cli(['--url', url + '/big', '--concurrency', '2', '--duration', '200ms', '--json', file])
    assert.equal(ok.code, 0, ok.err)
    assert.match(ok.out, /^closed model: 2 concurrent workers/)
    assert.match(ok.out, /latency ms {2}p50/)
    const r = JSON.parse(readFileSync(file, 'utf8')) as LoadResult
    assert.equal(r.model, 'closed')
    assert.ok(r.requests.completed > 0 && r.bytes.received === r.requests.completed * BIG.length)
    for (const bad of [['--rate', '10'], ['--url', url, '--rate', 'fast'], ['--url', url, '--rate', '1', '--concurrency', '1'], ['--url', url, '--rate', '5', '--duration', '10 parsecs']]) {
      const r2 = await cli(bad)
      assert.equal(r2.code, 2, bad.join(' '))
      assert.match(r2.err, /usage:/)
    }
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
