// `npm test` after the build: runs the test files (dist/test/**/*.test.js and lab/mutation/test/*.test.mjs) under
// node:test, two at a time. Node 20's `node --test <dir>` runs every .js file in the directory, helpers and fixtures
// included (21 files, one process each, Chromium's launcher among them: about 3 s of wall time for no test), and it
// has no glob patterns (Node 21+), so the list is made here. Arguments are passed on to `node --test`
// (`npm test -- --test-name-pattern=cors`).
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function testFiles(dir, suffix) {
  const out = []
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...testFiles(p, suffix))
    else if (e.name.endsWith(suffix)) out.push(p)
  }
  return out
}

const files = [...testFiles('dist/test', '.test.js'), ...testFiles('lab/mutation/test', '.test.mjs')].sort()
const child = spawn(process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', ...process.argv.slice(2), ...files],
  { cwd: ROOT, stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => { process.exitCode = code ?? 1 })
