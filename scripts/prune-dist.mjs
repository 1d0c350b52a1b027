// Removes compiled files from dist/ whose TypeScript source is gone (a renamed or deleted test would otherwise
// keep running from its stale dist/test/… copy in a long-lived checkout: scripts/test.mjs runs every test file
// there). Runs after `tsc` in `npm run build`; a fresh clone has nothing to prune.
import { existsSync, readdirSync, rmSync, lstatSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST = join(ROOT, 'dist')

let pruned = 0
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = lstatSync(p)
    if (st.isSymbolicLink() || name === 'node_modules') continue
    if (st.isDirectory()) { walk(p); continue }
    const m = /^(.*)\.js(\.map)?$/.exec(name)
    if (m === null) continue
    const src = join(ROOT, relative(DIST, dir), m[1])
    if (!existsSync(src + '.ts') && !existsSync(src + '.mts') && !existsSync(src + '.js')) { rmSync(p); pruned++ }
  }
}
if (existsSync(DIST)) walk(DIST)
if (pruned > 0) console.log(`prune-dist: removed ${pruned} compiled file(s) whose source is gone`)
