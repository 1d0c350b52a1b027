// The runtime's side of the plug-in boundary (issue 11): runtime/ reaches policies only through its registry,
// and a policy's runtime files see only the kernel (config/) and runtime/policy-api.ts of the core.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from '../helpers/paths.js'

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** Repo-relative targets of a file's relative imports and re-exports. */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*from\s+['"](\.[^'"]+)['"]/gm)].map(m => relative(ROOT, join(file, '..', m[1])))

test('runtime/policies.ts is the only runtime module that imports policies/', () => {
  const bad = files(join(ROOT, 'runtime'))
    .filter(f => relative(ROOT, f) !== 'runtime/policies.ts')
    .flatMap(f => importsOf(f).filter(t => t.startsWith('policies/')).map(t => `${relative(ROOT, f)} imports ${t}`))
  assert.deepEqual(bad, [])
})

test('a policy\'s runtime files import only the kernel, runtime/policy-api.ts and their own folder', () => {
  const compileSide = /\/(check|emit|compile)\.ts$/
  const bad: string[] = []
  for (const f of files(join(ROOT, 'policies')).filter(f => !compileSide.test(f))) {
    const folder = relative(ROOT, join(f, '..'))
    for (const t of importsOf(f)) {
      const ok = t.startsWith('config/') || t === 'runtime/policy-api.js' || relative(folder, join(t, '..')) === ''
      if (!ok) bad.push(`${relative(ROOT, f)} imports ${t}`)
    }
  }
  assert.deepEqual(bad, [])
})
