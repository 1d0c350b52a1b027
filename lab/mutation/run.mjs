#!/usr/bin/env node
// One command for a mutation run over one area: builds a StrykerJS config (mutate = the area's files from map.json,
// the mapped-tap runner, incremental cache), runs Stryker from the repository root and writes the dated report.
//   npm --prefix lab run mutation -- --area edge|upstream|policies [--files a.ts,b.ts] [--concurrency N] [--full | --survivors-only]
//   npm --prefix lab run mutation -- --area upstream --files big.ts --lines 1-200   (one part of a big file)
//   npm --prefix lab run mutation -- --check-map
import { spawnSync, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, statSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { areaFiles, testFilesFor } from './lib/map.mjs'
import { importClosure } from './lib/imports.mjs'
import { linesChanged, linesNotCovered, renderReport, summarize, score } from './lib/report.mjs'
import { dropUnkilled, rerunScope } from './lib/rerun.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TARGET = 85
const map = JSON.parse(readFileSync(join(HERE, 'map.json'), 'utf8'))
const equivalents = JSON.parse(readFileSync(join(HERE, 'equivalents.json'), 'utf8')).mutants

const { values: args } = parseArgs({
  options: {
    area: { type: 'string' }, files: { type: 'string' }, concurrency: { type: 'string', default: '1' },
    full: { type: 'boolean', default: false }, 'check-map': { type: 'boolean', default: false }, lines: { type: 'string' },
    'survivors-only': { type: 'boolean', default: false }, 'recheck-timeouts': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
})

/**
 * Which directories (or single files) an area covers, to find a source file nobody mapped. upstream/ holds the
 * upstream mechanisms (breaker, bulkhead, retry and its budget, the proxy stage) since issue 11; their compile
 * side (the checks of `breaker`, `bulkhead`, `retry` and of the terminal `proxy`/`respond`) is in compiler/check
 * and belongs to the same area: the same behaviour, written in the .gwp instead of run.
 */
const AREA_DIRS = {
  edge: [],
  upstream: ['runtime/upstream', 'compiler/check/upstream-breaker.ts', 'compiler/check/upstream-bulkhead.ts', 'compiler/check/upstream-retry.ts', 'compiler/check/terminal.ts'],
  // runtime/redis.ts: the Redis stages' shared bound and outage tracking (rate limits, API keys in Redis)
  policies: ['policies', 'runtime/redis.ts'],
  // the byte-level engine (issue 13): its parsers, both sides' I/O (the upstream pool too) and tunnels
  engine: ['runtime/http1', 'runtime/tunnel'],
}

/**
 * Environment a run of an area needs. The engine's server-side files (connection, edge-request, edge-response,
 * writer, server) run only when a gateway uses the http1 engine, and most mapped tests start theirs from
 * `loadSettings`, which reads GW_ENGINE: the Stryker process passes it to its workers, the tap runner to each
 * test process (`...process.env`), a test's gw children inherit it.
 */
const AREA_ENV = {
  engine: { GW_ENGINE: 'http1' },
}

/** A policy's options.ts declares types only (the options both halves share): nothing to mutate. */
const TYPES_ONLY = /(^|\/)options\.ts$/

function walk(dir) {
  if (!statSync(join(ROOT, dir)).isDirectory()) return [dir]
  return readdirSync(join(ROOT, dir)).flatMap(n => {
    const p = join(dir, n)
    return statSync(join(ROOT, p)).isDirectory() ? walk(p) : p.endsWith('.ts') && !TYPES_ONLY.test(p) ? [p] : []
  })
}

function checkMap() {
  if (!existsSync(join(ROOT, 'dist/test'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' })
  const problems = []
  for (const [area, files] of Object.entries(map.areas)) {
    for (const dir of AREA_DIRS[area] ?? []) for (const f of walk(dir)) if (!(f in files)) problems.push(`${area}: ${f} is not mapped`)
    for (const [src, tests] of Object.entries(files)) {
      if (!existsSync(join(ROOT, src))) { problems.push(`${area}: ${src} does not exist`); continue }
      const compiled = join(ROOT, 'dist', src.replace(/\.ts$/, '.js'))
      for (const t of tests) {
        const tf = join(ROOT, 'dist/test', t)
        if (!existsSync(tf)) { problems.push(`${src}: ${t} does not exist (build first)`); continue }
        if (!importClosure(tf).has(compiled)) problems.push(`${src}: ${t} does not import it (directly or through other modules)`)
      }
    }
  }
  for (const p of problems) console.error('map: ' + p)
  console.log(problems.length === 0 ? 'map: every area file is mapped and every mapped test imports its file' : `map: ${problems.length} problem(s)`)
  return problems.length === 0
}

if (args['check-map']) process.exit(checkMap() ? 0 : 1)

const area = args.area
if (area === undefined) { console.error('usage: npm --prefix lab run mutation -- --area ' + Object.keys(map.areas).join('|') + ' [--files a.ts,b.ts] [--concurrency N] [--full]'); process.exit(2) }
const all = areaFiles(map, area)
const files = args.files === undefined ? all : args.files.split(',').map(f => f.trim())
for (const f of files) if (!all.includes(f)) { console.error(`mutation: ${f} is not a file of area ${area}`); process.exit(2) }
// --lines A-B: only the mutants of those lines of one file (Stryker's mutation range), with their own cache and
// report, so a file too big to run in one sitting is run in parts and each finished part is kept
if (args.lines !== undefined && (files.length !== 1 || !/^\d+-\d+$/.test(args.lines))) { console.error('mutation: --lines A-B takes one file (--files x.ts)'); process.exit(2) }
const part = args.lines === undefined ? '' : `.L${args.lines}`
const work = join(HERE, '.work')
const cache = join(HERE, 'cache')
for (const d of [work, cache, join(HERE, 'reports')]) mkdirSync(d, { recursive: true })
const slug = f => f.replace(/\.ts$/, '').replaceAll('/', '__')
const jsonReportOf = f => join(cache, `${slug(f)}${part}.report.json`)
/** Every result of a file: its whole-file report, else the reports of its parts (`--lines`), with the parts' ranges. */
function reportsOf(f) {
  const whole = join(cache, `${slug(f)}.report.json`)
  if (existsSync(whole)) return { paths: [whole], parts: null }
  const names = readdirSync(cache).filter(n => n.startsWith(`${slug(f)}.L`) && n.endsWith('.report.json')).sort((a, b) => parseInt(a.slice(slug(f).length + 2)) - parseInt(b.slice(slug(f).length + 2)))
  return { paths: names.map(n => join(cache, n)), parts: names.map(n => n.slice(slug(f).length + 2, -'.report.json'.length)) }
}

/**
 * One Stryker run per source file: its own sandbox and build, a dry run of only the file's mapped tests (so the
 * timeout is measured on them), its own incremental file. A run stopped part-way keeps the files it finished.
 */
function strykerConfig(file) {
  const tests = testFilesFor(map, file)
  return {
    $schema: '../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
    packageManager: 'npm',
    plugins: ['@stryker-mutator/tap-runner', join(HERE, 'mapped-runner.mjs')],
    testRunner: 'mapped-tap',
    tap: { testFiles: tests },
    coverageAnalysis: 'off',
    buildCommand: `node ${join(HERE, 'build.mjs')}`,
    // Stryker rewrites the tsconfig's extends/references through the TypeScript API, which TypeScript 7 no longer
    // has; ours has neither, so point it at a file that does not exist and it leaves tsconfig.json alone.
    tsconfigFile: 'lab/mutation/no-tsconfig-rewrite.json',
    mutate: [args.lines === undefined ? file : `${file}:${args.lines}`],
    disableTypeChecks: file,
    // docs/ stays out but for operations.md, which differential-requests checks against the comparator's classes
    ignorePatterns: ['/dist', '/lab', '/bench/results', '/docs/*', '!/docs/operations.md', '/.stryker-tmp'],
    incremental: !args.full,
    incrementalFile: relative(ROOT, join(cache, `${slug(file)}${part}.incremental.json`)),
    force: args.full,
    concurrency: Number(args.concurrency),
    timeoutFactor: 1.5,
    timeoutMS: 5000,
    dryRunTimeoutMinutes: 30,
    reporters: ['json', 'progress'],
    jsonReporter: { fileName: relative(ROOT, jsonReportOf(file)) },
    tempDirName: '.stryker-tmp',
    cleanTempDir: true,
  }
}

/**
 * What a file's earlier results depend on besides its own source: the compiled mapped tests and everything they
 * import (minus the file itself, whose changes Stryker's incremental diff sees). Stryker cannot see these (the
 * tests are compiled into dist/, outside its input files) and would reuse every result after a test was
 * added, so a changed fingerprint forces a full run of that file.
 */
function testsFingerprint(file) {
  const self = join(ROOT, 'dist', file.replace(/\.ts$/, '.js'))
  const files = new Set()
  for (const t of testFilesFor(map, file)) for (const f of importClosure(join(ROOT, t))) if (f !== self) files.add(f)
  const h = createHash('sha256')
  for (const f of [...files].sort()) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0')
  return h.digest('hex')
}

/** The same per mapped test file (its own closure): tells "tests were only added" from "a test changed". */
function testsFingerprints(file) {
  const self = join(ROOT, 'dist', file.replace(/\.ts$/, '.js'))
  const out = {}
  for (const t of testFilesFor(map, file)) {
    const h = createHash('sha256')
    for (const f of [...importClosure(join(ROOT, t))].filter(f => f !== self).sort()) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0')
    out[t] = h.digest('hex')
  }
  return out
}

const command = `npm --prefix lab run mutation -- --area ${area}${args.files ? ` --files ${args.files}` : ''}${args.lines ? ` --lines ${args.lines}` : ''}${args['survivors-only'] ? ' --survivors-only' : ''}${args['recheck-timeouts'] ? ' --recheck-timeouts' : ''}`
const timesFile = join(cache, 'seconds.json')
const times = existsSync(timesFile) ? JSON.parse(readFileSync(timesFile, 'utf8')) : {}
const failed = []
if (!args['report-only']) {
  // the fingerprints read the compiled tests: build them as they are now
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' })
  for (const file of files) {
    const configFile = join(work, `${slug(file)}${part}.stryker.json`)
    const fpFile = join(cache, `${slug(file)}${part}.tests.sha256`)
    const fp = testsFingerprint(file)
    const fpsFile = join(cache, `${slug(file)}${part}.tests.json`)
    const fps = testsFingerprints(file)
    const config = strykerConfig(file)
    const incFile = join(ROOT, config.incrementalFile)
    const changed = !existsSync(fpFile) || readFileSync(fpFile, 'utf8').trim() !== fp
    // --survivors-only: tests were made stricter (the runner cannot tell that from a rewrite, the caller says so);
    // otherwise "only test files were added" is detected from the per-test-file fingerprints.
    const scope = args['survivors-only'] || args['recheck-timeouts'] ? 'stricter' : !changed ? 'same' : existsSync(fpsFile) ? rerunScope(JSON.parse(readFileSync(fpsFile, 'utf8')), fps) : 'full'
    if ((scope === 'added' || scope === 'stricter') && !args.full && existsSync(incFile)) {
      // What was killed stays killed; the survivors and no-coverage mutants run again against the current tests.
      // Not for removed or weakened tests: use --full then.
      const inc = JSON.parse(readFileSync(incFile, 'utf8'))
      const n = dropUnkilled(inc, { timeouts: args['recheck-timeouts'] })
      writeFileSync(incFile, JSON.stringify(inc))
      console.log(`mutation: ${file}: its ${n} mutant(s) not killed${args['recheck-timeouts'] ? ' or timed out' : ''} before run again against the current tests, earlier kills kept (${scope === 'added' ? 'test files were added to its map' : args['recheck-timeouts'] ? '--recheck-timeouts' : '--survivors-only'})`)
    } else if (changed) {
      if (!args.full) console.log(`mutation: the tests of ${file} changed since its last run: all its mutants run again`)
      config.force = true
    }
    writeFileSync(configFile, JSON.stringify(config, null, 2))
    console.log(`mutation: ${file} (tests: ${testFilesFor(map, file).join(' ')})`)
    const t0 = Date.now()
    const r = spawnSync(join(HERE, '../node_modules/.bin/stryker'), ['run', relative(ROOT, configFile)], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...AREA_ENV[area] } })
    // a file whose mapped tests fail unmutated (a timing test on a loaded machine) is reported as not run
    if (r.status !== 0) { console.error(`mutation: stryker exited with ${r.status} on ${file}; going on with the next file`); failed.push(file); continue }
    // re-read first: runs of other areas may be writing it too
    writeFileSync(fpFile, fp + '\n')
    writeFileSync(fpsFile, JSON.stringify(fps, null, 2) + '\n')
    Object.assign(times, existsSync(timesFile) ? JSON.parse(readFileSync(timesFile, 'utf8')) : {}, { [file + (args.lines ? `:${args.lines}` : '')]: Math.round((Date.now() - t0) / 1000) })
    writeFileSync(timesFile, JSON.stringify(times, null, 2) + '\n')
  }
}

// The area report covers every file of the area that has a result (the files of this run and earlier ones).
const report = { files: {} }
const missing = []
const stale = []
const fileTimes = {}
for (const f of all) {
  fileTimes[f] = Object.entries(times).filter(([k]) => k === f || k.startsWith(f + ':')).reduce((t, [, v]) => t + v, 0)
  const { paths, parts } = reportsOf(f)
  if (paths.length === 0 || (failed.includes(f) && args.lines === undefined)) { missing.push(f); continue }
  if (parts !== null) {
    const gaps = linesNotCovered(parts, readFileSync(join(ROOT, f), 'utf8').replace(/\n$/, '').split('\n').length)
    if (gaps.length > 0) missing.push(`${f} lines ${gaps.join(', ')} (run in parts: ${parts.join(', ')})`)
  }
  for (const [i, p] of paths.entries()) {
    const r = JSON.parse(readFileSync(p, 'utf8'))
    for (const [k, v] of Object.entries(r.files)) {
      const key = k.replaceAll('\\', '/')
      const n = linesChanged(v.source, readFileSync(join(ROOT, key), 'utf8'))
      if (n > 0) stale.push(`${key}${parts === null ? '' : ` lines ${parts[i]}`} (${n} lines differ)`)
      if (report.files[key] === undefined) report.files[key] = v
      else report.files[key] = { ...v, mutants: [...report.files[key].mutants, ...v.mutants] }
    }
  }
}
const seconds = all.reduce((t, f) => t + fileTimes[f], 0)
const summary = summarize(report, equivalents)
const date = new Date().toISOString().slice(0, 10)
const out = join(HERE, 'reports', `${date}-${area}${missing.length + stale.length > 0 ? '-partial' : ''}.md`)
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() +
  (execFileSync('git', ['status', '--porcelain', '--', ...all], { cwd: ROOT, encoding: 'utf8' }).trim() === '' ? '' : ' (with uncommitted changes)')
const stryker = JSON.parse(readFileSync(join(HERE, '../node_modules/@stryker-mutator/core/package.json'), 'utf8')).version
// one report per area and day: a partial one and a whole one of the same day do not stand side by side
for (const other of [`${date}-${area}.md`, `${date}-${area}-partial.md`]) if (join(HERE, 'reports', other) !== out) rmSync(join(HERE, 'reports', other), { force: true })
writeFileSync(out, renderReport({ area, date, command: `npm --prefix lab run mutation -- --area ${area}`, lastCommand: command, seconds, stryker, node: process.version, commit, target: TARGET, summary, missing, stale, times: fileTimes }))
console.log(`mutation: ${area} ${score(summary.total).toFixed(1)}% killed (target ${TARGET}%), report ${relative(ROOT, out)}`)
