// bench/runtime/kit/paths.ts: where the micro-benchmarks find the repository from dist/bench/runtime/kit/, and
// which compiled files are benchmark files.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root (this file compiles to dist/bench/runtime/kit/paths.js, four levels below it). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
export const repoFile = (...parts: string[]): string => join(REPO_ROOT, ...parts)
/** Where the compiled micro-benchmark files live (the runner starts each one in its own process): the folders of
 * bench/ that mirror the source tree. */
export const MICRO_DIRS: readonly string[] = ['runtime', 'compiler'].map(d => join(REPO_ROOT, 'dist', 'bench', d))
export const BASELINE_FILE = repoFile('bench', 'baseline.json')
/** Compiled benchmark files end so; the name before it is the file's name in tables and the baseline. */
export const BENCH_SUFFIX = '.bench.js'
