// Issue 12 item 4 / issue 14 item 2: `gwc keys add FILE CONSUMER` (policies/auth/keys-command.ts) in-process:
// what it prints (the key once on stdout, the note on stderr), what it writes (a new file: the explaining header,
// mode 0600; an existing one: appended, a missing final newline supplied first), and every refusal with its exit
// code and message, the file left as it was: bad usage, a bad consumer id, a file the gateway would not load
// (a line that is not a hash line, a bad consumer id in it, a key listed twice in any case of hex).
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { keysCommand } from '../../policies/auth/keys-command.js'
import { keyHash, parseKeysFile } from '../../policies/auth/keys-file.js'

const dir = mkdtempSync(join(tmpdir(), 'gwp-keyscmd-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const HEADER = '# gwp API keys: `sha256:<hex of the key\'s SHA-256> <consumer-id>` a line, never the keys themselves.\n# Add keys with `gwc keys add FILE CONSUMER`; delete a line to revoke a key. The gateway reloads this file on change.\n'
const H = keyHash('k1')

test('the command\'s name and usage lines (what `gwc` prints in its help)', () => {
  assert.equal(keysCommand.name, 'keys')
  assert.deepEqual(keysCommand.usage, [
    '  gwc keys add FILE CONSUMER',
    '                             add a random API key for CONSUMER to a keys file (only its SHA-256 is',
    '                             stored) and print the key once',
  ])
})

test('a new file: the header, then the key\'s hash line; mode 0600; the key printed once, a note on stderr', () => {
  const file = join(dir, 'new.txt')
  const r = keysCommand.run(['add', file, 'acme'])
  assert.equal(r.code, 0)
  assert.match(r.out, /^gwk_[A-Za-z0-9_-]{43}\n$/)
  const key = r.out.slice(0, -1)
  assert.equal(r.err, `added a key for acme to ${file} (only its SHA-256 is stored): the key above is shown once, keep it now\n`)
  assert.equal(readFileSync(file, 'utf8'), `${HEADER}sha256:${keyHash(key)} acme\n`)
  assert.equal(statSync(file).mode & 0o777, 0o600)
  // a second key: appended, no second header; both load; the keys differ
  const r2 = keysCommand.run(['add', file, 'globex'])
  assert.equal(r2.code, 0)
  const key2 = r2.out.slice(0, -1)
  assert.notEqual(key2, key)
  assert.equal(readFileSync(file, 'utf8'), `${HEADER}sha256:${keyHash(key)} acme\nsha256:${keyHash(key2)} globex\n`)
  assert.deepEqual([...parseKeysFile(readFileSync(file, 'utf8'), null).values()].map(e => e.consumer), ['acme', 'globex'])
})

test('an existing file: appended as is, a missing final newline supplied; an empty file gets the header', () => {
  for (const [before, join_] of [[`sha256:${H} acme`, '\n'], [`sha256:${H} acme\n`, ''], ['# mine\n', ''], ['', HEADER]] as const) {
    const file = join(dir, `existing-${Math.random().toString(36).slice(2)}.txt`)
    writeFileSync(file, before)
    const r = keysCommand.run(['add', file, 'initech'])
    assert.equal(r.code, 0, JSON.stringify(before))
    const key = r.out.slice(0, -1)
    assert.equal(readFileSync(file, 'utf8'), `${before}${join_}sha256:${keyHash(key)} initech\n`, JSON.stringify(before))
  }
})

test('refusals: exit code, message, and the file untouched (or not created)', () => {
  const USAGE = 'gwc: usage: gwc keys add FILE CONSUMER\n'
  const file = join(dir, 'never.txt')
  for (const args of [[], ['add'], ['add', file], ['list', file, 'acme'], ['add', file, 'acme', 'extra'], ['ADD', file, 'acme']]) {
    assert.deepEqual(keysCommand.run(args), { code: 2, out: '', err: USAGE }, JSON.stringify(args))
  }
  for (const consumer of ['no spaces', '', 'x'.repeat(129), 'a/b']) {
    assert.deepEqual(keysCommand.run(['add', file, consumer]), { code: 2, out: '', err: 'gwc: a consumer id is 1-128 letters, digits or . _ : @ + -\n' }, consumer)
  }
  assert.equal(existsSync(file), false)
  for (const [text, bad] of [
    ['plain-key-by-mistake acme\n', 1],
    [`# ok\n\nsha256:${H} acme\nsha256:${H.slice(1)} b\n`, 4],
    [`sha256:${H} a/b\n`, 1],
    [`sha256:${H} acme\n  sha256:${H.toUpperCase()} other\n`, 2],
    [`sha256:${H} acme\nsha256:${keyHash('k2')} b\nsha256:${H} c\n`, 3],
  ] as const) {
    const f = join(dir, `broken-${bad}-${Math.random().toString(36).slice(2)}.txt`)
    writeFileSync(f, text)
    assert.deepEqual(keysCommand.run(['add', f, 'x']), { code: 1, out: '', err: `gwc: ${f}: line ${bad} is not \`sha256:<64 hex digits> <consumer-id>\` (or lists a key twice); nothing added\n` }, text)
    assert.equal(readFileSync(f, 'utf8'), text)
  }
  // what loads is accepted: comments, blank and indented lines, upper-case hex once
  const ok = join(dir, 'ok.txt')
  writeFileSync(ok, `# c\n\n  sha256:${H.toUpperCase()} acme  \r\n`)
  assert.equal(keysCommand.run(['add', ok, 'b']).code, 0)
})

test('the file is closed after the key is added (no descriptor left open in the process)', { skip: existsSync('/proc/self/fd') ? false : 'no /proc/self/fd' }, () => {
  const open = () => readdirSync('/proc/self/fd').length
  const file = join(dir, 'fds.txt')
  const before = open()
  for (let i = 0; i < 5; i++) assert.equal(keysCommand.run(['add', file, `c${i}`]).code, 0)
  assert.equal(open(), before)
})
