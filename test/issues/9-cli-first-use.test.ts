// Issue 9 (what a new user tripped over), command-line parts: `gwc CMD --help` and `gw run --help` print
// usage, a missing policy file says it does not exist, and GitHub annotations keep the related locations.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoPath } from '../helpers/paths.js'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { renderGithub } from '../../compiler/diagnostics/render.js'

const run = (bin: string, args: string[], cwd = repoPath()) => spawnSync(process.execPath, [repoPath(`dist/bin/${bin}.js`), ...args], { cwd, encoding: 'utf8', timeout: 20_000 })

/** `run` without blocking: the sixteen usage checks start side by side (one at a time they took ~20 s of npm test). */
const runAsync = (bin: string, args: string[]) => new Promise<{ status: number | null; stdout: string; stderr: string }>(resolve => {
  execFile(process.execPath, [repoPath(`dist/bin/${bin}.js`), ...args], { cwd: repoPath(), encoding: 'utf8', timeout: 30_000 },
    (err, stdout, stderr) => resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }))
})

test('`gwc CMD --help` prints that command\'s usage and exits 0', async () => {
  const cases = ['check', 'build', 'routes', 'diff', 'explain', 'fmt', 'convert', 'test'].flatMap(cmd => ['--help', '-h'].map(flag => [cmd, flag]))
  const results = await Promise.all(cases.map(([cmd, flag]) => runAsync('gwc', [cmd, flag])))
  for (let i = 0; i < cases.length; i++) {
    const [cmd, flag] = cases[i]
    {
      const r = results[i]
      assert.equal(r.status, 0, `gwc ${cmd} ${flag}: ${r.stderr}`)
      assert.equal(r.stderr, '')
      assert.match(r.stdout, new RegExp(`^gwc ${cmd}: `))
      assert.match(r.stdout, new RegExp(`^  gwc ${cmd} `, 'm'))
      assert.doesNotMatch(r.stdout, new RegExp(`^  gwc (?!${cmd} )\\w+ `, 'm'), 'only this command')
    }
  }
  assert.match(run('gwc', ['help', 'test']).stdout, /--spec FILE/)
  assert.equal(run('gwc', ['help', 'nope']).status, 2)
})

test('`gw run --help` prints the usage and exits 0 without serving', () => {
  const r = run('gw', ['run', '--help'])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /--listen HOST:PORT/)
  assert.equal(r.stderr, '')
})

test('`gwc check missing.gwp` says the file does not exist, and nothing about includes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwc-missing-'))
  const r = run('gwc', ['check', 'missing.gwp'], dir)
  assert.equal(r.status, 1)
  assert.match(r.stderr, /^error\[E0602\]: `missing\.gwp` does not exist$/m)
  assert.doesNotMatch(r.stderr, /include|0 files/)
  assert.match(r.stderr, /1 error, no policy file read\n$/)
  // an include that is missing still says where it was included
  writeFileSync(join(dir, 'a.gwp'), 'include "gone.gwp"\n')
  const inc = run('gwc', ['check', 'a.gwp'], dir)
  assert.match(inc.stderr, /cannot read `gone\.gwp`: no such file/)
  assert.match(inc.stderr, /includes are relative to the including file/)
})

test('`--format github` puts related locations (notes) into the annotation text', () => {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': 'upstream a { replicas 127.0.0.1:1 }\nroute r {\n  match path "/a"\n  match path "/b"\n  timeout 1s\n  proxy a\n}\n' }) })
  const out = renderGithub(r.diagnostics)
  assert.match(out, /^::error file=p\.gwp,line=4,col=3,.*::route `r` has two `match` lines%0Ap\.gwp:3:3: first here%0Acombine the conditions/m)
})
