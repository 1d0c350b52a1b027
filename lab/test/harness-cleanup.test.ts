// lab/test/harness-cleanup.test.ts: no benchmark process outlives its run — stopAll() kills every child and
// grandchild (one that ignores SIGTERM too), a child that never gets ready is killed, and when the harness itself
// is SIGKILLed the watchdog kills what it started.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { planCpus } from '../harness/cpu-plan.js'
import { procStart } from '../harness/proc-tree.js'
import { createSupervisor } from '../harness/supervisor.js'
import { repoPath } from '../../test/helpers/paths.js'

const NO_PIN = planCpus([0, 1], false)

/** A node child that starts a grandchild (optionally deaf to SIGTERM) and prints `ready <grandchild pid>`. */
const PARENT = `
const { spawn } = require('node:child_process')
const deaf = process.argv[1] === 'deaf'
const g = spawn(process.execPath, ['-e', (deaf ? "process.on('SIGTERM', () => {});" : '') + 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
setInterval(() => {}, 1000)
console.log('ready ' + g.pid)
`

const alive = (pid: number): boolean => procStart(pid) !== undefined

async function until(f: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) { if (f()) return true; await new Promise((r) => setTimeout(r, 25)) }
  return f()
}

test('stopAll kills every child and its descendants, including one that ignores SIGTERM', async () => {
  const sup = createSupervisor({ plan: NO_PIN, handleSignals: false })
  try {
    const a = await sup.start({ name: 'a', cmd: process.execPath, args: ['-e', PARENT], ready: /^ready \d+/ })
    const b = await sup.start({ name: 'b', cmd: process.execPath, args: ['-e', PARENT, 'deaf'], ready: /^ready \d+/ })
    const pids = [a.pid, b.pid, Number(a.readyLine.split(' ')[1]), Number(b.readyLine.split(' ')[1])]
    assert.ok(pids.every(alive), 'all four running')
    assert.equal(sup.children().length, 2)
    await sup.stopAll()
    assert.ok(await until(() => !pids.some(alive), 5000), `still running: ${pids.filter(alive).join(', ')}`)
    assert.equal(sup.children().length, 0)
  } finally {
    await sup.stopAll()
    sup.dispose()
  }
})

test('a child that never prints its ready line is killed and the error names it with its output', async () => {
  const sup = createSupervisor({ plan: NO_PIN, handleSignals: false, watchdog: false })
  try {
    let pid = 0
    await assert.rejects(
      sup.start({ name: 'slowpoke', cmd: process.execPath, args: ['-e', 'console.log("hello " + process.pid); setInterval(() => {}, 1000)'], ready: /^never$/, readyTimeoutMs: 300 })
        .catch((e: Error) => { pid = Number(/hello (\d+)/.exec(e.message)?.[1]); throw e }),
      /slowpoke: not ready in 300 ms[\s\S]*hello \d+/,
    )
    assert.ok(pid > 0)
    assert.ok(await until(() => !alive(pid), 3000))
    assert.equal(sup.children().length, 0)
  } finally { sup.dispose() }
})

test('when the harness is SIGKILLed, the watchdog kills the processes it started', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwp-harness-test-'))
  try {
    const script = join(dir, 'harness.mjs')
    writeFileSync(script, `
import { createSupervisor } from ${JSON.stringify(pathToFileURL(repoPath('dist/lab/harness/supervisor.js')).href)}
import { planCpus } from ${JSON.stringify(pathToFileURL(repoPath('dist/lab/harness/cpu-plan.js')).href)}
const sup = createSupervisor({ plan: planCpus([0, 1], false) })
const parent = ${JSON.stringify(PARENT)}
const a = await sup.start({ name: 'a', cmd: process.execPath, args: ['-e', parent], ready: /^ready \\d+/ })
const b = await sup.start({ name: 'b', cmd: process.execPath, args: ['-e', parent, 'deaf'], ready: /^ready \\d+/ })
console.log('pids', a.pid, a.readyLine.split(' ')[1], b.pid, b.readyLine.split(' ')[1])
setInterval(() => {}, 1000)
`)
    const h = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const line = await new Promise<string>((resolve, reject) => {
      let buf = ''
      h.stdout.on('data', (d: Buffer) => { buf += d; const m = /^pids .*$/m.exec(buf); if (m) resolve(m[0]) })
      h.once('exit', (code) => reject(new Error(`harness exited ${code}`)))
    })
    const pids = line.split(' ').slice(1).map(Number)
    assert.equal(pids.length, 4)
    assert.ok(pids.every(alive))
    h.kill('SIGKILL')
    // The watchdog notices its stdin closing, SIGTERMs the trees, and SIGKILLs the deaf grandchild after its grace.
    assert.ok(await until(() => !pids.some(alive), 8000), `still running after the harness died: ${pids.filter(alive).join(', ')}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
