#!/usr/bin/env node
// One command for a mutation run over one area: builds a StrykerJS config (mutate = the area's files from map.json,
// the mapped-tap runner, incremental cache), runs Stryker from the repository root and writes the dated report.
//   npm --prefix lab run mutation -- --area edge|upstream|policies [--files a.ts,b.ts] [--concurrency N] [--full]
//   npm --prefix lab run mutation -- --check-map
import { spawnSync, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { areaFiles, testFilesFor } from './lib/map.mjs'
import { importClosure } from './lib/imports.mjs'
import { renderReport, summarize, score } from './lib/report.mjs'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TARGET = 85
const map = JSON.parse(readFileSync(join(HERE, 'map.json'), 'utf8'))
const equivalents = JSON.parse(readFileSync(join(HERE, 'equivalents.json'), 'utf8')).mutants

const { values: args } = parseArgs({
  options: {
    area: { type: 'string' }, files: { type: 'string' }, concurrency: { type: 'string', default: '1' },
    full: { type: 'boolean', default: false }, 'check-map': { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
  },
})

/** Which directories an area covers, to find a source file nobody mapped. */
const AREA_DIRS = { edge: null, upstream: 'runtime/upstream', policies: 'policies' }

function walk(dir) {
  return readdirSync(join(ROOT, dir)).flatMap(n => {
    const p = join(dir, n)
    return statSync(join(ROOT, p)).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []
  })
}

function checkMap() {
  if (!existsSync(join(ROOT, 'dist/test'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' })
  const problems = []
  for (const [area, files] of Object.entries(map.areas)) {
    const dir = AREA_DIRS[area]
    if (dir) for (const f of walk(dir)) if (!(f in files)) problems.push(`${area}: ${f} is not mapped`)
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
const tests = [...new Set(files.flatMap(f => testFilesFor(map, f)))]

const work = join(HERE, '.work')
const cache = join(HERE, 'cache')
mkdirSync(work, { recursive: true }); mkdirSync(cache, { recursive: true }); mkdirSync(join(HERE, 'reports'), { recursive: true })
const jsonReport = join(work, `${area}.json`)
const config = {
  $schema: '../node_modules/@stryker-mutator/core/schema/stryker-schema.json',
  packageManager: 'npm',
  plugins: ['@stryker-mutator/tap-runner', join(HERE, 'mapped-runner.mjs')],
  testRunner: 'mapped-tap',
  tap: { testFiles: tests.sort() },
  coverageAnalysis: 'off',
  buildCommand: `node ${join(HERE, 'build.mjs')}`,
  // Stryker rewrites the tsconfig's extends/references through the TypeScript API, which TypeScript 7 no longer
  // has; ours has neither, so point it at a file that does not exist and it leaves tsconfig.json alone.
  tsconfigFile: 'lab/mutation/no-tsconfig-rewrite.json',
  mutate: files,
  // only the instrumented files need it; the rest of the project type-checks as usual
  disableTypeChecks: `{${files.join(',')}}`,
  ignorePatterns: ['/dist', '/lab', '/bench/results', '/docs', '/.stryker-tmp'],
  incremental: !args.full,
  incrementalFile: relative(ROOT, join(cache, `${area}.json`)),
  force: args.full,
  concurrency: Number(args.concurrency),
  timeoutFactor: 1.5,
  timeoutMS: 5000,
  dryRunTimeoutMinutes: 30,
  reporters: ['json', 'progress'],
  jsonReporter: { fileName: relative(ROOT, jsonReport) },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
}
const configFile = join(work, `${area}.stryker.json`)
writeFileSync(configFile, JSON.stringify(config, null, 2))

const command = `npm --prefix lab run mutation -- --area ${area}${args.files ? ` --files ${args.files}` : ''}`
const started = Date.now()
if (!args['report-only']) {
  const r = spawnSync(join(HERE, '../node_modules/.bin/stryker'), ['run', relative(ROOT, configFile)], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) { console.error(`mutation: stryker exited with ${r.status}`); process.exit(1) }
}
const seconds = (Date.now() - started) / 1000

const report = JSON.parse(readFileSync(jsonReport, 'utf8'))
const summary = summarize(report, equivalents)
const date = new Date().toISOString().slice(0, 10)
const out = join(HERE, 'reports', `${date}-${area}${args.files ? '-partial' : ''}.md`)
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim() +
  (execFileSync('git', ['status', '--porcelain', '--', ...files], { cwd: ROOT, encoding: 'utf8' }).trim() === '' ? '' : ' (with uncommitted changes)')
const stryker = JSON.parse(readFileSync(join(HERE, '../node_modules/@stryker-mutator/core/package.json'), 'utf8')).version
writeFileSync(out, renderReport({ area, date, command, seconds, stryker, node: process.version, commit, target: TARGET, summary }))
console.log(`mutation: ${area} ${score(summary.total).toFixed(1)}% killed (target ${TARGET}%), report ${relative(ROOT, out)}`)
