// The lab's own unit tests (cheap, no Stryker run): the report arithmetic, equivalent matching, the map lookup
// and the import closure the map check relies on.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { summarize, score, renderReport, originalText, linesNotCovered, linesChanged } from '../lib/report.mjs'
import { testFilesFor, areaFiles } from '../lib/map.mjs'
import { importClosure, relativeImports } from '../lib/imports.mjs'

const source = 'const a = x > 1\nif (a) f()\n'
const mutant = (id, status, line, col, endCol, mutatorName, replacement) =>
  ({ id, status, mutatorName, replacement, location: { start: { line, column: col }, end: { line, column: endCol } } })
const report = { files: { 'runtime/a.ts': { language: 'typescript', source, mutants: [
  mutant('1', 'Killed', 1, 11, 16, 'EqualityOperator', 'x >= 1'),
  mutant('2', 'Timeout', 1, 11, 16, 'EqualityOperator', 'x < 1'),
  mutant('3', 'Survived', 2, 5, 6, 'ConditionalExpression', 'true'),
  mutant('4', 'Survived', 2, 8, 11, 'BlockStatement', ''),
  mutant('5', 'NoCoverage', 1, 15, 16, 'NumericLiteral', '0'),
  mutant('6', 'CompileError', 1, 1, 5, 'X', 'y'),
] } } }

test('the text a mutant replaces is cut from its location', () => {
  assert.equal(originalText(source, { start: { line: 1, column: 11 }, end: { line: 1, column: 16 } }), 'x > 1')
  assert.equal(originalText(source, { start: { line: 1, column: 15 }, end: { line: 2, column: 3 } }), '1\nif')
})

test('killed and timed out count as killed; survivors and no coverage do not; errors are left out', () => {
  const s = summarize(report)
  assert.deepEqual({ ...s.total }, { killed: 1, timeout: 1, survived: 2, noCoverage: 1, equivalent: 0, errors: 1 })
  assert.equal(score(s.total), 40)
  assert.deepEqual(s.files[0].survivors.map(m => [m.line, m.original, m.replacement]), [[1, '1', '0'], [2, 'a', 'true'], [2, 'f()', '']])
})

test('a listed equivalent mutant leaves the score and is reported with its reason', () => {
  const eq = [{ file: 'runtime/a.ts', line: 2, mutator: 'ConditionalExpression', original: 'a', replacement: 'true', reason: 'a is always true here' }]
  const s = summarize(report, eq)
  assert.equal(s.total.equivalent, 1)
  assert.equal(s.total.survived, 1)
  assert.equal(score(s.total), 50)
  const md = renderReport({ area: 'edge', date: '2026-12-06', command: 'cmd', seconds: 60, stryker: '9', node: 'v20', commit: 'abc', target: 85, summary: s })
  assert.match(md, /\*\*Score: 50\.0%\*\*/)
  assert.match(md, /a is always true here/)
  assert.match(md, /runtime\/a\.ts:2:8 \| BlockStatement \| `f\(\)` \| `` \|/)
  // only a survivor can be equivalent: the same listing never hides a killed mutant
  assert.equal(summarize(report, [{ ...eq[0], mutator: 'EqualityOperator', original: 'x > 1', replacement: 'x >= 1' }]).total.killed, 1)
})

test('the map gives a mutant file its compiled test files, by repo-relative or absolute path', () => {
  const map = { areas: { edge: { 'runtime/ids.ts': ['runtime/ids.test.js'] } } }
  assert.deepEqual(testFilesFor(map, '/x/.stryker-tmp/sandbox-1/runtime/ids.ts'), ['dist/test/runtime/ids.test.js'])
  assert.deepEqual(testFilesFor(map, 'runtime/ids.ts'), ['dist/test/runtime/ids.test.js'])
  assert.equal(testFilesFor(map, '/x/runtime/xids.ts'), undefined)
  assert.deepEqual(areaFiles(map, 'edge'), ['runtime/ids.ts'])
  assert.throws(() => areaFiles(map, 'nope'), /unknown area `nope`/)
})

test('the import closure follows static, re-exported and dynamic relative imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mut-imports-'))
  mkdirSync(join(dir, 'sub'))
  writeFileSync(join(dir, 't.js'), "import { a } from './sub/a.js'\nimport 'node:fs'\nconst m = await import('./d.js')\n")
  writeFileSync(join(dir, 'sub/a.js'), "export * from '../b.js'\nimport x from\n  './c.js'\n")
  writeFileSync(join(dir, 'b.js'), '')
  writeFileSync(join(dir, 'sub/c.js'), '')
  writeFileSync(join(dir, 'd.js'), '')
  writeFileSync(join(dir, 'e.js'), '')
  assert.deepEqual(relativeImports("import type { X } from './x.js'"), ['./x.js'])
  const seen = importClosure(join(dir, 't.js'))
  assert.deepEqual([...seen].map(f => f.slice(dir.length + 1)).sort(), ['b.js', 'd.js', 'sub/a.js', 'sub/c.js', 't.js'])
})

test('a file run in parts is partial only where no part reaches', () => {
  assert.deepEqual(linesNotCovered(['1-74', '75-164'], 164), [])
  assert.deepEqual(linesNotCovered(['120-199'], 480), ['1-119', '200-480'])
  assert.deepEqual(linesNotCovered(['65-148', '149-204', '205-303'], 400), ['1-64', '304-400'])
  assert.deepEqual(linesNotCovered(['1-93', '94-157', '150-166', '170-446'], 446), ['167-169'])
  assert.deepEqual(linesNotCovered(['1-500'], 446), [])
})

test('a run of an older version of a file is told by the lines that differ, and the report names it partial', () => {
  assert.equal(linesChanged('a\nb\nc\n', 'a\nb\nc\n'), 0)
  assert.equal(linesChanged('a\nb\nc\n', 'a\nB\nc\n'), 2, 'one line edited: one out, one in')
  assert.equal(linesChanged('a\nb\nc\n', 'x\na\nb\nc\n'), 1, 'a line added above: the rest only moved')
  assert.equal(linesChanged('a\nb\nc\nd\n', 'a\nd\n'), 2)
  const text = renderReport({ area: 'edge', date: '2026-12-08', command: 'c', seconds: 1, stryker: '9', node: 'v20', commit: 'abc', target: 85, summary: summarize(report), stale: ['runtime/a.ts (3 lines differ)'] })
  assert.match(text, /\*\*Partial: run on an older version of the file .*: runtime\/a\.ts \(3 lines differ\)\.\*\*/)
  assert.doesNotMatch(renderReport({ area: 'edge', date: 'd', command: 'c', seconds: 1, stryker: '9', node: 'v20', commit: 'abc', target: 85, summary: summarize(report) }), /Partial/)
})
