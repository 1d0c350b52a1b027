// test/compiler/bundle.test.ts: bundles are deterministic (same sources → byte-identical files, in one process
// or two `gwc build` runs), verifyBundle refuses altered or incompatible bundles, and loading a bundle over and
// over does not grow the heap (while keeping every instance alive visibly does, so the check can fail).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { buildBundle, writeBundle } from '../../compiler/bundle.js'
import { memoryHost, nodeHost } from '../../compiler/sources.js'
import { BundleError, MANIFEST_FILE, MODULE_FILE, bundleIntegrity, sha256, verifyBundle, type BundleManifest } from '../../config/bundle.js'
import { readBundle } from '../../config/bundle-io.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { repoPath } from '../helpers/paths.js'
import { recordingDeps } from './fake-stages.js'

const tmp = mkdtempSync(join(tmpdir(), 'gwp-bundle-test-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** A policy set of `n` routes, each with auth, a rate limit, a header rewrite and a proxy: a bundle with some weight. */
function generatedPolicy(n: number): string {
  const out = [
    'upstream app { replicas 10.0.0.1:8080 10.0.0.2:8080; breaker error_ratio 50% }',
    'jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks.json" refresh 5m; forward claim sub as X-User-Id }',
  ]
  for (let i = 0; i < n; i++) {
    out.push(`route r${i} {`, `  match host "api.example.com" path prefix "/svc${i}" method GET`, '  ratelimit by ip 1000 per 1s', '  auth idp',
      '  ratelimit by user 100 per 1s', `  headers request set X-Route "r${i}"`, '  timeout 2s', '  retry 1 budget 10% per_try 900ms', '  proxy app', '}')
  }
  return out.join('\n') + '\n'
}

function buildShop() {
  const r = compile(['shop.gwp'], { host: nodeHost(repoPath('examples')) })
  assert.equal(r.errors, 0)
  return { r, b: buildBundle(r.ir!, r.sources) }
}

// ── determinism ───────────────────────────────────────────────────────────────────────────────────

test('the same sources give a byte-identical bundle, compiled and built twice in one process', () => {
  const one = buildShop().b, two = buildShop().b
  assert.equal(two.manifestText, one.manifestText)
  assert.equal(two.moduleText, one.moduleText)
  const text = generatedPolicy(30)
  const build = () => { const r = compile(['gen.gwp'], { host: memoryHost({ 'gen.gwp': text }) }); return buildBundle(r.ir!, r.sources) }
  const a = build(), b = build()
  assert.equal(b.manifestText, a.manifestText)
  assert.equal(b.moduleText, a.moduleText)
})

test('the version changes with the sources and the compiler, and nothing else', () => {
  const { r, b } = buildShop()
  assert.match(b.manifest.version, /^[0-9a-f]{16}$/)
  assert.equal(buildBundle(r.ir!, r.sources, '9.9.9').manifest.version === b.manifest.version, false, 'compiler version is part of the version')
  const edited = r.sources.map(s => ({ ...s, text: s.text + '\n# a comment\n' }))
  assert.notEqual(buildBundle(r.ir!, edited).manifest.version, b.manifest.version, 'a source edit changes the version')
  assert.equal(b.manifest.module.sha256, sha256(b.moduleText))
  assert.deepEqual(b.manifest.sources.map(s => s.file), ['shop.gwp'])
})

test('two `gwc build` processes write byte-identical bundles', () => {
  const gwc = repoPath('dist/bin/gwc.js')
  const dirs = [join(tmp, 'one'), join(tmp, 'two')]
  for (const d of dirs) {
    const p = spawnSync(process.execPath, [gwc, 'build', 'shop.gwp', '-o', d], { cwd: repoPath('examples'), encoding: 'utf8', timeout: 15_000 })
    assert.equal(p.status, 0, p.stderr)
  }
  for (const f of [MANIFEST_FILE, MODULE_FILE]) assert.ok(readFileSync(join(dirs[0], f)).equals(readFileSync(join(dirs[1], f))), `${f} differs between builds`)
  // …and equal to what the library builds in memory from the same working directory.
  assert.equal(readFileSync(join(dirs[0], MODULE_FILE), 'utf8'), buildShop().b.moduleText)
  assert.equal(readBundle(dirs[0]).manifest.version, buildShop().b.manifest.version)
})

// ── verification ──────────────────────────────────────────────────────────────────────────────────

function tampered(edit: (m: BundleManifest) => void): string {
  const { b } = buildShop()
  const m = JSON.parse(b.manifestText) as BundleManifest
  edit(m)
  return JSON.stringify(m, null, 2) + '\n'
}

test('verifyBundle accepts the bundle as built', () => {
  const { b } = buildShop()
  const m = verifyBundle(b.manifestText, b.moduleText)
  assert.equal(m.version, b.manifest.version)
  assert.equal(m.ir.routes.length, 2)
})

test('verifyBundle refuses an altered module', () => {
  const { b } = buildShop()
  const edits = [
    b.moduleText + ' ',
    b.moduleText.replace('"timeoutMs":800', '"timeoutMs":80000'),
    b.moduleText.replace('return [route0, route1];', 'globalThis.x = 1; return [route0, route1];'),
    '',
  ]
  for (const text of edits) {
    assert.notEqual(text, b.moduleText)
    assert.throws(() => verifyBundle(b.manifestText, text), (e: unknown) => e instanceof BundleError && /altered after build/.test(e.message) && e.code === 'GW_ERR_BUNDLE')
  }
})

test('verifyBundle refuses an altered manifest, even one whose module hash was fixed up', () => {
  const { b } = buildShop()
  const edits: ((m: BundleManifest) => void)[] = [
    m => { m.ir.routes[0].timeoutMs = 60_000 },
    m => { m.ir.routes[1].match.hosts = ['evil.example.com'] },
    m => { m.ir.upstreams[0].replicas[0].port = 1 },
    m => { m.ir.identityHeaders = [] },
    m => { m.version = '0000000000000000' },
    m => { m.sources = [] },
    m => { m.integrity = sha256('x') },
  ]
  for (const edit of edits) {
    assert.throws(() => verifyBundle(tampered(edit), b.moduleText), /integrity check failed|altered after build/)
  }
  // A module swapped together with its hash in the manifest still fails the integrity hash over both.
  const evil = b.moduleText.replace('"timeoutMs":800', '"timeoutMs":1')
  assert.throws(() => verifyBundle(tampered(m => { m.module.sha256 = sha256(evil) }), evil), /integrity check failed/)
})

test('verifyBundle refuses other formats and versions with a message that says what to do', () => {
  const { b } = buildShop()
  const cases: [(m: BundleManifest) => void, RegExp][] = [
    [m => { m.formatVersion = 3 }, /bundle format 3 is not supported .*rebuild it/],
    [m => { m.formatVersion = 1 }, /bundle format 1 is not supported .*reads format 2.*rebuild it/], // before head plans (deps.heads)
    [m => { m.formatVersion = 0 }, /bundle format 0 is not supported/],
    [m => { m.irVersion = 99 }, /bundle IR version 99 is not supported .*rebuild it/],
    [m => { (m as { format: string }).format = 'other' }, /not a gwp bundle manifest/],
  ]
  for (const [edit, re] of cases) assert.throws(() => verifyBundle(tampered(edit), b.moduleText), (e: unknown) => e instanceof BundleError && re.test(e.message))
  assert.throws(() => verifyBundle('{ not json', b.moduleText), /manifest is not JSON/)
  assert.throws(() => verifyBundle('null', b.moduleText), /not a gwp bundle manifest/)
  assert.throws(() => verifyBundle('[]', b.moduleText), /not a gwp bundle manifest/)
})

test('readBundle verifies what is on disk, and writeBundle leaves no temporary files', () => {
  const { b } = buildShop()
  const dir = join(tmp, 'disk')
  writeBundle(dir, b)
  assert.equal(readBundle(dir).manifest.integrity, b.manifest.integrity)
  assert.deepEqual(readdirSync(dir).sort(), [MODULE_FILE, MANIFEST_FILE].sort())
  assert.equal(readFileSync(join(dir, MANIFEST_FILE), 'utf8'), b.manifestText)
  writeFileSync(join(dir, MODULE_FILE), b.moduleText.replace('"limit":100', '"limit":100000'))
  assert.throws(() => readBundle(dir), /altered after build/)
  assert.throws(() => readBundle(join(tmp, 'nothing-here')), /cannot read/)
})

test('the integrity hash covers the manifest without its own field, and the module', () => {
  const { b } = buildShop()
  const { integrity, ...rest } = b.manifest
  assert.equal(bundleIntegrity(rest, b.moduleText), integrity)
  assert.notEqual(bundleIntegrity(rest, b.moduleText + '\n'), integrity)
})

test('instantiateBundle refuses a module that does not evaluate or returns the wrong shape', () => {
  const { b } = buildShop()
  const { deps } = recordingDeps()
  assert.throws(() => instantiateBundle(b.manifest, 'return [', deps), /does not compile/)
  assert.throws(() => instantiateBundle(b.manifest, 'throw new Error("boom")', deps), /failed to build: boom/)
  assert.throws(() => instantiateBundle(b.manifest, 'return [() => 1]', deps), /returned 1 handlers for 2 routes/)
  assert.throws(() => instantiateBundle(b.manifest, 'return 42', deps), /returned number handlers/)
  assert.equal(instantiateBundle(b.manifest, b.moduleText, deps).handlers.length, 2)
})

// ── memory: reloading the same bundle does not leak ───────────────────────────────────────────────

/** Runs in a child with --expose-gc: loads the bundle N times and reports heapUsed after a full GC. */
const CHILD = `
import { readFileSync } from 'node:fs'
const [bundleUrl, loaderUrl, dir, mode, n] = process.argv.slice(1)
const { readBundle } = await import(bundleUrl)
const { instantiateBundle } = await import(loaderUrl)
const { manifest, moduleText } = readBundle(dir)
const CONTINUE = Symbol('CONTINUE')
// Stage factories that keep their options in a closure, as real stages do.
const stage = o => { const opts = { ...o }; return ctx => (opts.limit === -1 ? ctx : CONTINUE) }
// Head plans (runtime/head-plan.ts) are objects built from their options at load, like these.
const plan = o => ({ ...o, drop: new Set(o.drop) })
const deps = { CONTINUE, stages: { auth: stage, ratelimit: stage, headers: stage, respond: stage, proxy: stage }, heads: { request: plan, response: plan } }
const heap = () => { for (let i = 0; i < 4; i++) globalThis.gc(); return process.memoryUsage().heapUsed }
const kept = []
let last
for (let i = 0; i < 50; i++) last = instantiateBundle(manifest, moduleText, deps)
const base = heap()
for (let i = 0; i < Number(n); i++) {
  last = instantiateBundle(manifest, moduleText, deps)
  if (mode === 'keep-all') kept.push(last)
}
const end = heap()
process.stdout.write(JSON.stringify({ base, end, growth: end - base, kept: kept.length, handlers: last.handlers.length }))
`

function heapRun(dir: string, mode: 'keep-last' | 'keep-all', n: number): { base: number; end: number; growth: number; handlers: number } {
  const p = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', CHILD,
    pathToFileURL(repoPath('dist/config/bundle-io.js')).href, pathToFileURL(repoPath('dist/runtime/bundle-loader.js')).href, dir, mode, String(n)],
  { encoding: 'utf8', timeout: 30_000 })
  assert.equal(p.status, 0, p.stderr)
  return JSON.parse(p.stdout)
}

test('loading the same bundle 1,000 times does not grow the heap; keeping every instance does', (t) => {
  const r = compile(['gen.gwp'], { host: memoryHost({ 'gen.gwp': generatedPolicy(15) }) })
  assert.equal(r.errors, 0)
  const dir = join(tmp, 'heap')
  writeBundle(dir, buildBundle(r.ir!, r.sources))
  const MB = 1024 * 1024
  const last = heapRun(dir, 'keep-last', 1000)
  assert.equal(last.handlers, 15)
  assert.ok(last.growth < 2 * MB, `heap grew ${(last.growth / MB).toFixed(2)} MB over 1,000 loads keeping only the last`)
  // The control: the same loop keeping every instance must show growth, or the check above proves nothing.
  const all = heapRun(dir, 'keep-all', 1000)
  t.diagnostic(`heap growth over 1,000 loads: ${(last.growth / MB).toFixed(2)} MB keeping the last, ${(all.growth / MB).toFixed(2)} MB keeping all`)
  assert.ok(all.growth > 10 * MB, `keeping 1,000 instances grew the heap only ${(all.growth / MB).toFixed(2)} MB`)
})
