// Issue 12 item 4 / issue 14 item 2: the keys file (policies/auth/keys-file.ts) in-process, so that its mutants
// die in a second: the format (comments, blank lines, CRLF, upper-case hex, consumer ids), the error naming the
// first bad line and never its text, the identity header made per consumer at load, and the watcher: a change
// of the same size is seen, a read that changes nothing on disk is not a change (one reload, one log line, not
// a loop), a change of size or inode under the same mtime is, a broken edit keeps the loaded keys and logs
// why, overlapping reloads read again, stop() stops, and the poll never keeps a process alive.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import type { Logger } from 'pino'
import { KeysFile, keyHash, parseKeysFile } from '../../policies/auth/keys-file.js'

const dir = mkdtempSync(join(tmpdir(), 'gwp-keysfile-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const A = 'gwk_a-key', B = 'gwk_b-key', C = 'gwk_c-key'
const line = (key: string, consumer: string) => `sha256:${keyHash(key)} ${consumer}`

/** A logger that records what it is given. */
function recorder() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = []
  const log = {
    info: (obj: Record<string, unknown>, msg: string) => { lines.push({ level: 'info', obj, msg }) },
    error: (obj: Record<string, unknown>, msg: string) => { lines.push({ level: 'error', obj, msg }) },
  } as unknown as Logger
  return { lines, log }
}
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms
  while (!cond()) { if (Date.now() > end) throw new Error(`timed out waiting for ${what}`); await sleep(10) }
}

test('the format: comments, blank and indented lines, CRLF, upper-case hex; the consumer and its identity header', () => {
  const text = `# a comment\n\n   \r\n  ${line(A, 'acme')}  \r\n\t# indented comment\nsha256:${keyHash(B).toUpperCase()} b.c_d:e@f+g-h\n`
  const m = parseKeysFile(text, null)
  assert.deepEqual([...m.keys()], [keyHash(A), keyHash(B)], 'lower-case hashes, in file order')
  assert.deepEqual(m.get(keyHash(A)), { consumer: 'acme', identity: null })
  assert.deepEqual(m.get(keyHash(B)), { consumer: 'b.c_d:e@f+g-h', identity: null })
  const f = parseKeysFile(text, 'x-consumer-id')
  assert.deepEqual(f.get(keyHash(A)), { consumer: 'acme', identity: [{ header: 'x-consumer-id', value: 'acme' }] })
  assert.equal(parseKeysFile('', null).size, 0)
  assert.equal(parseKeysFile('# only\n\n', null).size, 0)
  assert.equal(parseKeysFile(`${line(A, 'x'.repeat(128))}`, null).get(keyHash(A))!.consumer.length, 128)
})

test('a bad line refuses the whole file, named by its number, its text never echoed', () => {
  const FORMAT = 'is not `sha256:<64 hex digits> <consumer-id>` (a keys file holds hashes, never keys: add keys with `gwc keys add`)'
  const ID = 'the consumer id must be 1-128 letters, digits or . _ : @ + -'
  for (const [text, message] of [
    ['plain-secret-key acme', `line 1 ${FORMAT}`],
    [`# c\n\n${line(A, 'acme')}\nsha256:${'0'.repeat(63)} b`, `line 4 ${FORMAT}`],
    [`sha256:${keyHash(A)}`, `line 1 ${FORMAT}`],
    [`${line(A, 'acme')} extra`, `line 1 ${FORMAT}`],
    [`${line(A, 'a/b')}`, `line 1: ${ID}`],
    [`\n${line(A, 'x'.repeat(129))}`, `line 2: ${ID}`],
    [`${line(A, 'acme')}\n${line(B, 'b')}\n${line(A, 'other')}`, 'line 3 lists a key already listed'],
    [`${line(A, 'acme')}\nsha256:${keyHash(A).toUpperCase()} acme`, 'line 2 lists a key already listed'],
  ] as const) {
    assert.throws(() => parseKeysFile(text, null), (e: Error) => { assert.equal(e.message, message, JSON.stringify(text)); return true })
  }
  assert.throws(() => parseKeysFile('plain-secret-key acme', null), (e: Error) => !e.message.includes('plain-secret-key'))
})

test('KeysFile: lookup, size, reloadNow; a same-size change is seen; reading the file is not a change', async () => {
  const path = join(dir, 'k1.txt')
  writeFileSync(path, `${line(A, 'acme')}\n`)
  const { lines, log } = recorder()
  const f = new KeysFile(path, 'x-consumer', log, 20)
  try {
    assert.equal(f.path, path)
    assert.equal(f.size, 1)
    assert.deepEqual(f.lookup(A), { consumer: 'acme', identity: [{ header: 'x-consumer', value: 'acme' }] })
    assert.equal(f.lookup(B), undefined)
    assert.equal(f.lookup(keyHash(A)), undefined, 'the hash itself is not a key')
    // the same length, another key and consumer: only mtime (and content) differ (a later clock tick than the
    // first write: within one coarse tick the file's times would not move and the poll could not see the edit)
    await sleep(50)
    writeFileSync(path, `${line(B, 'bcme')}\n`)
    await until(() => f.lookup(B) !== undefined, 2000, 'the same-size change to be read (polled every 20 ms)')
    assert.equal(f.lookup(A), undefined)
    // the reload read the file (its atime may move), and a chmod moves its ctime: neither changes the keys, and
    // neither is a reload (the poll reports a change of any stat field; only mtime, size and inode are edits)
    await sleep(50)
    chmodSync(path, 0o600)
    await sleep(300)
    assert.deepEqual(lines, [{ level: 'info', obj: { keysFile: path, keys: 1 }, msg: 'keys file reloaded' }])
    // a bundle load re-reads at once
    writeFileSync(path, `${line(A, 'acme')}\n${line(C, 'c')}\n`)
    f.reloadNow()
    assert.equal(f.size, 2)
    assert.equal(f.lookup(C)!.consumer, 'c')
    writeFileSync(path, 'broken\n')
    assert.throws(() => f.reloadNow(), /line 1 is not/)
    assert.equal(f.size, 2, 'a refused re-read keeps the keys')
  } finally { f.stop() }
})

test('KeysFile.reload: a broken edit keeps the loaded keys and logs why; reloads after one another and overlapping ones each read', async () => {
  const path = join(dir, 'k2.txt')
  writeFileSync(path, `${line(A, 'acme')}\n`)
  const { lines, log } = recorder()
  const f = new KeysFile(path, null, log, 60_000)
  try {
    writeFileSync(path, 'not a key line\n')
    await f.reload()
    assert.equal(f.lookup(A)!.consumer, 'acme')
    assert.deepEqual(lines, [{ level: 'error', obj: { keysFile: path, err: 'line 1 is not `sha256:<64 hex digits> <consumer-id>` (a keys file holds hashes, never keys: add keys with `gwc keys add`)' }, msg: 'keys file changed but cannot be used: the keys loaded before stay in force' }])
    lines.length = 0
    writeFileSync(path, `${line(B, 'b')}\n`)
    await f.reload()
    assert.equal(f.lookup(B)!.consumer, 'b')
    writeFileSync(path, `${line(C, 'c')}\n${line(A, 'a')}\n`)
    await f.reload()
    assert.equal(f.size, 2, 'a second reload after the first one finished reads again')
    assert.deepEqual(lines.map(l => [l.level, (l.obj as Record<string, unknown>).keys]), [['info', 1], ['info', 2]])
    // two overlapping calls: one read runs, and one more after it (the second asked while the first ran)
    lines.length = 0
    const p1 = f.reload(), p2 = f.reload(), p3 = f.reload()
    assert.equal(p1, p2)
    assert.equal(p2, p3)
    await p1
    assert.equal(lines.length, 2, JSON.stringify(lines))
  } finally { f.stop() }
})

test('KeysFile.stop: the file is no longer watched (a watcher still on the same file sees the change)', async () => {
  const path = join(dir, 'k3.txt')
  writeFileSync(path, `${line(A, 'acme')}\n`)
  const { lines, log } = recorder()
  const f = new KeysFile(path, null, log, 20)
  const control = new KeysFile(path, null, recorder().log, 20)
  try {
    f.stop()
    await sleep(50)
    writeFileSync(path, `${line(B, 'bcme')}\n${line(C, 'c')}\n`)
    await until(() => control.lookup(B) !== undefined, 3000, 'the control watcher to read the change')
    await sleep(200)
    assert.equal(f.lookup(A)!.consumer, 'acme')
    assert.equal(f.lookup(B), undefined)
    assert.deepEqual(lines, [])
  } finally { control.stop() }
})

test('an edit is an mtime, size or inode change: a different size under the same mtime, a rename-into-place of the same size and mtime', async () => {
  const path = join(dir, 'k4.txt')
  const T = 1_700_000_000 // whole seconds: the times set below compare equal to the first ones exactly
  writeFileSync(path, `${line(A, 'acme')}\n`)
  utimesSync(path, T, T)
  const f = new KeysFile(path, null, recorder().log, 20)
  try {
    await sleep(50)
    writeFileSync(path, `${line(A, 'acme')}\n${line(B, 'bcme')}\n`)
    utimesSync(path, T, T)
    await until(() => f.lookup(B) !== undefined, 2000, 'a change of size alone to be read')
    await sleep(50)
    const tmp = join(dir, 'k4.new')
    writeFileSync(tmp, `${line(A, 'acme')}\n${line(C, 'ccme')}\n`)
    utimesSync(tmp, T, T)
    renameSync(tmp, path)
    await until(() => f.lookup(C) !== undefined, 2000, 'a file renamed into place (same size and mtime) to be read')
    assert.equal(f.lookup(B), undefined)
  } finally { f.stop() }
})

test('the watcher does not keep a process alive: a gateway process can exit with a keys file loaded', () => {
  const path = join(dir, 'k5.txt')
  writeFileSync(path, `${line(A, 'acme')}\n`)
  const mod = fileURLToPath(new URL('../../policies/auth/keys-file.js', import.meta.url))
  const code = `import(${JSON.stringify(pathToFileURL(mod).href)}).then(m => { const f = new m.KeysFile(${JSON.stringify(path)}, null, { info() {}, error() {} }, 20); if (f.size !== 1) process.exit(3) })`
  const r = spawnSync(process.execPath, ['-e', code], { timeout: 15_000, stdio: 'ignore' })
  assert.equal(r.signal, null, 'the process did not exit by itself')
  assert.equal(r.status, 0)
})
