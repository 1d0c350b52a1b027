#!/usr/bin/env node
// Stryker's build command, run in its sandbox: tsc over the instrumented sources. The instrumented files do not
// type-check (every mutant sits in the same file behind a switch) and TypeScript 7 reports them even under the
// @ts-nocheck Stryker adds, so type errors are accepted as long as tsc emitted its output (exit 2). The
// unmutated project's types are checked by `npm test`'s own build.
import { spawnSync } from 'node:child_process'

const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' })
if (r.status === 0) process.exit(0)
if (r.status === 2) {
  const errors = r.stdout.split('\n').filter(l => /error TS\d+/.test(l)).length
  console.log(`mutation build: tsc emitted with ${errors} type error(s) from the instrumented code (accepted)`)
  process.exit(0)
}
process.stdout.write(r.stdout)
console.error(`mutation build: tsc failed (exit ${r.status}) without emitting`)
process.exit(1)
