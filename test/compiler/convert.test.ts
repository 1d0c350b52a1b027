// test/compiler/convert.test.ts: `gwc convert` — a YAML policy and the .gwp it converts to compile to the same
// IR (source spans aside), the output is formatted and keeps the YAML comments, broken YAML is refused with
// diagnostics at the right YAML line:col, and the command's output modes and exit codes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { memoryHost } from '../../compiler/sources.js'
import { convertYaml, runConvert } from '../../compiler/tools/convert.js'
import { astShape, formatSource } from '../../compiler/tools/fmt.js'
import { parseYaml as parseYamlPolicy } from '../../compiler/front-ends.js'
import { parseFile } from '../../compiler/parse.js'
import { repoPath } from '../helpers/paths.js'
import { prng } from '../helpers/prng.js'

const withoutSource = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'source' ? undefined : v)))

/** Compiles `yaml` as p.yaml and its conversion as p.gwp (next to `others`), and compares the IR. */
function sameIr(yaml: string, others: Record<string, string> = {}): string {
  const gwp = convertYaml(yaml, 'p.yaml')
  assert.ok(gwp.gwp !== undefined, JSON.stringify(gwp.diagnostics))
  const a = compile(['p.yaml'], { host: memoryHost({ ...others, 'p.yaml': yaml }), frontEnds: FRONT_ENDS })
  const b = compile(['p.gwp'], { host: memoryHost({ ...others, 'p.gwp': gwp.gwp }), frontEnds: FRONT_ENDS })
  assert.equal(a.errors, 0, JSON.stringify(a.diagnostics))
  assert.ok(a.ir !== undefined && b.ir !== undefined, JSON.stringify(b.diagnostics))
  assert.deepEqual(withoutSource(b.ir), withoutSource(a.ir))
  assert.deepEqual(b.diagnostics.map(d => `${d.code} ${d.message}`).sort(), a.diagnostics.map(d => `${d.code} ${d.message}`).sort(), 'the same warnings')
  return gwp.gwp
}

const SHOP = readFileSync(repoPath('examples/shop.yaml'), 'utf8')

test('examples/shop.yaml and its conversion compile to the same IR', () => {
  const gwp = sameIr(SHOP)
  assert.match(gwp, /\nroute payments \{\n {2}match host "api.shop.com" path prefix "\/v1\/payments" method POST\n {2}auth shop_idp audience "shop-api"\n/)
  assert.match(gwp, /retry 1 idempotency_key budget 10% per_try 350ms {2}# POST → no retry unless idempotency key\n/)
  assert.match(gwp, /match host "api.shop.com" path prefix "\/v1\/catalog" {2}# public, cacheable\n/)
})

test('the conversion is formatted, reads back to the YAML AST, and keeps every YAML comment', () => {
  const gwp = convertYaml(SHOP, 'p.yaml').gwp!
  assert.equal(formatSource(gwp, 'p.gwp').formatted, gwp)
  const yamlAst = parseYamlPolicy(SHOP, 'p.yaml')
  const gwpAst = parseFile(gwp, 'p.gwp').ast
  assert.deepEqual(astShape(gwpAst), astShape(yamlAst))
  assert.deepEqual(gwpAst.comments.map(c => c.text), yamlAst.comments.map(c => c.text))
})

test('every YAML feature converts to .gwp that compiles to the same IR', () => {
  const yaml = `# everything the YAML front end reads
include: [shared.gwp]
x-base: &base { timeout: 1s }
defaults:
  max_body: 1MB
  retries: { max: 1, budget: 0.1, per_try: 300ms }
  lb: p2c-ewma
  passive_health: { eject_after: 3, eject_for: 10s }
jwt:
  idp:
    issuer: https://id.example.com/
    jwks: https://id.example.com/jwks.json
    refresh: 5m
    refresh_ahead: 30s
    max_stale: 30m
    fetch_timeout: 2s
    algorithms: [RS256, EdDSA]
    audience: [api]
    leeway: 10s
    cache: 5000
    forward: { sub: X-User-Id, "https://example.com/tenant": X-Tenant-Id }
upstreams:
  blue:
    replicas: ["10.0.0.1:80", "10.0.0.2:80", "[::1]:8080"]
    lb: least-conn
    health: { path: /ready, interval: 2s, timeout: 500ms, unhealthy_after: 3, healthy_after: 2 }
    pool: { connections: 64, idle: 30s, connect_timeout: 1s }
    bulkhead: { max_in_flight: 128 }
  green:   # the canary
    replicas: ["10.0.1.1:80"]
    breaker: { error_ratio: 0.25, min_requests: 10, window: 10s, open_for: 5s, half_open: 2 }
routes:
  - name: checkout
    match: { host: [shop.example.com, "*.shop.example.com"], path: /checkout, methods: [GET, POST], header: { name: X-Canary, value: "1" } }
    headers:
      set: { X-From: "gateway \\"one\\"" }
      response: { set: { Cache-Control: no-store }, remove: [Server] }
    ratelimit:
      - { key: claim:tid, limit: 50, window: 1s }
      - { key: "header:X-Api-Key", limit: 100, window: 1m, burst: 10, store: redis, fail: closed }
      - { key: ip, limit: 1000, window: 1s }
    auth: { aud: [checkout, api] }
    timeout: 2s
    retries: { max: 2, only_idempotent: true, idempotency_key: true, budget: 5%, per_try: 600ms, backoff: 20ms }
    upstreams: [{ name: blue, weight: 90 }, { name: green, weight: 10% }]
    fallback: { status: 503, json: { error: try_later }, headers: { Retry-After: "5" } }
    breaker: { error_ratio: 0.25, min_requests: 10, window: 10s, open_for: 5s, half_open: 2 }   # shared by both
  - match: { path_exact: /health }   # liveness
    timeout: 100ms
    respond: { status: 200, text: "ok\\n", headers: { Cache-Control: no-cache } }
  - match: { path: /blue, exact: true }
    upstream: blue
    <<: *base
  - match: { host: old.example.com }
    timeout: 100ms
    respond: 410
`
  const gwp = sameIr(yaml, { 'shared.gwp': 'upstream other { replicas 10.0.9.9:80 }\n' })
  assert.match(gwp, /^# everything the YAML front end reads\ninclude "shared.gwp"\n/)
  assert.match(gwp, /\nupstream green {2}# the canary\n|\n# the canary\nupstream green \{|\nupstream green \{ {2}# the canary\n/)
  assert.match(gwp, /headers set X-From "gateway \\"one\\""\n/)
  assert.match(gwp, /\nroute respond \{\n {2}match path "\/health" {2}# liveness\n/)
  // A route's breaker moves into its upstream's block, and the comment at the end of its line with it.
  assert.match(gwp, /\n {2}breaker error_ratio 25% min_requests 10 window 10s open_for 5s half_open 2 {2}# shared by both\n\}\n/)
})

test('a breaker shared by a weighted route goes to each upstream; its comment is printed once', () => {
  const gwp = sameIr(`upstreams:
  a: { replicas: ["10.0.0.1:80"] }
  b: { replicas: ["10.0.0.2:80"] }
routes:
  - match: { path: /x }
    timeout: 1s
    upstreams: [{ name: a, weight: 50 }, { name: b, weight: 50 }]
    breaker: { error_ratio: 0.5 }  # both
`)
  assert.equal(gwp.match(/breaker error_ratio 50%/g)?.length, 2)
  assert.equal(gwp.match(/# both/g)?.length, 1)
})


test('random edits of a YAML policy never throw; what converts compiles to the same IR', () => {
  const rnd = prng(0x79616d6c)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  const bits = [': ', '- ', '[', ']', '{', '}', ',', '#', '"', "'", '*', '&a ', '<<: ', '  ', '\n', '0.5', '5s', 'x', 'true', 'header:', 'null']
  let converted = 0
  for (let i = 0; i < 300; i++) {
    const lines = SHOP.split('\n')
    for (let k = 0, n = 1 + Math.floor(rnd() * 3); k < n; k++) {
      const at = Math.floor(rnd() * lines.length)
      const line = lines[at]
      const col = Math.floor(rnd() * (line.length + 1))
      switch (Math.floor(rnd() * 5)) {
        case 0: lines[at] = line.slice(0, col) + line.slice(col + 1 + Math.floor(rnd() * 4)); break
        case 1: lines[at] = line.slice(0, col) + pick(bits) + line.slice(col); break
        case 2: lines.splice(at, 0, line); break
        case 3: lines.splice(at, 1); break
        case 4: lines[at] = (rnd() < 0.5 ? '  ' : '') + line.replace(/^ {2}/, rnd() < 0.5 ? '' : '  '); break
      }
    }
    const text = lines.join('\n')
    const lineCount = text.split('\n').length
    const r = convertYaml(text, 'p.yaml')
    for (const d of r.diagnostics) assert.ok(d.line >= 1 && d.line <= lineCount && d.col >= 1, `case ${i}: ${d.code} at ${d.line}:${d.col} outside the file\n${text}`)
    if (r.gwp === undefined) continue
    const a = compile(['p.yaml'], { host: memoryHost({ 'p.yaml': text }), frontEnds: FRONT_ENDS })
    const b = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': r.gwp }) })
    assert.equal(b.errors, a.errors, `case ${i}: error counts differ\n${text}\n---\n${r.gwp}`)
    if (a.ir !== undefined) { assert.deepEqual(withoutSource(b.ir), withoutSource(a.ir), `case ${i}\n${text}`); converted++ }
  }
  assert.ok(converted > 20, `only ${converted} edits converted cleanly`)
})

test('broken YAML is refused with diagnostics at the YAML line and column', () => {
  const broken = `upstreams:
  a:
    replicas: ["10.0.0.1:80"]
    lb: least-conn
    healt: { path: /h }
routes:
  - match: { path: /a }
    upstream: a
    ratelimit: { key: ip, limit: 10 }
`
  const r = convertYaml(broken, 'b.yaml')
  assert.equal(r.gwp, undefined)
  assert.deepEqual(r.diagnostics.map(d => `${d.code} ${d.file}:${d.line}:${d.col}`), ['E0205 b.yaml:5:5', 'E0104 b.yaml:9:5'])
  assert.equal(r.diagnostics[0].hint, 'did you mean `health`?')
  const syntax = convertYaml('routes:\n  - { match: { path: /a }\n', 's.yaml')
  assert.equal(syntax.gwp, undefined)
  assert.deepEqual(syntax.diagnostics.map(d => d.code), ['E0002'])
  assert.equal(syntax.diagnostics[0].line, 3)
})

test('semantic problems do not stop a conversion: check reports the same ones on either file', () => {
  const yaml = 'routes:\n  - { match: { path: /a }, upstream: nowhere, timeout: 5 }\n'
  const gwp = convertYaml(yaml, 'p.yaml').gwp!
  const a = compile(['p.yaml'], { host: memoryHost({ 'p.yaml': yaml }), frontEnds: FRONT_ENDS })
  const b = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': gwp }) })
  assert.deepEqual(a.diagnostics.map(d => d.code), ['E0201', 'E0304'])
  assert.deepEqual(b.diagnostics.map(d => d.message).sort(), a.diagnostics.map(d => d.message).sort())
})

// ── the command ─────────────────────────────────────────────────────────────────────────────────

const dir = mkdtempSync(join(tmpdir(), 'gwc-convert-'))
after(() => rmSync(dir, { recursive: true, force: true }))

test('gwc convert prints or writes the .gwp, and exits 1 on broken YAML, 2 on bad usage', () => {
  const gwc = repoPath('dist/bin/gwc.js')
  const shop = repoPath('examples/shop.yaml')
  const printed = spawnSync(process.execPath, [gwc, 'convert', shop], { encoding: 'utf8' })
  assert.equal(printed.status, 0, printed.stderr)
  assert.equal(printed.stdout, convertYaml(SHOP, shop).gwp)
  const out = join(dir, 'shop.gwp')
  assert.equal(runConvert([shop], out).code, 0)
  assert.equal(readFileSync(out, 'utf8'), printed.stdout)
  const bad = join(dir, 'bad.yaml')
  writeFileSync(bad, 'routes:\n  - { match: { path: /a }, upstrem: a }\n')
  const broken = spawnSync(process.execPath, [gwc, 'convert', bad], { encoding: 'utf8' })
  assert.equal(broken.status, 1)
  assert.equal(broken.stdout, '')
  assert.match(broken.stderr, new RegExp(`error\\[E0205\\]: unknown key \`upstrem\` in \`routes\\[0\\]\`\\n --> ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:28`))
  assert.equal(runConvert([repoPath('examples/shop.gwp')], undefined).code, 2)
  assert.equal(runConvert([shop, shop], undefined).code, 2)
  assert.equal(runConvert([bad], bad).code, 2)
})
