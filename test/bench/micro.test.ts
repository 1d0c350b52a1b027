// test/bench/micro.test.ts: the micro-benchmark runner (bench/micro.ts, bench/runtime/kit/) — the baseline
// comparison (flags beyond 5 %, allocation slack, new and removed cases, filter scope), one real benchmark
// file run through the runner with a short budget, a crashing file reported as such, and the CLI's usage exit.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { BYTES_SLACK, compareCase, compareRuns, countFlags, formatComparison, parseBaseline, type CaseNumbers } from '../../bench/runtime/kit/compare.js'
import { listBenchFiles, runBenchFile } from '../../bench/runtime/kit/runner.js'
import { matchesFilter } from '../../bench/runtime/kit/suite.js'
import { ROOT, repoPath } from '../helpers/paths.js'

/** Numbers whose fastest batch is `minNs`; the mean is made noisier on purpose (it is not what is compared). */
const n = (minNs: number, bytesPerOp = 0): CaseNumbers => ({ nsPerOp: minNs * (1.2 + Math.random()), p99Ns: minNs * 5, minNs, opsPerSec: 1e9 / minNs, bytesPerOp })

test('a case more than 5% slower (fastest batch) is a REGRESSION, within 5% is ok, more than 5% faster is improved', () => {
  assert.equal(compareCase('f/a', n(106), n(100)).flag, 'REGRESSION')
  assert.match(compareCase('f/a', n(106), n(100)).reason, /time \+6\.0%/)
  assert.equal(compareCase('f/a', n(104.9), n(100)).flag, 'ok')
  assert.equal(compareCase('f/a', n(95.1), n(100)).flag, 'ok')
  assert.equal(compareCase('f/a', n(94), n(100)).flag, 'improved')
})

test('allocating more is a REGRESSION even when faster; crumbs under the byte slack are not flagged', () => {
  const more = compareCase('f/a', n(90, 148), n(100, 100))
  assert.equal(more.flag, 'REGRESSION')
  assert.match(more.reason, /bytes \+48/)
  assert.equal(compareCase('f/a', n(100, 0.6), n(100, 0)).flag, 'ok', 'from 0 to under a word')
  assert.equal(compareCase('f/a', n(100, 100 + BYTES_SLACK - 1), n(100, 100)).flag, 'ok', 'below the slack')
  assert.equal(compareCase('f/a', n(100, 1000 + 40), n(100, 1000)).flag, 'ok', '+40 B on 1,000 is under 5%')
  assert.equal(compareCase('f/a', n(100, 52), n(100, 100)).flag, 'improved')
})

test('new cases, removed cases, and baseline cases out of the run\'s scope', () => {
  const base = { 'ids/old': n(10), 'ids/kept': n(10), 'path/untouched': n(10), 'ids/filtered out': n(10) }
  const cur = { 'ids/kept': n(10.2), 'ids/fresh': n(5) }
  // as if only ids ran, with a filter that excludes "filtered out"
  const rows = compareRuns(base, cur, key => key.startsWith('ids/') && key !== 'ids/filtered out')
  const flags = Object.fromEntries(rows.map(r => [r.key, r.flag]))
  assert.deepEqual(flags, { 'ids/kept': 'ok', 'ids/fresh': 'new', 'ids/old': 'removed' })
  assert.deepEqual(countFlags(rows), { REGRESSION: 0, improved: 0, ok: 1, new: 1, removed: 1 })
  const table = formatComparison(rows)
  assert.match(table, /ids\/fresh .* new/)
  assert.match(table, /ids\/old .* removed/)
})

test('the filter matches file/case case-insensitively; baselines of another format are refused', () => {
  assert.ok(matchesFilter('IDS/new', 'ids', 'new request id'))
  assert.ok(matchesFilter('e2e', 'handler', 'e2e: passthrough'))
  assert.ok(!matchesFilter('e2e', 'handler', 'handler: passthrough'))
  assert.ok(matchesFilter(undefined, 'x', 'y'))
  assert.equal(parseBaseline(null), null)
  assert.throws(() => parseBaseline('{"format":"something-else","version":1,"cases":{}}'), /gwp-micro-baseline/)
})

test('a real benchmark file runs through the runner in its own process and yields a result', async () => {
  const path = repoPath('dist/bench/runtime/ids.bench.js')
  assert.ok(listBenchFiles().includes(path), 'the runner finds the compiled file')
  const o = await runBenchFile(path, { filter: 'new request id', timeMs: 20, allocOps: 20_000 })
  assert.equal(o.error, null)
  assert.ok(o.ok && o.result !== null)
  assert.equal(o.result.file, 'ids')
  assert.equal(o.result.exposeGc, true, 'the runner starts files with --expose-gc')
  assert.deepEqual(o.result.cases.map(c => c.name), ['new request id'])
  const c = o.result.cases[0]
  assert.ok(c.nsPerOp > 0 && c.nsPerOp < 100_000, `ns/op ${c.nsPerOp}`)
  assert.ok(c.minNs > 0 && c.minNs <= c.nsPerOp, `min ${c.minNs} ≤ mean ${c.nsPerOp}`)
  assert.ok(c.opsPerSec > 0 && c.samples > 0 && c.batch >= 1)
  // a request id is a fresh string of ~20 chars: some bytes, far below a kilobyte
  assert.ok(c.bytesPerOp > 8 && c.bytesPerOp < 1024, `bytes/op ${c.bytesPerOp}`)
  assert.match(o.stdout, /new request id/, 'the file prints its table')
})

test('a file that crashes is reported with its error, not as a result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwp-micro-test-'))
  try {
    const bad = join(dir, 'broken.bench.js')
    writeFileSync(bad, "throw new Error('setup exploded')\n")
    writeFileSync(join(dir, 'helper.js'), '')
    assert.deepEqual(listBenchFiles(dir), [bad], 'only *.bench.js files are benchmark files')
    const o = await runBenchFile(bad, { timeMs: 10 })
    assert.equal(o.ok, false)
    assert.equal(o.file, 'broken')
    assert.equal(o.result, null)
    assert.match(o.error ?? '', /exited with code 1[\s\S]*setup exploded/)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})

test('the CLI answers a bad option with usage and exit code 2', () => {
  const r = spawnSync(process.execPath, [repoPath('dist/bench/micro.js'), '--no-such-option'], { encoding: 'utf8', timeout: 10_000 })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /usage: node dist\/bench\/micro\.js/)
})

test('the compiler benchmark (bench/compiler) runs with the runtime ones and is compared with the baseline', () => {
  const files = listBenchFiles().map(f => relative(ROOT, f))
  assert.ok(files.includes('dist/bench/compiler/compile.bench.js'), `the runner lists ${files.join(', ')}`)
  assert.ok(files.includes('dist/bench/runtime/path.bench.js'))
  const baseline = parseBaseline(readFileSync(repoPath('bench/baseline.json'), 'utf8'))
  assert.deepEqual(Object.keys(baseline?.cases ?? {}).filter(k => k.startsWith('compile/')).sort(),
    ['compile/parse + check (1000 routes)', 'compile/parse + check + build (1000 routes)', 'compile/parse only (1000 routes)'])
})
