// The dependency rule (STYLE.md): grammar → compiler → bundle ← runtime. The runtime serves only what gwc
// emitted, so nothing the runtime loads may import grammar/ or compiler/; policy stages are runtime code.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { ROOT } from './helpers/paths.js'

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

const importsOf = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*from\s+['"]([^'"]+)['"]/gm)].map(m => m[1])

test('runtime/, policy stages and config/ never import grammar/ or compiler/', () => {
  const runtimeSide = [
    ...files(join(ROOT, 'runtime')),
    ...files(join(ROOT, 'policies')).filter(f => f.endsWith('stage.ts') || /policies\/[^/]+\/(?!check|emit)[^/]+\.ts$/.test(f)),
    ...files(join(ROOT, 'config')).filter(f => !f.includes('yaml-')),
  ]
  const bad: string[] = []
  for (const f of runtimeSide) {
    for (const spec of importsOf(f)) {
      if (!spec.startsWith('.')) continue
      const target = relative(ROOT, join(f, '..', spec))
      if (target.startsWith('grammar/') || target.startsWith('compiler/') || (target.startsWith('policies/') && /\/(check|emit)\.js$/.test(target))) {
        bad.push(`${relative(ROOT, f)} imports ${spec}`)
      }
    }
  }
  assert.deepEqual(bad, [])
})

test('grammar/ is pure: it imports nothing from compiler/, runtime/ or node I/O modules', () => {
  const bad: string[] = []
  for (const f of files(join(ROOT, 'grammar'))) {
    for (const spec of importsOf(f)) {
      const target = spec.startsWith('.') ? relative(ROOT, join(f, '..', spec)) : spec
      if (/^(compiler|runtime|policies|bin)\//.test(target) || /^node:(fs|net|http|child_process)/.test(spec)) bad.push(`${relative(ROOT, f)} imports ${spec}`)
    }
  }
  assert.deepEqual(bad, [])
})

test('the product (bin/, runtime/, compiler/, grammar/, config/, policies/) never imports bench/, lab/ or testkit/; only the demo uses testkit/', () => {
  const product = ['bin', 'runtime', 'compiler', 'grammar', 'config', 'policies'].flatMap(d => files(join(ROOT, d)))
  const bad: string[] = []
  for (const f of product) {
    const from = relative(ROOT, f)
    for (const spec of importsOf(f)) {
      if (!spec.startsWith('.')) continue
      const target = relative(ROOT, join(f, '..', spec))
      if (/^(bench|lab)\//.test(target) || (target.startsWith('testkit/') && from !== 'bin/demo.ts')) bad.push(`${from} imports ${spec}`)
    }
  }
  assert.deepEqual(bad, [])
})
