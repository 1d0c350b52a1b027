// lab/test/probe-tree.test.ts: the /proc reader sums CPU over a process tree (the way nginx master +
// workers are measured), counting a grandchild's burn and nothing of ours.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { createTreeProbe, readProcStat, processTree, clockTicks, perRequest } from '../probe/index.js'

const WORKER = `
console.log('worker ' + process.pid)
process.on('SIGUSR2', () => {
  const c0 = process.cpuUsage()
  for (;;) { const c = process.cpuUsage(c0); if (c.user + c.system >= 300000) break }
  console.log('burned')
})
setInterval(() => {}, 1000)
`
const MASTER = (worker: string): string => `
import { spawn } from 'node:child_process'
const w = spawn(process.execPath, [${JSON.stringify(worker)}], { stdio: ['ignore', 'inherit', 'inherit'] })
process.on('SIGTERM', () => { w.kill(); process.exit(0) })
setInterval(() => {}, 1000)
`

let dir = ''
let master: ChildProcess
let workerPid = 0
const lines: string[] = []

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gwp-tree-test-'))
  writeFileSync(join(dir, 'worker.mjs'), WORKER)
  writeFileSync(join(dir, 'master.mjs'), MASTER(join(dir, 'worker.mjs')))
  master = spawn(process.execPath, [join(dir, 'master.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
  master.stdout?.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)))
  while (!lines.some((l) => l.startsWith('worker '))) await once(master.stdout!, 'data')
  workerPid = Number(lines.find((l) => l.startsWith('worker '))?.split(' ')[1])
})

after(async () => {
  master.kill('SIGTERM')
  await once(master, 'exit')
  rmSync(dir, { recursive: true, force: true })
})

test('stat parsing and tree discovery find the worker under the master', () => {
  const s = readProcStat(workerPid)
  assert.ok(s !== undefined)
  assert.equal(s.ppid, master.pid)
  assert.deepEqual(processTree(master.pid as number).map((p) => p.pid).sort(), [master.pid, workerPid].sort())
  assert.equal(readProcStat(2 ** 22 + 12345), undefined)
  assert.ok(clockTicks() > 0)
})

test("a worker's 300 ms burn is counted in the tree's CPU, the parent's own work is not", async () => {
  const probe = createTreeProbe(master.pid as number)
  probe.start()
  process.kill(workerPid, 'SIGUSR2')
  const c0 = process.cpuUsage()
  for (;;) { const c = process.cpuUsage(c0); if (c.user + c.system >= 200_000) break } // our own 200 ms
  while (!lines.includes('burned')) await once(master.stdout!, 'data')
  const r = probe.stop()
  assert.deepEqual(r.pids.sort(), [master.pid, workerPid].sort())
  const ms = r.cpu.totalUs / 1000
  // One clock tick (10 ms at 100 Hz) of resolution per process, plus the worker's signal handling.
  assert.ok(ms >= 270 && ms <= 420, `tree CPU ${ms} ms`)
  assert.ok(r.fds.start > 0 && r.fds.end > 0)
  assert.ok(r.rssBytes.end > 1e6)
  assert.equal(perRequest(r, 3).heapBytesPerRequest, undefined)
  assert.equal(perRequest(r, 3).cpuUsPerRequest, Math.round((r.cpu.totalUs / 3) * 10) / 10)
})
