// runtime/watch: directories watched by name, so renames, deletes and re-creates keep being seen; entry
// directories match policy files by suffix (never dot-files or editor leftovers); bursts become one call.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { createPolicyWatcher, symlinksOf, type WatchSet } from '../../runtime/watch.js'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

function rig(set: (dir: string) => WatchSet, o: { debounceMs?: number; maxWaitMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'gw-watchunit-'))
  const calls: string[][] = []
  const w = createPolicyWatcher({ log: pino({ level: 'silent' }), onChange: p => calls.push(p), debounceMs: o.debounceMs ?? 50, maxWaitMs: o.maxWaitMs })
  return { dir, calls, w, start: () => w.resync(set(dir)), done: () => { w.close(); rmSync(dir, { recursive: true, force: true }) } }
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await sleep(10) }
}

test('a watched file keeps being seen through rename-over, delete and re-create; other names in its directory are not', async () => {
  const r = rig(dir => ({ files: [join(dir, 'a.gwp')], dirs: [] }))
  const a = join(r.dir, 'a.gwp')
  writeFileSync(a, '1')
  r.start()
  try {
    for (let i = 0; i < 4; i++) {
      writeFileSync(a + '.tmp', String(i))
      renameSync(a + '.tmp', a)
      await until(() => r.calls.length === i + 1, `call ${i + 1}`)
    }
    unlinkSync(a)
    await until(() => r.calls.length === 5, 'the delete')
    writeFileSync(a, 'back')
    await until(() => r.calls.length === 6, 'the re-create')
    writeFileSync(join(r.dir, 'b.gwp'), 'x')
    writeFileSync(join(r.dir, '.a.gwp.swp'), 'x')
    await sleep(200)
    assert.equal(r.calls.length, 6)
    assert.ok(r.calls.every(c => c.length === 1 && c[0] === a), JSON.stringify(r.calls))
  } finally { r.done() }
})

test('an entry directory: a policy file added or removed is a change; dot-files and other suffixes are not', async () => {
  const r = rig(dir => ({ files: [], dirs: [{ path: join(dir, 'pol'), suffixes: ['.gwp', '.yaml'] }] }))
  mkdirSync(join(r.dir, 'pol'))
  r.start()
  try {
    writeFileSync(join(r.dir, 'pol', 'new.gwp'), 'x')
    await until(() => r.calls.length === 1, 'the new file')
    assert.deepEqual(r.calls[0], [join(r.dir, 'pol', 'new.gwp')])
    writeFileSync(join(r.dir, 'pol', '.new.gwp'), 'x')
    writeFileSync(join(r.dir, 'pol', 'new.gwp~'), 'x')
    writeFileSync(join(r.dir, 'pol', 'notes.txt'), 'x')
    await sleep(200)
    assert.equal(r.calls.length, 1)
    unlinkSync(join(r.dir, 'pol', 'new.gwp'))
    await until(() => r.calls.length === 2, 'the removal')
    // the directory replaced by another: seen by name in the parent, and watched afresh after a resync
    mkdirSync(join(r.dir, 'pol.next'))
    rmSync(join(r.dir, 'pol'), { recursive: true })
    renameSync(join(r.dir, 'pol.next'), join(r.dir, 'pol'))
    await until(() => r.calls.length === 3, 'the swap')
    r.start()
    writeFileSync(join(r.dir, 'pol', 'z.yaml'), 'x')
    await until(() => r.calls.length === 4, 'a file in the new directory')
  } finally { r.done() }
})

test('writes that never pause still trigger after maxWait; after close nothing is called', async () => {
  const r = rig(dir => ({ files: [join(dir, 'a.gwp')], dirs: [] }), { debounceMs: 100, maxWaitMs: 300 })
  const a = join(r.dir, 'a.gwp')
  writeFileSync(a, '0')
  r.start()
  try {
    const t0 = Date.now()
    while (Date.now() - t0 < 700) { writeFileSync(a, String(Date.now())); await sleep(20) }
    assert.ok(r.calls.length >= 1 && r.calls.length <= 3, `${r.calls.length} calls during 700 ms of writes every 20 ms`)
    r.w.close()
    const n = r.calls.length
    writeFileSync(a, 'after')
    await sleep(300)
    assert.equal(r.calls.length, n)
  } finally { r.done() }
})

test('a file reached through symbolic links: re-pointing a link is a change (a ConfigMap volume update)', async () => {
  // /dir/policy.gwp → ..data/policy.gwp, ..data → ..v1; an update writes ..v2 and renames a new ..data over
  const r = rig(dir => ({ files: [join(dir, 'policy.gwp')], dirs: [] }))
  mkdirSync(join(r.dir, '..v1'))
  writeFileSync(join(r.dir, '..v1', 'policy.gwp'), 'v1')
  symlinkSync('..v1', join(r.dir, '..data'))
  symlinkSync(join('..data', 'policy.gwp'), join(r.dir, 'policy.gwp'))
  assert.deepEqual(symlinksOf(join(r.dir, 'policy.gwp')), [join(r.dir, 'policy.gwp'), join(r.dir, '..data')])
  r.start()
  try {
    mkdirSync(join(r.dir, '..v2'))
    writeFileSync(join(r.dir, '..v2', 'policy.gwp'), 'v2')
    symlinkSync('..v2', join(r.dir, '..data_tmp'))
    renameSync(join(r.dir, '..data_tmp'), join(r.dir, '..data'))
    await until(() => r.calls.length === 1, 'the re-pointed link')
    assert.deepEqual(r.calls[0], [join(r.dir, '..data')])
  } finally { r.done() }
})
