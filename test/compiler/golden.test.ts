// test/compiler/golden.test.ts: every case under test/golden/ is compiled in-process and its rendered
// diagnostics compared with expected.txt (exactly what `gwc check input.gwp` prints from the case directory;
// a case about the YAML front end has an input.yaml instead),
// and, where a case has one, its generated module with expected.mjs. `UPDATE_GOLDEN=1` rewrites them.
// Cases under test/golden/_pending/ show compiler bugs: their expected files say what the output *should*
// be, they run as todo tests, and are never rewritten.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { compile, type CompileResult } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { CODES } from '../../grammar/diagnostic-codes.js'
import { renderText, summary } from '../../compiler/diagnostics/render.js'
import { nodeHost } from '../../compiler/sources.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { verifyBundle } from '../../config/bundle.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { repoPath } from '../helpers/paths.js'
import { recordingDeps } from './fake-stages.js'

const GOLDEN = repoPath('test/golden')
const PENDING = join(GOLDEN, '_pending')
const UPDATE = process.env.UPDATE_GOLDEN === '1'
/** Stamped into expected.mjs banners instead of the package version, so a release does not churn goldens. */
const GOLDEN_COMPILER = 'golden'

/** A case's input: input.gwp, or input.yaml for the YAML front end. */
const inputOf = (dir: string): string => (existsSync(join(dir, 'input.yaml')) ? 'input.yaml' : 'input.gwp')
const isCase = (dir: string): boolean => existsSync(join(dir, inputOf(dir)))
const caseNames = (root: string): string[] =>
  readdirSync(root).filter(n => !n.startsWith('_') && statSync(join(root, n)).isDirectory() && isCase(join(root, n))).sort()

/** Compiles a case the way `gwc check input.gwp` would from its directory, and renders what gwc prints. */
function runCase(dir: string): { r: CompileResult; text: string } {
  const r = compile([inputOf(dir)], { host: nodeHost(dir), frontEnds: FRONT_ENDS })
  const texts = new Map(r.sources.map(s => [s.display, s.text]))
  const files = r.sources.length
  const text = (r.diagnostics.length > 0 ? renderText(r.diagnostics, texts) : '') +
    `${summary(r.diagnostics)} in ${files} file${files === 1 ? '' : 's'}\n`
  return { r, text }
}

/** Compares `actual` with a golden file, or (with UPDATE_GOLDEN=1) rewrites it. */
function golden(file: string, actual: string, mayUpdate = true): void {
  if (UPDATE && mayUpdate) { writeFileSync(file, actual); return }
  assert.ok(existsSync(file), `${file} is missing: run with UPDATE_GOLDEN=1 to create it, then review the diff`)
  assert.equal(actual, readFileSync(file, 'utf8'), `${file} differs (UPDATE_GOLDEN=1 rewrites it; review the diff like code)`)
}

/** Every diagnostic (and note) points inside its file: line within the file, column within the line (+1 for end of line). */
function assertPositions(r: CompileResult): void {
  const texts = new Map(r.sources.map(s => [s.display, s.text]))
  const check = (what: string, file: string, line: number, col: number, len: number) => {
    const t = texts.get(file)
    assert.ok(t !== undefined, `${what}: unknown file ${file}`)
    const lines = t.split('\n')
    assert.ok(Number.isInteger(line) && line >= 1 && line <= lines.length, `${what}: line ${line} outside ${file} (${lines.length} lines)`)
    assert.ok(Number.isInteger(col) && col >= 1 && col <= lines[line - 1].length + 1, `${what}: col ${col} outside line ${line} of ${file}`)
    assert.ok(Number.isInteger(len) && len >= 1, `${what}: bad length ${len}`)
  }
  for (const d of r.diagnostics) {
    check(`${d.code} ${d.message}`, d.file, d.line, d.col, d.len)
    for (const n of d.notes ?? []) check(`note of ${d.code}`, n.file, n.line, n.col, n.len)
  }
}

/** A clean compile must also build a bundle that verifies and instantiates with one handler per route. */
function assertBuilds(r: CompileResult): string {
  assert.ok(r.ir !== undefined, 'a clean compile produces IR')
  const b = buildBundle(r.ir, r.sources, GOLDEN_COMPILER)
  const m = verifyBundle(b.manifestText, b.moduleText)
  const { deps } = recordingDeps()
  const loaded = instantiateBundle(m, b.moduleText, deps)
  assert.equal(loaded.handlers.length, r.ir.routes.length)
  return b.moduleText
}

const names = caseNames(GOLDEN)

for (const name of names) {
  const dir = join(GOLDEN, name)
  test(`golden ${name}`, () => {
    const { r, text } = runCase(dir)
    golden(join(dir, 'expected.txt'), text)
    assertPositions(r)
    const codes = new Set<string>(r.diagnostics.map(d => d.code))
    for (const c of codes) assert.ok(c in CODES, `${c} is not in the catalogue (grammar/diagnostic-codes.ts)`)
    if (name.startsWith('clean-')) {
      assert.equal(r.diagnostics.length, 0, 'a clean case has no diagnostics, not even warnings')
      const moduleText = assertBuilds(r)
      const mjs = join(dir, 'expected.mjs')
      if (existsSync(mjs)) golden(mjs, moduleText)
      return
    }
    const named = /^([ew]\d{4})-/.exec(name)?.[1]?.toUpperCase()
    if (named !== undefined) assert.ok(codes.has(named), `case ${name} is named for ${named} but reports ${[...codes].join(', ') || 'nothing'}`)
    else assert.ok(r.errors > 0, `case ${name} is neither clean- nor named for a code, so it must show errors`)
  })
}

test('golden: examples/*.gwp check without a single diagnostic and build', () => {
  const dir = repoPath('examples')
  const files = readdirSync(dir).filter(f => f.endsWith('.gwp')).sort()
  assert.ok(files.length > 0, 'there are example files')
  for (const f of files) {
    const r = compile([f], { host: nodeHost(dir) })
    const texts = new Map(r.sources.map(s => [s.display, s.text]))
    assert.equal(r.diagnostics.length, 0, `examples/${f}:\n${renderText(r.diagnostics, texts)}`)
    assertBuilds(r)
  }
})

test('golden: every diagnostic code in the catalogue is triggered by at least one case', () => {
  const seen = new Set<string>()
  for (const name of names) {
    const f = join(GOLDEN, name, 'expected.txt')
    if (!existsSync(f)) continue
    for (const m of readFileSync(f, 'utf8').matchAll(/^(?:error|warning)\[([EW]\d{4})\]/gm)) seen.add(m[1])
  }
  const missing = Object.keys(CODES).filter(c => !seen.has(c))
  assert.deepEqual(missing, [], `codes without a golden case: ${missing.join(', ')}`)
})

test('golden: at least 45 broken cases, each small', () => {
  const broken = names.filter(n => !n.startsWith('clean-'))
  assert.ok(broken.length >= 45, `only ${broken.length} broken cases`)
  for (const n of names) {
    const lines = readFileSync(join(GOLDEN, n, inputOf(join(GOLDEN, n))), 'utf8').split('\n').length
    assert.ok(lines <= 40, `case ${n} has ${lines} lines: keep cases small and about one thing`)
  }
})

test('golden: `gwc check` prints exactly expected.txt and exits 1 on errors, 0 when clean', () => {
  const gwc = repoPath('dist/bin/gwc.js')
  for (const [name, code] of [['multi-file-errors', 1], ['w0704-route-without-timeout', 0], ['clean-policies-defaults-include', 0]] as const) {
    const dir = join(GOLDEN, name)
    // a generous limit: a gwc process took over 10 s to start and check at load 22 (a shared machine)
    const p = spawnSync(process.execPath, [gwc, 'check', 'input.gwp'], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
    assert.equal(p.stderr, readFileSync(join(dir, 'expected.txt'), 'utf8'), `gwc check in ${name}`)
    assert.equal(p.status, code, `exit status for ${name}`)
  }
})

// Known compiler bugs, with the output the compiler *should* give; they pass once the bug is fixed.
const pending = existsSync(PENDING) ? caseNames(PENDING) : []
for (const name of pending) {
  const dir = join(PENDING, name)
  test(`golden pending ${name}`, { todo: `compiler bug, see test/golden/_pending/${name}/NOTE.md` }, () => {
    const { text } = runCase(dir)
    golden(join(dir, 'expected.txt'), text, false)
  })
}
