// lab/harness/paths.ts: where the harness finds the repository's files from dist/lab/harness/, and the
// compiled scripts it starts as processes.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root (this file compiles to dist/lab/harness/paths.js, three levels below it). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const repoFile = (...parts: string[]): string => join(REPO_ROOT, ...parts)
/** A compiled script under dist/: distFile('testkit/upstream/main.js'). */
export const distFile = (...parts: string[]): string => join(REPO_ROOT, 'dist', ...parts)

export const GW_BIN = distFile('bin/gw.js')
export const STUB_MAIN = distFile('testkit/upstream/main.js')
export const IDP_MAIN = distFile('testkit/idp/main.js')
export const RESULTS_DIR = repoFile('lab/results')
