// test/testkit/topology.test.ts: the benchmark topology generator — the set checks clean, has the required
// counts and mix, agrees with its sidecar, is deterministic, and the committed files are current.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { selectRoute } from '../../config/match.js'
import { normalizePath } from '../../config/path.js'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import type { BundleIR } from '../../config/ir.js'
import { parseStubConfig } from '../../testkit/upstream/stub.js'
import { generateBench, readSidecar, sidecarPath } from '../../testkit/topology/generate.js'
import { repoPath } from '../helpers/paths.js'
import { known } from '../helpers/stages.js'

function check(gwp: string): BundleIR {
  const r = compile(['bench.gwp'], { host: memoryHost({ 'bench.gwp': gwp }) })
  assert.deepEqual(r.diagnostics.map(d => `${d.code} ${d.line}:${d.col} ${d.message}`), [], 'zero diagnostics')
  assert.ok(r.ir)
  return r.ir
}

const def = generateBench()
const ir = check(def.gwp)

test('the default set checks with zero diagnostics and has ≥ 50 routes over ≥ 10 upstreams × 3 replicas', () => {
  assert.ok(ir.routes.length >= 50, `${ir.routes.length} routes`)
  assert.ok(ir.upstreams.length >= 10, `${ir.upstreams.length} upstreams`)
  const ports = new Set<number>()
  for (const u of ir.upstreams) {
    assert.equal(u.replicas.length, 3, u.name)
    for (const r of u.replicas) {
      assert.equal(r.host, '127.0.0.1')
      assert.ok(r.port >= 9201 && r.port < 9201 + 36, `port ${r.port}`)
      ports.add(r.port)
    }
  }
  assert.equal(ports.size, ir.upstreams.length * 3, 'every replica has its own port')
  assert.deepEqual((ir.declarations as JwtProviderIR[]).map(p => [p.name, p.issuer]), [['bench_idp', 'http://127.0.0.1:9100/']])
})

test('the mix: public, auth, rate-limited, canaries, a respond, exact and prefix paths, two hosts and a wildcard', () => {
  const has = (f: (r: BundleIR['routes'][number]) => boolean, what: string, min = 1) =>
    assert.ok(ir.routes.filter(f).length >= min, what)
  has(r => r.stages.length === 0 && r.terminal.kind === 'proxy', 'plain public routes', 5)
  has(r => known(r.stages).some(s => s.kind === 'auth' && s.provider === 'bench_idp' && s.audience.includes('bench-api')), 'authenticated routes', 5)
  has(r => r.stages.some(s => s.kind === 'ratelimit'), 'rate-limited routes', 5)
  has(r => r.terminal.kind === 'proxy' && r.terminal.targets.length > 1, 'weighted canaries', 3)
  has(r => r.match.header !== null, 'a header canary')
  has(r => r.terminal.kind === 'respond', 'a respond route')
  has(r => r.match.path.kind === 'exact', 'exact paths', 3)
  has(r => r.match.path.kind === 'prefix', 'prefix paths', 3)
  has(r => r.retry !== null, 'routes with retries')
  const hosts = new Set(ir.routes.flatMap(r => r.match.hosts))
  assert.deepEqual([...hosts].sort(), ['*.tenants.bench.test', 'api.bench.test', 'partner.bench.test'])
  const s = def.sidecar
  for (const g of ['public', 'auth', 'ratelimit', 'largeBody', 'sse', 'canary', 'respond'] as const) assert.ok(s.groups[g].length > 0, g)
  assert.deepEqual(Object.keys(s.scenarios).sort(), ['auth', 'breaker', 'full', 'passthrough', 'ratelimit'])
})

test('the sidecar agrees with the IR: ports, flags, and each route wins its own sample request', () => {
  const s = def.sidecar
  assert.deepEqual(Object.fromEntries(ir.upstreams.map(u => [u.name, u.replicas.map(r => r.port)])),
    Object.fromEntries(Object.entries(s.upstreams).map(([n, u]) => [n, u.ports])))
  assert.deepEqual(s.routes.map(r => r.name), ir.routes.map(r => r.name))
  const matches = ir.routes.map(r => r.match)
  s.routes.forEach((sr, i) => {
    const r = ir.routes[i]
    assert.equal(sr.auth, r.stages.some(x => x.kind === 'auth'), `${sr.name} auth`)
    assert.equal(sr.ratelimits.length, r.stages.filter(x => x.kind === 'ratelimit').length, `${sr.name} ratelimits`)
    assert.equal(sr.timeoutMs, r.timeoutMs, `${sr.name} timeout`)
    const path = normalizePath(sr.request.path)
    assert.equal(path, sr.request.path, `${sr.name}: sample path is in normal form`)
    const won = selectRoute(matches, { host: sr.request.host, path: path!, method: sr.request.method, headers: sr.request.headers })
    assert.equal(ir.routes[won]?.name, sr.name, `${sr.name}'s sample request is routed to it`)
  })
  for (const n of s.groups.largeBody) assert.ok((s.routes.find(r => r.name === n)!.bodyBytes ?? 0) >= 1024 * 1024)
  assert.doesNotThrow(() => parseStubConfig(s.stub, 'sidecar.stub'))
})

test('same seed, byte-identical output; another seed, another set', () => {
  const again = generateBench()
  assert.equal(again.gwp, def.gwp)
  assert.equal(again.sidecarText, def.sidecarText)
  const other = generateBench({ seed: 2 })
  assert.notEqual(other.gwp, def.gwp)
  check(other.gwp)
})

test('the committed examples/bench.gwp and its sidecar are what the generator writes', () => {
  assert.equal(readFileSync(repoPath('examples/bench.gwp'), 'utf8'), def.gwp, 'regenerate: node dist/testkit/topology/generate.js')
  assert.equal(readFileSync(repoPath(sidecarPath('examples/bench.gwp')), 'utf8'), def.sidecarText)
  assert.equal(readSidecar(repoPath('examples/bench.topology.json')).routes.length, ir.routes.length)
})

test('1,000 routes (the compiler benchmark input) and small, odd shapes check clean too', () => {
  const big = check(generateBench({ routes: 1000 }).gwp)
  assert.equal(big.routes.length, 1000)
  const small = check(generateBench({ routes: 30, upstreams: 2, replicas: 1, seed: 'abc' }).gwp)
  assert.equal(small.routes.length, 30)
  assert.throws(() => generateBench({ routes: 10 }), /routes must be a whole number ≥ 28/)
  assert.throws(() => generateBench({ upstreams: 100, replicas: 700, routes: 200 }), /past 65535/)
})

test('CLI: writes both files, --stdout prints the set, bad usage exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwp-topology-'))
  try {
    const script = repoPath('dist/testkit/topology/generate.js')
    const out = join(dir, 'b.gwp')
    execFileSync(process.execPath, [script, '--routes', '40', '--upstreams', '10', '--seed', '7', '--out', out], { stdio: 'pipe' })
    const g = generateBench({ routes: 40, upstreams: 10, seed: 7 }, out)
    assert.equal(readFileSync(out, 'utf8'), g.gwp)
    assert.equal(readFileSync(join(dir, 'b.topology.json'), 'utf8'), g.sidecarText)
    assert.equal(execFileSync(process.execPath, [script, '--stdout'], { encoding: 'utf8' }), def.gwp)
    for (const bad of [['--routes', 'many'], ['--bogus'], ['--routes', '5']]) {
      assert.equal(spawnSync(process.execPath, [script, ...bad], { encoding: 'utf8' }).status, 2, bad.join(' '))
    }
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
