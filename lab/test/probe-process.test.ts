// lab/test/probe-process.test.ts: the preloaded probe measures the child's CPU and heap, not the parent's,
// over an IPC-driven window.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnProbed, perRequest, type ProbedProcess } from '../probe/index.js'

// A server that burns 200 ms of its own CPU on /burn and allocates ~8.2 MB of V8 heap on /alloc
// (1000 arrays of 1024 small integers: 16 + 1024 × 8 bytes of elements and a 32-byte JSArray each).
const SERVER = `
import http from 'node:http'
const server = http.createServer((req, res) => {
  if (req.url === '/burn') {
    const c0 = process.cpuUsage()
    for (;;) { const c = process.cpuUsage(c0); if (c.user + c.system >= 200000) break }
  } else if (req.url === '/alloc') {
    const keep = []
    for (let i = 0; i < 1000; i++) { const a = new Array(1024); for (let j = 0; j < 1024; j++) a[j] = j; keep.push(a) }
    globalThis.sink = keep.length
  }
  res.end('done')
})
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port))
`
const ALLOC_PER_REQUEST = 1000 * (16 + 1024 * 8 + 32)

let dir = ''
let child: ProbedProcess
let base = ''

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gwp-probe-test-'))
  writeFileSync(join(dir, 'server.mjs'), SERVER)
  child = spawnProbed(process.execPath, [join(dir, 'server.mjs')], { ready: /^listening \d+/ })
  const line = await child.ready
  base = `http://127.0.0.1:${line.split(' ')[1]}`
})

after(async () => {
  await child.kill()
  rmSync(dir, { recursive: true, force: true })
})

function burnOwnCpu(ms: number): void {
  const c0 = process.cpuUsage()
  for (;;) { const c = process.cpuUsage(c0); if (c.user + c.system >= ms * 1000) break }
}

test("CPU is the child's: ~200 ms burned there, while the parent's own 300 ms is not counted", async () => {
  await child.start({ countRequests: true })
  const pending = fetch(base + '/burn').then((r) => r.text())
  burnOwnCpu(300) // runs on the other core while the child burns
  assert.equal(await pending, 'done')
  const r = await child.stop()
  assert.equal(r.pid, child.proc.pid)
  assert.equal(r.requests, 1)
  const ms = r.cpu.totalUs / 1000
  assert.ok(ms >= 190 && ms <= 350, `child CPU ${ms} ms`)
  assert.equal(r.cpu.totalUs, r.cpu.userUs + r.cpu.systemUs)
  assert.ok(r.cpu.share > 0 && r.cpu.share <= 2.5)
  assert.ok(r.eventLoopDelayMs.max >= 150, `the 200 ms burn blocked the loop: ${JSON.stringify(r.eventLoopDelayMs)}`)
  assert.ok(r.fds.start > 0 && r.fds.end > 0)
  assert.ok(r.rssBytes.end > 10e6)
})

test('heap bytes allocated match a known per-request allocation', async () => {
  await child.start()
  for (let i = 0; i < 5; i++) assert.equal(await (await fetch(base + '/alloc')).text(), 'done')
  const r = await child.stop()
  assert.equal(r.requests, undefined)
  const per = perRequest(r, 5)
  assert.ok(per.heapBytesPerRequest !== undefined)
  // Lower bound: the arrays themselves. Upper: plus the request handling and the growth of `keep` (~20 KB).
  assert.ok(per.heapBytesPerRequest >= ALLOC_PER_REQUEST * 0.97, `${per.heapBytesPerRequest} < ${ALLOC_PER_REQUEST}`)
  assert.ok(per.heapBytesPerRequest <= ALLOC_PER_REQUEST * 1.15, `${per.heapBytesPerRequest} ≫ ${ALLOC_PER_REQUEST}`)
  assert.ok(r.gc.count > 0 && r.gc.timeMs > 0, JSON.stringify(r.gc))
  assert.ok(r.heap.freedByGcBytes > 0)
})

test('windows repeat, and a stop without a start is an error reply, not a crash', async () => {
  await assert.rejects(child.stop(), /stop\(\) without start\(\)/)
  await child.start()
  await assert.rejects(child.start(), /already started/)
  const r = await child.stop()
  assert.ok(r.wallMs >= 0 && r.cpu.totalUs >= 0)
})
