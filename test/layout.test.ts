// The dependency rule (STYLE.md): bin → compiler | runtime, compiler → grammar, everything → the kernel (config/).
// The runtime serves only what gwc emitted, so nothing it loads may import grammar/ or compiler/. Policies are
// plug-ins: the two registries are the only core modules importing policies/, and a policy sees only the kernel,
// the two small plug-in APIs, npm packages and its own folder. No carve-outs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { ROOT } from './helpers/paths.js'
import { stringLiterals } from './helpers/string-literals.js'
import { REGISTRY } from '../compiler/policies.js'

function files(dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** Every module a file names: `import … from`, `export … from`, a bare `import '…'` and a literal `import('…')`. */
const importsOf = (file: string): string[] => [...readFileSync(file, 'utf8')
  .matchAll(/^\s*(?:import|export)\s[^'"]*from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)]
  .map(m => m[1] ?? m[2] ?? m[3])

/** A relative import as a repository path (`.js` read as the `.ts` it compiles from); npm and node: specifiers as written. */
const target = (file: string, spec: string): string => (spec.startsWith('.') ? relative(ROOT, join(file, '..', spec)).replace(/\.js$/, '.ts') : spec)

/** Every `from` of the files under `dirs`, as [importing file, imported path]. */
const edges = (...dirs: string[]): [string, string][] =>
  dirs.flatMap(d => files(join(ROOT, d))).flatMap(f => importsOf(f).map(spec => [relative(ROOT, f), target(f, spec)] as [string, string]))

/**
 * The files both halves of a policy may import: options.ts (the options type) and apply.ts (logic both run, e.g.
 * rewrite's path rewriting: the stage on each request, `gwc explain` on its example). They import only the
 * kernel and npm/node modules (checked below), so sharing them brings no compiler code into the runtime.
 */
const SHARED = new Set(['options.ts', 'apply.ts'])

/** A policy's compile half: its compile.ts and what that reaches inside its own folder, except the SHARED files. The rest is its runtime half. */
function compileHalf(folder: string): Set<string> {
  const seen = new Set<string>()
  const visit = (f: string) => {
    if (seen.has(f) || !existsSync(join(ROOT, f))) return
    seen.add(f)
    for (const spec of importsOf(join(ROOT, f))) {
      const t = target(join(ROOT, f), spec)
      if (dirname(t) === folder && !SHARED.has(basename(t))) visit(t)
    }
  }
  visit(join(folder, 'compile.ts'))
  return seen
}

const policyFolders = readdirSync(join(ROOT, 'policies')).map(d => join('policies', d)).filter(d => statSync(join(ROOT, d)).isDirectory())
const compileSide = new Set(policyFolders.flatMap(d => [...compileHalf(d)]))

test('the files both halves of a policy share (options.ts, apply.ts) import only config/ and npm/node modules', () => {
  const shared = edges('policies').filter(([f]) => SHARED.has(basename(f)))
  assert.ok(shared.some(([f]) => f === 'policies/rewrite/apply.ts'), 'rewrite/apply.ts is seen')
  const bad = shared.filter(([, t]) => /^(grammar|compiler|runtime|policies|bin|bench|test|lab|testkit)\//.test(t))
  assert.deepEqual(bad, [])
})

test('config/ (the kernel) imports nothing of the core: no grammar/, compiler/, runtime/ or policies/', () => {
  const bad = edges('config').filter(([, t]) => /^(grammar|compiler|runtime|policies|bin)\//.test(t))
  assert.deepEqual(bad, [])
})

test('runtime/ and the runtime halves of policies never import grammar/, compiler/ or a compile half', () => {
  const runtimeSide = [...edges('runtime'), ...edges('policies').filter(([f]) => !compileSide.has(f))]
  const bad = runtimeSide.filter(([, t]) => /^(grammar|compiler)\//.test(t) || compileSide.has(t))
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

test('grammar/ (both front ends) is pure: it imports nothing from compiler/, runtime/, policies/ or node I/O modules', () => {
  const bad = edges('grammar').filter(([, t]) => /^(compiler|runtime|policies|bin)\//.test(t) || /^node:(fs|net|http|child_process)/.test(t))
  assert.deepEqual(bad, [])
})

test('compiler/policies.ts is the only compiler module that imports policies/', () => {
  const bad = edges('compiler').filter(([f, t]) => t.startsWith('policies/') && f !== 'compiler/policies.ts')
  assert.deepEqual(bad, [])
})

test('a policy\'s compile half imports only config/, compiler/policy-api.ts, npm packages and its own folder', () => {
  const bad = edges('policies').filter(([f, t]) => compileSide.has(f) &&
    /^(grammar|compiler|runtime|policies|bin|bench|test|lab|testkit)\//.test(t) && t !== 'compiler/policy-api.ts' && dirname(t) !== dirname(f))
  assert.deepEqual(bad, [])
})

test('the compile registry lists every policy folder\'s compile half, one import line each', () => {
  const listed = edges('compiler').filter(([f, t]) => f === 'compiler/policies.ts' && t.startsWith('policies/')).map(([, t]) => t).sort()
  const halves = policyFolders.map(d => join(d, 'compile.ts')).filter(f => existsSync(join(ROOT, f))).sort()
  assert.deepEqual(listed, halves)
})

test('runtime/policies.ts is the only runtime module importing policies/; policies\' runtime halves import only config/, runtime/policy-api.ts, npm and their folder', () => {
    const core = [...edges('runtime'), ...edges('bin'), ...edges('grammar'), ...edges('config')]
    const bad = core.filter(([f, t]) => t.startsWith('policies/') && f !== 'runtime/policies.ts')
    const runtimeHalves = edges('policies').filter(([f]) => !compileSide.has(f))
    bad.push(...runtimeHalves.filter(([f, t]) => /^(grammar|compiler|runtime|policies|bin|bench|test|lab|testkit)\//.test(t) && t !== 'runtime/policy-api.ts' && dirname(t) !== dirname(f)))
    assert.deepEqual(bad, [])
  })

/**
 * Words that are a policy's name and also the core's own, with what the core means by them: the test cannot tell
 * the two apart, so it leaves them to review. Add one only with the core meaning it has.
 */
const CORE_WORDS: Record<string, string> = {
  headers: 'HTTP headers: `respond`\'s `headers:` YAML key and RespondIR field, gwc test\'s `headers` case and expectation keys',
  ip: 'the client address: gwc test\'s `ip:` case key',
  redirect: 'the core terminal\'s answer `respond redirect STATUS "TARGET"` (its keyword, YAML key and RespondIR field); the `redirect https` stage is the policy',
}

test('the core names no policy: no string literal in grammar/, compiler/, runtime/, config/ or bin/ is a policy kind or a policy\'s declaration keyword (the registries excepted)', () => {
  const names = new Set([...REGISTRY.list.map(p => p.kind), ...REGISTRY.list.flatMap(p => (p.declarations ?? []).map(d => d.syntax.keyword))])
  for (const w of Object.keys(CORE_WORDS)) names.delete(w)
  assert.ok(names.has('ratelimit') && names.has('jwt'), 'the registry lists the kinds and declarations')
  const core = ['grammar', 'compiler', 'runtime', 'config', 'bin'].flatMap(d => files(join(ROOT, d))).map(f => relative(ROOT, f))
    .filter(f => f !== 'compiler/policies.ts' && f !== 'runtime/policies.ts')
  const bad = core.flatMap(f => stringLiterals(readFileSync(join(ROOT, f), 'utf8')).filter(l => names.has(l.text)).map(l => `${f}:${l.line} '${l.text}'`))
  assert.deepEqual(bad, [])
})

test('the literal scanner the test above relies on reads strings, templates and regexes, and skips comments', () => {
  const src = "// 'auth' in a comment\n/* 'jwt' */ const a = 'auth', b = \"x\" // 'cors'\nconst t = `jwt`, u = `${a}ratelimit${`keys`}`, r = /'ratelimit'/g, q = 4 / 2 / 1\nconst j = `\"ip\":${a}`"
  assert.deepEqual(stringLiterals(src).map(l => `${l.line}:${l.text}`), ['2:auth', '2:x', '3:jwt', '3:keys'])
})
