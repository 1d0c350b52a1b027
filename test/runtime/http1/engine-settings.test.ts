// test/runtime/http1/engine-settings.test.ts: the `engine` setting picks the client listener; GW_ENGINE gives
// its default (so `GW_ENGINE=http1 npm test` runs the suite on the new engine), settings and flags still win.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadSettings, SettingsError } from '../../../config/settings.js'
import { pino } from 'pino'
import { call, startGateway } from '../../helpers/gateway.js'

function withEnv<T>(value: string | undefined, f: () => T): T {
  const old = process.env.GW_ENGINE
  if (value === undefined) delete process.env.GW_ENGINE
  else process.env.GW_ENGINE = value
  try { return f() } finally { if (old === undefined) delete process.env.GW_ENGINE; else process.env.GW_ENGINE = old }
}

test('default http1; GW_ENGINE sets the default; a settings file or flag overrides it', () => {
  assert.equal(withEnv(undefined, () => loadSettings(undefined).engine), 'http1')
  assert.equal(withEnv('', () => loadSettings(undefined).engine), 'http1')
  assert.equal(withEnv('node', () => loadSettings(undefined).engine), 'node')
  assert.equal(withEnv('http1', () => loadSettings(undefined).engine), 'http1')
  assert.equal(withEnv('http1', () => loadSettings(undefined, { engine: 'node' }).engine), 'node')
  const file = join(mkdtempSync(join(tmpdir(), 'gwp-engine-')), 'gw.yaml')
  writeFileSync(file, 'engine: http1\n')
  assert.equal(withEnv('node', () => loadSettings(file).engine), 'http1')
})

test('an unknown engine is refused, from the environment or from settings', () => {
  assert.throws(() => withEnv('h2', () => loadSettings(undefined)), (e: unknown) => e instanceof SettingsError && /GW_ENGINE: expected one of node, http1, got "h2"/.test(e.message))
  assert.throws(() => withEnv(undefined, () => loadSettings(undefined, { engine: 'uws' })), (e: unknown) => e instanceof SettingsError && /engine: expected one of node, http1/.test(e.message))
})

test('the "gw listening" line names the engine that serves (the lab checks it took effect)', async () => {
  for (const engine of ['node', 'http1'] as const) {
    const lines: Record<string, unknown>[] = []
    const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s)) } })
    const gw = await startGateway('route r { match path "/"; respond 204 }', { engine }, { log })
    try {
      const ready = lines.find(l => l.msg === 'gw listening')
      assert.equal(ready?.engine, engine)
      assert.equal((await call(gw.url + '/')).status, 204)
    } finally { await gw.close() }
  }
})
