// lab/test/probe-preload.test.ts: the preload never keeps a process alive, and its signal + file mode
// measures a process we did not spawn with an IPC channel.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { PRELOAD_URL, toggleProbe } from '../probe/index.js'

let dir = ''
before(() => { dir = mkdtempSync(join(tmpdir(), 'gwp-preload-test-')) })
after(() => rmSync(dir, { recursive: true, force: true }))

async function exitsOnItsOwn(stdio: ('ignore' | 'ipc')[], env: NodeJS.ProcessEnv = {}): Promise<number | null> {
  const c = spawn(process.execPath, ['--import', PRELOAD_URL, '-e', 'setTimeout(() => {}, 50)'], { stdio, env: { ...process.env, ...env } })
  const timer = setTimeout(() => c.kill('SIGKILL'), 5000)
  const [code] = await once(c, 'exit')
  clearTimeout(timer)
  return code as number | null
}

test('a preloaded script with an IPC channel exits by itself', async () => {
  assert.equal(await exitsOnItsOwn(['ignore', 'ignore', 'ignore', 'ipc']), 0)
})

test('a preloaded script in signal + file mode exits by itself', async () => {
  assert.equal(await exitsOnItsOwn(['ignore', 'ignore', 'ignore'], { GWP_PROBE_FILE: join(dir, 'unused.json') }), 0)
})

test('SIGUSR2 toggles a window and the result lands in GWP_PROBE_FILE', async () => {
  const file = join(dir, 'probe.json')
  const script = join(dir, 'server.mjs')
  writeFileSync(script, `import http from 'node:http'
const s = http.createServer((req, res) => res.end('ok'))
s.listen(0, '127.0.0.1', () => console.log('port ' + s.address().port))`)
  const c = spawn(process.execPath, ['--import', PRELOAD_URL, script], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GWP_PROBE_FILE: file, GWP_PROBE_COUNT_REQUESTS: '1' },
  })
  try {
    const [chunk] = await once(c.stdout, 'data')
    const port = /port (\d+)/.exec(String(chunk))?.[1]
    assert.ok(port !== undefined)
    assert.equal(await toggleProbe(c.pid as number, file, 'started'), undefined)
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'ok')
    const r = await toggleProbe(c.pid as number, file, 'stopped')
    assert.ok(r !== undefined)
    assert.equal(r.pid, c.pid)
    assert.equal(r.requests, 3)
    assert.ok(r.cpu.totalUs > 0 && r.heap.allocatedBytes > 0)
  } finally {
    c.kill()
    await once(c, 'exit')
  }
})
