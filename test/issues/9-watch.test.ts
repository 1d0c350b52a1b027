// Issue 9: `gw run … --watch` kept watching the inode of each entry file, so the first write that replaced
// the file (sed -i, mv, an editor's safe write, gwc fmt --write) was the last one noticed, files pulled in by
// `include` were never watched, and `--workers` did not watch at all. Now the containing directories are
// watched by name, the watch set is re-read after every reload, bursts are debounced into one reload, and
// every attempt is logged with its outcome.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../../compiler/compile.js'
import { buildBundle, writeBundle } from '../../compiler/bundle.js'
import { getText as fetchText, startGw, waitBody, type GwProcess, type LogLine } from '../helpers/gw-process.js'

const route = (tag: string, path = '/r') => `route r${path.replace(/\W/g, '')} {\n  match path "${path}"\n  timeout 1s\n  respond 200 text "${tag}"\n}\n`

/** What an editor's safe write, `sed -i` and `gwc fmt --write` do: a new file renamed over the old one. */
function replace(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`
  writeFileSync(tmp, text)
  renameSync(tmp, file)
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const watchAttempts = (gw: GwProcess): LogLine[] => gw.logs().filter(l => l.trigger === 'watch')
const outcome = (l: LogLine): string => l.msg === 'bundle reloaded' || l.msg === 'bundle reloaded in every worker' ? 'applied'
  : l.msg === 'reload: bundle unchanged' ? 'unchanged' : l.msg.startsWith('reload refused') ? 'refused' : l.msg

function tempDir(): string { return mkdtempSync(join(tmpdir(), 'gw-watch-')) }

test('a file replaced by rename is reloaded every time; delete + re-create too; each attempt is logged with its outcome', async () => {
  const dir = tempDir()
  const file = join(dir, 'w.gwp')
  writeFileSync(file, route('T0'))
  const gw = await startGw([file, '--watch'])
  try {
    for (let i = 1; i <= 5; i++) {
      replace(file, route(`T${i}`))
      await waitBody(gw.url + '/r', `T${i}`, 5000)
      await gw.waitLog(l => l.trigger === 'watch' && outcome(l) === 'applied' && watchAttempts(gw).filter(x => outcome(x) === 'applied').length === i, 3000, `applied reload ${i}`)
    }
    // deleted: the reload is refused (the previous bundle keeps serving) and says why
    unlinkSync(file)
    const refused = await gw.waitLog(l => l.trigger === 'watch' && outcome(l) === 'refused', 5000, 'a refused reload')
    assert.match(String(refused.err), /E0602/) // cannot read the file
    assert.deepEqual(refused.files, [file])
    assert.equal((await fetchText(gw.url + '/r')), 'T5', 'the old bundle keeps serving')
    // re-created: watched again
    writeFileSync(file, route('T6'))
    await waitBody(gw.url + '/r', 'T6', 5000)
    // the same content again: an attempt that changes nothing is logged as unchanged
    replace(file, route('T6'))
    await gw.waitLog(l => l.trigger === 'watch' && outcome(l) === 'unchanged', 5000, 'an unchanged reload')
    assert.deepEqual(watchAttempts(gw).map(outcome), ['applied', 'applied', 'applied', 'applied', 'applied', 'refused', 'applied', 'unchanged'])
  } finally {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a burst of writes causes one reload, burst after burst', async () => {
  const dir = tempDir()
  const file = join(dir, 'w.gwp')
  writeFileSync(file, route('B0'))
  const gw = await startGw([file, '--watch'])
  try {
    for (let burst = 1; burst <= 3; burst++) {
      for (let i = 0; i < 10; i++) replace(file, route(`B${burst}-${i}`))
      await waitBody(gw.url + '/r', `B${burst}-9`, 5000)
      await gw.waitLog(() => watchAttempts(gw).length >= burst, 5000, `the log line of burst ${burst}`)
      await sleep(400) // longer than the debounce: a second reload of the same burst would have started by now
      assert.equal(watchAttempts(gw).length, burst, `one reload per burst: ${JSON.stringify(watchAttempts(gw).map(l => l.files))}`)
    }
  } finally {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('an edited include reloads; an include added by a later edit is watched from then on; a broken include is refused, then fixed', async () => {
  const dir = tempDir()
  const main = join(dir, 'main.gwp')
  const a = join(dir, 'parts', 'a.gwp')
  const b = join(dir, 'b.gwp')
  execFileSync('mkdir', ['-p', join(dir, 'parts')])
  writeFileSync(a, route('A0', '/a'))
  writeFileSync(main, 'include "parts/a.gwp"\n' + route('M0', '/m'))
  const gw = await startGw([main, '--watch'])
  try {
    // an include in another directory, edited in place and then replaced
    writeFileSync(a, route('A1', '/a'))
    await waitBody(gw.url + '/a', 'A1', 5000)
    replace(a, route('A2', '/a'))
    await waitBody(gw.url + '/a', 'A2', 5000)
    // main gains an include of b.gwp, which does not exist yet: refused, but b.gwp is watched
    replace(main, 'include "parts/a.gwp"\ninclude "b.gwp"\n' + route('M1', '/m'))
    await gw.waitLog(l => l.trigger === 'watch' && outcome(l) === 'refused', 5000, 'refusal of the missing include')
    assert.equal(await fetchText(gw.url + '/m'), 'M0')
    writeFileSync(b, route('B0', '/b'))
    await waitBody(gw.url + '/b', 'B0', 5000)
    assert.equal(await fetchText(gw.url + '/m'), 'M1')
    // the added include is watched like the others
    replace(b, route('B1', '/b'))
    await waitBody(gw.url + '/b', 'B1', 5000)
    // a broken include is refused with its diagnostics; fixing it applies
    replace(b, 'route rb { match path "/b"; proxy nowhere }\n')
    const refused = await gw.waitLog(l => l.trigger === 'watch' && outcome(l) === 'refused' && String(l.err).includes('nowhere'), 5000, 'refusal of the broken include')
    assert.match(String(refused.err), /b\.gwp:1:/)
    replace(b, route('B2', '/b'))
    await waitBody(gw.url + '/b', 'B2', 5000)
    // an include dropped from main is no longer watched
    const n = watchAttempts(gw).length
    replace(main, 'include "parts/a.gwp"\n' + route('M2', '/m'))
    await waitBody(gw.url + '/m', 'M2', 5000)
    // the log line comes a moment after the swap: count from it
    await gw.waitLog(() => watchAttempts(gw).length > n, 5000, 'the log line of the M2 reload')
    const before = watchAttempts(gw).length
    replace(b, route('B3', '/b'))
    await sleep(500)
    assert.equal(watchAttempts(gw).length, before, 'a file no longer included does not trigger reloads')
  } finally {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a bundle directory: a rebuild over it (as gwc build writes it) reloads, and so does a directory replaced wholesale', async () => {
  const dir = tempDir()
  const src = join(dir, 'p.gwp')
  const out = join(dir, 'out')
  // what `gwc build SRC -o DIR` does (in-process: starting gwc takes seconds on a busy machine)
  const build = (from: string, to: string) => {
    const r = compile([from])
    assert.ok(r.ir !== undefined)
    writeBundle(to, buildBundle(r.ir, r.sources))
  }
  writeFileSync(src, route('D0'))
  build(src, out)
  const gw = await startGw([out, '--watch'])
  try {
    for (let i = 1; i <= 3; i++) {
      writeFileSync(src, route(`D${i}`))
      build(src, out)
      await waitBody(gw.url + '/r', `D${i}`, 5000)
    }
    assert.ok(watchAttempts(gw).every(l => outcome(l) === 'applied'), JSON.stringify(watchAttempts(gw).map(outcome)))
    // replaced wholesale: build elsewhere, then swap the directory in
    writeFileSync(src, route('D9'))
    build(src, out + '.next')
    rmSync(out, { recursive: true })
    renameSync(out + '.next', out)
    await waitBody(gw.url + '/r', 'D9', 5000)
    // and the new directory is watched in turn
    writeFileSync(src, route('D10'))
    build(src, out)
    await waitBody(gw.url + '/r', 'D10', 5000)
  } finally {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--watch with --workers: the primary watches and every worker reloads', async () => {
  const dir = tempDir()
  const file = join(dir, 'w.gwp')
  writeFileSync(file, route('W0'))
  const gw = await startGw([file, '--watch', '--workers', '2'])
  try {
    for (let i = 1; i <= 3; i++) {
      replace(file, route(`W${i}`))
      await gw.waitLog(l => l.trigger === 'watch' && l.msg === 'bundle reloaded in every worker' && l.version !== undefined
        && watchAttempts(gw).filter(x => outcome(x) === 'applied').length === i, 10_000, `applied reload ${i}`)
      // fresh connections reach both workers: every one serves the new text
      const seen = new Set(await Promise.all(Array.from({ length: 8 }, () => fetchText(gw.url + '/r'))))
      assert.deepEqual([...seen], [`W${i}`])
    }
  } finally {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
