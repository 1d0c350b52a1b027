// Issue 9: `npm ci` warned that a dev dependency (cookie@2, via fastify's light-my-request) needs Node ≥ 22
// while the README promised Node 20. The floor the README and package.json state must be one every locked
// package accepts, so a supported Node installs without an engine warning.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { repoPath } from '../helpers/paths.js'

type V = [number, number, number]
const parse = (s: string): V => { const p = s.replace(/^v/, '').split('.').map(x => (x === 'x' || x === '*' ? 0 : Number(x))); return [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0] }
const cmp = (a: V, b: V): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]

/** Enough of npm's range grammar for the `engines.node` ranges in the lock: `||`, `>=`, `>`, `<`, `<=`, `^`, `~`, `N.*`. */
export function satisfies(v: V, range: string): boolean {
  return range.split('||').some(alt => alt.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean).every(c => {
    const m = /^(>=|<=|>|<|=|\^|~)?(.*)$/.exec(c)!
    const op = m[1] ?? '', w = parse(m[2])
    const wild = /[x*]/.test(m[2]) || m[2].split('.').length < 3
    switch (op) {
      case '>=': return cmp(v, w) >= 0
      case '>': return cmp(v, w) > 0
      case '<=': return cmp(v, w) <= 0
      case '<': return cmp(v, w) < 0
      case '^': return cmp(v, w) >= 0 && v[0] === w[0]
      case '~': return cmp(v, w) >= 0 && v[0] === w[0] && v[1] === w[1]
      default: return wild ? v[0] === w[0] && (m[2].split('.').length < 2 || /[x*]/.test(m[2].split('.')[1]) || v[1] === w[1]) : cmp(v, w) === 0
    }
  }))
}

test('the range reader reads the forms the lock uses', () => {
  assert.ok(satisfies([20, 19, 0], '>= 10.x'))
  assert.ok(satisfies([20, 19, 0], '6.* || 8.* || >= 10.*'))
  assert.ok(satisfies([20, 19, 0], '^16 || ^18 || >=20'))
  assert.ok(!satisfies([20, 19, 0], '>=22'))
  assert.ok(!satisfies([20, 18, 0], '^20.19.0 || ^22.12.0 || >=23'))
  assert.ok(satisfies([20, 19, 0], '^20.19.0 || ^22.12.0 || >=23'))
})

/** Locked packages whose `engines.node` does not accept `floor` (what `npm ci` on that Node would warn about). */
function refusedBy(lockFile: string, floor: string): string[] {
  const lock = JSON.parse(readFileSync(repoPath(lockFile), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> }
  return Object.entries(lock.packages)
    .filter(([, p]) => !Array.isArray(p.engines) && typeof p.engines?.node === 'string' && !satisfies(parse(floor), p.engines.node))
    .map(([k, p]) => `${k.replace(/^.*node_modules\//, '')}@${p.version} needs node ${(p.engines as { node: string }).node}`)
}

const floorOf = (pkgFile: string): string => {
  const pkg = JSON.parse(readFileSync(repoPath(pkgFile), 'utf8')) as { engines: { node: string } }
  const floor = /^>=\s*(\d+\.\d+(?:\.\d+)?)$/.exec(pkg.engines.node)?.[1]
  assert.ok(floor, `${pkgFile} engines.node is a plain floor: ${pkg.engines.node}`)
  return floor
}

test('every locked package accepts the Node version the README and package.json promise', () => {
  const floor = floorOf('package.json')
  assert.match(readFileSync(repoPath('README.md'), 'utf8'), new RegExp(`Node\\.js ≥ ${floor.replace(/\./g, '\\.')}\\b`), 'the README states the same floor')
  assert.deepEqual(refusedBy('package-lock.json', floor), [], `npm ci on Node ${floor} would warn (EBADENGINE)`)
})

test('the lab (its own package: fastify, vega, StrykerJS) states a floor every package it locks accepts', () => {
  const floor = floorOf('lab/package.json')
  assert.deepEqual(refusedBy('lab/package-lock.json', floor), [], `npm --prefix lab ci on Node ${floor} would warn (EBADENGINE)`)
})
