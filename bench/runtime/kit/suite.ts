// bench/runtime/kit/suite.ts: what a bench/runtime/*.bench.ts file builds its cases with: argv handling
// (--time, --alloc-ops, --filter, --json), running the cases one after another, the printed table, and the
// JSON result the runner (bench/micro.ts) collects.
import { writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { measureCase, type CaseResult, type CaseSpec } from './measure.js'
import { BENCH_SUFFIX } from './paths.js'
import { bytes, ns, num, renderTable } from './table.js'

/** What one benchmark file reports (the JSON written with --json). */
export interface FileResult {
  format: 'gwp-micro-file'
  /** The file's name without `.bench.js`: the first half of every case key (`file/case`). */
  file: string
  title: string
  node: string
  timeMs: number
  allocOps: number
  /** Whether global.gc came from --expose-gc (else set late, see measure.ts). */
  exposeGc: boolean
  /** The node flags the file ran with (the runner's are in runner.ts NODE_FLAGS). */
  execArgv: string[]
  cases: CaseResult[]
}

export interface SuiteOptions {
  /** Default time budget per case, ms (--time overrides). */
  timeMs?: number
  /** Default ops in the allocation window (--alloc-ops overrides). */
  allocOps?: number
}

export interface Suite {
  readonly file: string
  /** Adds a case. `note` is one line on what the op allocates. */
  add(name: string, note: string, fn: () => unknown, opts?: { yields?: boolean }): Suite
  /** Runs the cases that pass --filter, prints the table, writes --json; returns the results. */
  run(): Promise<FileResult>
}

export const DEFAULT_TIME_MS = 500
export const DEFAULT_ALLOC_OPS = 100_000

/** `fileUrl` is the bench file's import.meta.url; its name is the file's key in tables and the baseline. */
export function createSuite(fileUrl: string, title: string, defaults: SuiteOptions = {}): Suite {
  const file = basename(fileURLToPath(fileUrl)).replace(BENCH_SUFFIX, '').replace(/\.bench\.ts$/, '')
  const { values } = parseArgs({
    options: { time: { type: 'string' }, 'alloc-ops': { type: 'string' }, filter: { type: 'string' }, json: { type: 'string' } },
    strict: false,
  })
  const timeMs = positive(values.time, defaults.timeMs ?? DEFAULT_TIME_MS, '--time')
  const allocOps = positive(values['alloc-ops'], defaults.allocOps ?? DEFAULT_ALLOC_OPS, '--alloc-ops')
  const filter = typeof values.filter === 'string' ? values.filter.toLowerCase() : undefined
  const cases: CaseSpec[] = []

  const suite: Suite = {
    file,
    add(name, note, fn, opts = {}) {
      if (cases.some(c => c.name === name)) throw new Error(`${file}: case ${JSON.stringify(name)} added twice`)
      cases.push({ name, note, fn, yields: opts.yields })
      return suite
    },
    async run() {
      const chosen = cases.filter(c => matchesFilter(filter, file, c.name))
      const results: CaseResult[] = []
      for (const c of chosen) results.push(await measureCase(c, { timeMs, allocOps }))
      const out: FileResult = {
        format: 'gwp-micro-file', file, title, node: process.version, timeMs, allocOps,
        exposeGc: process.execArgv.includes('--expose-gc'), execArgv: process.execArgv, cases: results,
      }
      // A filtered run starts every file; the ones it leaves empty stay quiet.
      if (results.length > 0 || filter === undefined) process.stdout.write(`\n${file}: ${title}\n${formatFileTable(results)}\n`)
      if (typeof values.json === 'string') writeFileSync(values.json, JSON.stringify(out, null, 2) + '\n')
      return out
    },
  }
  return suite
}

/** Whether `file/case` contains the filter (case-insensitive); no filter matches everything. */
export function matchesFilter(filter: string | undefined, file: string, name: string): boolean {
  return filter === undefined || filter === '' || `${file}/${name}`.toLowerCase().includes(filter.toLowerCase())
}

export function formatFileTable(rows: readonly CaseResult[]): string {
  if (rows.length === 0) return '(no case matched the filter)'
  return renderTable(
    ['case', 'ns/op', 'p99 ns', 'min ns', '±%', 'ops/s', 'B/op', 'allocates'],
    rows.map(r => [r.name, ns(r.nsPerOp), ns(r.p99Ns), ns(r.minNs), num(r.rmePct, 1), num(r.opsPerSec), bytes(r.bytesPerOp), r.note]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  )
}

function positive(v: string | boolean | undefined, dflt: number, flag: string): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number, got ${JSON.stringify(v)}`)
  return n
}
