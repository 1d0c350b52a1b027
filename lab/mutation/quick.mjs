// Stryker's mutants of one source file, checked against ONE fast test file without Stryker: each mutant (made by
// Stryker's own instrumenter, so the same mutants and mutator names as a lab run) is written into the compiled
// dist/ file (the mutated TypeScript transpiled with Babel, which Stryker brings), the test file runs, and the
// compiled file is restored. For writing a test against survivors in minutes, on a worktree of its own, before the
// Stryker run that counts (run.mjs). From the repository root, after `npx tsc -p tsconfig.json`:
//   node lab/mutation/quick.mjs runtime/http1/writer.ts dist/test/runtime/http1/writer-unit.test.js [LINE:COL,…]
// Prints `applied, killed, survived` and every survivor as `file:line:col | mutator | original | mutant`.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const lab = join(dirname(fileURLToPath(import.meta.url)), '..')
const req = createRequire(join(lab, 'package.json'))
const babel = req('@babel/core')
const tsPlugin = req.resolve('@babel/plugin-transform-typescript')
const { Instrumenter } = req('@stryker-mutator/instrumenter')

const [file, test, filter] = process.argv.slice(2)
if (file === undefined || test === undefined) {
  console.error('usage: node lab/mutation/quick.mjs SOURCE.ts dist/test/FILE.test.js [LINE:COL,…]')
  process.exit(2)
}
const only = filter ? new Set(filter.split(',')) : null
const out = 'dist/' + file.replace(/\.ts$/, '.js')
const src = readFileSync(file, 'utf8')
const original = readFileSync(out)

const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, isDebugEnabled: () => false, isTraceEnabled: () => false, isInfoEnabled: () => false }
const { mutants } = await new Instrumenter(quiet).instrument([{ name: file, mutate: true, content: src }],
  { plugins: null, excludedMutations: [], ignorers: [], noHeader: true })

const lineStarts = [0]
for (let i = 0; i < src.length; i++) if (src[i] === '\n') lineStarts.push(i + 1)
const offset = p => lineStarts[p.line] + p.column
const transpile = text => babel.transformSync(text, { filename: file, babelrc: false, configFile: false, sourceType: 'module', plugins: [[tsPlugin, {}]] }).code
// The test file runs as a plain script (node:test runs its tests and sets a failing exit code): under `node --test`
// the tests run in a child of the runner, which a timeout would leave running when it kills the runner.
const runTest = () => spawnSync(process.execPath, [test], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })
const oneLine = s => s.replace(/\s*\n\s*/g, ' ')

let applied = 0, killed = 0
const survivors = []
try {
  writeFileSync(out, transpile(src))
  const base = runTest()
  if (base.status !== 0) throw new Error(`${test} fails on the unmutated file (transpiled with Babel):\n${base.stdout.slice(-2000)}`)
  for (const m of mutants) {
    const at = `${m.location.start.line + 1}:${m.location.start.column + 1}`
    if (only !== null && !only.has(at)) continue
    const a = offset(m.location.start), b = offset(m.location.end)
    writeFileSync(out, transpile(src.slice(0, a) + m.replacement + src.slice(b)))
    applied++
    if (runTest().status !== 0) killed++
    else survivors.push(`${file}:${at} | ${m.mutatorName} | ${oneLine(src.slice(a, b)).slice(0, 160)} | ${oneLine(m.replacement).slice(0, 100)}`)
  }
} finally {
  writeFileSync(out, original)
}
console.log(`${file}: ${applied} applied, ${killed} killed, ${survivors.length} survived`)
for (const s of survivors) console.log(s)
