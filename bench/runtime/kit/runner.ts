// bench/runtime/kit/runner.ts: runs micro-benchmark files, each in a fresh `node --expose-gc` process so one
// file's JIT state (inlining decisions, megamorphic call sites, a grown heap) cannot leak into the next, and
// collects each file's JSON result. Files run one at a time: on 2 cores, two at once would time each other.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { BENCH_SUFFIX, MICRO_DIRS } from './paths.js'
import type { FileResult } from './suite.js'

/** How the runner starts a benchmark file's node. */
export const NODE_FLAGS: readonly string[] = ['--expose-gc', '--no-concurrent-recompilation']

export interface RunFileOptions {
  /** Passed through as --time / --alloc-ops / --filter. */
  timeMs?: number
  allocOps?: number
  filter?: string
  /** Echo the child's stdout (its table) as it runs; otherwise it is captured. */
  echo?: boolean
  /** Kill the child after this long (default 5 minutes): a hung setup must not hang the run. */
  timeoutMs?: number
}

export interface FileOutcome {
  /** The file's name without `.bench.js`. */
  file: string
  path: string
  ok: boolean
  result: FileResult | null
  /** Why it failed: exit code or signal and the tail of stderr. */
  error: string | null
  stdout: string
  ms: number
}

/** The compiled `*.bench.js` files in `dirs`, sorted by folder then name (kit/ and other subfolders are not
 * benchmark files; a folder not built yet has none). */
export function listBenchFiles(dirs: string | readonly string[] = MICRO_DIRS): string[] {
  return (typeof dirs === 'string' ? [dirs] : dirs).flatMap(dir => {
    let entries
    try { entries = readdirSync(dir, { withFileTypes: true }) } catch { return [] }
    return entries.filter(e => e.isFile() && e.name.endsWith(BENCH_SUFFIX)).map(e => join(dir, e.name)).sort()
  })
}

export const fileName = (path: string): string => basename(path).replace(BENCH_SUFFIX, '')

/** Runs one benchmark file in its own process and reads its JSON result. Never throws for a failing file. */
export async function runBenchFile(path: string, o: RunFileOptions = {}): Promise<FileOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'gwp-micro-'))
  const json = join(dir, 'result.json')
  // --no-concurrent-recompilation: V8 optimises on the main thread, during warm-up, instead of on a helper
  // thread that a busy second core starves. The optimised code is the same; what changes is that it is ready
  // before timing starts. Measured on route-lookup: without it, one run in three had cases 30-60% slower (min
  // ns); with it, three runs agreed to within 2-3%.
  const args = [...NODE_FLAGS, path, '--json', json]
  if (o.timeMs !== undefined) args.push('--time', String(o.timeMs))
  if (o.allocOps !== undefined) args.push('--alloc-ops', String(o.allocOps))
  if (o.filter !== undefined) args.push('--filter', o.filter)
  const t0 = performance.now()
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; if (o.echo) process.stdout.write(s) })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024) })
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 5 * 60_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.once('close', (c, s) => resolve([c, s])))
  clearTimeout(timer)
  const ms = Math.round(performance.now() - t0)
  let result: FileResult | null = null
  let error: string | null = null
  if (code !== 0) error = `${signal !== null ? `killed by ${signal}` : `exited with code ${code}`}${tail(stderr)}`
  else {
    try {
      result = JSON.parse(readFileSync(json, 'utf8')) as FileResult
      if (result.format !== 'gwp-micro-file') throw new Error(`unexpected format ${JSON.stringify(result.format)}`)
    } catch (e) { result = null; error = `no result: ${(e as Error).message}${tail(stderr)}` }
  }
  rmSync(dir, { recursive: true, force: true })
  return { file: fileName(path), path, ok: error === null, result, error, stdout, ms }
}

const tail = (s: string): string => {
  const lines = s.trim().split('\n').slice(-12)
  return lines.length === 0 || lines[0] === '' ? '' : `\n${lines.map(l => `    ${l}`).join('\n')}`
}
