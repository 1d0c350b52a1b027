// test/grammar/yaml-policy.test.ts: the YAML front end — the brief's format builds the same AST as the
// equivalent .gwp, every documented mapping, diagnostics (its own and the checker's) at YAML line:col, and
// `gwc check file.yaml`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { compile, type CompileResult } from '../../compiler/compile.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { memoryHost } from '../../compiler/sources.js'
import { astShape } from '../../compiler/tools/fmt.js'
import { parseYaml as parseYamlPolicy } from '../../compiler/front-ends.js'
import type { RouteIR } from '../../config/ir.js'
import { Diagnostics } from '../../grammar/index.js'
import { parseFile } from '../../compiler/parse.js'
import { repoPath } from '../helpers/paths.js'
import { known } from '../helpers/stages.js'

const SHOP = readFileSync(repoPath('examples/shop.yaml'), 'utf8')

function check(files: Record<string, string>, entry = 'p.yaml'): CompileResult {
  return compile([entry], { host: memoryHost(files), frontEnds: FRONT_ENDS })
}
/** Diagnostics of one YAML text as `CODE line:col`, errors and warnings alike. */
const at = (r: CompileResult): string[] => r.diagnostics.map(d => `${d.code} ${d.line}:${d.col}`)
const errorsOf = (r: CompileResult): string[] => r.diagnostics.filter(d => d.severity === 'error').map(d => `${d.code} ${d.line}:${d.col}`)
const route = (r: CompileResult, name: string): RouteIR => {
  const x = r.ir?.routes.find(y => y.name === name)
  assert.ok(x, `no route ${name} in ${r.ir?.routes.map(y => y.name)} (${JSON.stringify(r.diagnostics.map(d => d.message))})`)
  return x
}
/** A minimal valid file around some routes. */
const withRoutes = (routes: string, extra = ''): string => `upstreams:
  a: { replicas: ["10.0.0.1:80"] }
  b: { replicas: ["10.0.0.2:80"] }
jwt:
  idp: { issuer: "https://id.example.com/", jwks: "https://id.example.com/jwks", refresh: 5m }
${extra}routes:
${routes}`

test('the brief\'s example builds the same AST as the equivalent .gwp', () => {
  const gwp = `
jwt shop_idp {
  issuer "http://127.0.0.1:9100/"
  jwks "http://127.0.0.1:9100/.well-known/jwks.json" refresh 5m
  algorithms RS256 ES256
  forward claim sub as X-User-Id, claim tid as X-Tenant-Id
}
upstream payments {
  replicas 127.0.0.1:9101 127.0.0.1:9102 127.0.0.1:9103
  balance least_conn
  health active path "/healthz" every 2s unhealthy_after 3
  breaker error_ratio 50% min_requests 20 open_for 5s
}
upstream catalog {
  replicas 127.0.0.1:9111 127.0.0.1:9112
  balance round_robin
}
route payments {
  match host "api.shop.com" path prefix "/v1/payments" method POST
  auth shop_idp audience "shop-api"
  ratelimit by user 100 per 1s
  timeout 800ms
  retry 1 idempotency_key budget 10% per_try 350ms
  proxy payments
}
route catalog {
  match host "api.shop.com" path prefix "/v1/catalog"
  ratelimit by ip 1000 per 1s
  timeout 300ms
  proxy catalog
}`
  const d = new Diagnostics()
  const yaml = parseYamlPolicy(SHOP, 'shop.yaml', d)
  assert.deepEqual(d.list, [])
  assert.deepEqual(astShape(yaml), astShape(parseFile(gwp, 'shop.gwp').ast))
  assert.deepEqual(yaml.comments.map(c => [c.text, c.span.line]), [
    ['# The shop in the brief\'s YAML format (§7), plus the `jwt:` section it leaves implicit.', 1],
    ['# `gwc check examples/shop.yaml` checks it; `gwc convert examples/shop.yaml` prints the same policy as .gwp.', 2],
    ['# POST → no retry unless idempotency key', 24],
    ['# public, cacheable', 28],
  ])
})

test('examples/shop.yaml checks clean and lowers to the IR the brief describes', () => {
  const r = check({ 'p.yaml': SHOP })
  assert.deepEqual(r.diagnostics, [])
  const ir = r.ir!
  const payments = ir.upstreams.find(u => u.name === 'payments')!
  assert.equal(payments.balance, 'least_conn')
  assert.deepEqual(payments.breaker, { errorRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5_000, halfOpenProbes: 3 })
  assert.deepEqual(payments.health.active, { path: '/healthz', intervalMs: 2000, timeoutMs: 1000, unhealthyAfter: 3, healthyAfter: 2 })
  assert.equal(ir.upstreams.find(u => u.name === 'catalog')!.breaker, null)
  const pay = route(r, 'payments'), cat = route(r, 'catalog')
  assert.deepEqual(pay.match, { hosts: ['api.shop.com'], path: { kind: 'prefix', value: '/v1/payments' }, methods: ['POST'], header: null })
  assert.deepEqual(known(pay.stages).map(s => (s.kind === 'auth' ? `auth ${s.provider} ${s.audience}` : s.kind === 'ratelimit' ? `ratelimit ${s.key.kind} ${s.limit}/${s.windowMs}` : s.kind)), ['auth shop_idp shop-api', 'ratelimit user 100/1000'])
  assert.deepEqual(pay.retry, { count: 1, methods: 'idempotency_key', budget: 0.1, perTryMs: 350, backoffMs: 0 })
  assert.equal(pay.timeoutMs, 800)
  assert.deepEqual(cat.stages.map(s => s.kind), ['ratelimit'], '`auth: { required: false }` adds no stage')
  assert.deepEqual(ir.identityHeaders, ['x-tenant-id', 'x-user-id'])
  assert.deepEqual(pay.source, { file: 'p.yaml', line: 21, col: 5 })
})

test('diagnostics point at YAML lines and columns: unknown keys, wrong kinds, missing keys, syntax', () => {
  const r = check({ 'p.yaml': `upstreams:
  a:
    replicas: { x: 1 }
    helth: { path: /h }
routes:
  - match: { path: /a }
    upstream: a
    timeout: 800
    ratelimit: { key: ip, limit: 10 }
    retries: { max: 1, budget: lots }
` })
  const unknown = r.diagnostics.find(d => d.code === 'E0205')!
  assert.equal(unknown.message, 'unknown key `helth` in `upstreams.a`')
  assert.equal(unknown.hint, 'did you mean `health`?')
  // A replicas map is reported where it is, and the upstream then has none (the checker's E0405).
  assert.deepEqual(errorsOf(r), ['E0405 2:3', 'E0301 3:15', 'E0205 4:5', 'E0304 8:14', 'E0104 9:5', 'E0301 10:32'])
  const syntax = check({ 'p.yaml': 'routes:\n  - match: { path: /a\n    upstream: a\n' })
  assert.deepEqual(errorsOf(syntax), ['E0002 3:5'])
  assert.deepEqual(errorsOf(check({ 'p.yaml': 'routes: []\n---\nroutes: []\n' })).map(x => x.split(' ')[0]), ['E0002'])
  const dup = check({ 'p.yaml': withRoutes('  - match: { path: /a }\n    timeout: 1s\n    upstream: a\n    timeout: 2s\n') })
  assert.deepEqual(errorsOf(dup), ['E0102 10:5'])
  assert.deepEqual(errorsOf(check({ 'p.yaml': '- just a list\n' })), ['E0301 1:1'])
  assert.deepEqual(errorsOf(check({ 'p.yaml': 'rootes: []\n' })), ['E0205 1:1'])
})

test('checker diagnostics land on the YAML key or value they are about', () => {
  const r = check({ 'p.yaml': withRoutes(`  - match: { path: /a, methods: [GETT] }
    upstream: c
    ratelimit: { key: user, limit: 10, window: 1s }
    retries: { max: 1, budget: 5s }
`) })
  assert.deepEqual(errorsOf(r), ['E0206 7:34', 'E0201 8:15', 'E0403 9:23', 'E0301 10:32'])
})

test('paths are prefixes unless `path_exact` or `exact: true`; `match: {}` matches everything', () => {
  const r = check({ 'p.yaml': withRoutes(`  - { name: p, match: { path: /p }, upstream: a, timeout: 1s }
  - { name: e, match: { path: /e, exact: true }, upstream: a, timeout: 1s }
  - { name: x, match: { path_exact: /x, host: [a.example.com, "*.b.example.com"] }, upstream: a, timeout: 1s }
  - { name: all, match: {}, upstream: b, timeout: 1s }
  - { name: h, match: { path: /h, header: X-Canary }, upstream: a, timeout: 1s }
  - { name: hv, match: { path: /hv, header: { name: X-Canary, value: "1" } }, upstream: b, timeout: 1s }
`) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(route(r, 'p').match.path, { kind: 'prefix', value: '/p' })
  assert.deepEqual(route(r, 'e').match.path, { kind: 'exact', value: '/e' })
  assert.deepEqual(route(r, 'x').match, { hosts: ['a.example.com', '*.b.example.com'], path: { kind: 'exact', value: '/x' }, methods: [], header: null })
  assert.deepEqual(route(r, 'all').match.path, { kind: 'prefix', value: '/' })
  assert.deepEqual(route(r, 'h').match.header, { name: 'x-canary', value: null })
  assert.deepEqual(route(r, 'hv').match.header, { name: 'x-canary', value: '1' })
  const both = check({ 'p.yaml': withRoutes('  - { match: { path: /a, path_exact: /b }, upstream: a }\n') })
  assert.deepEqual(errorsOf(both), ['E0404 7:26'])
})

test('auth: required false means no stage; provider may be left out only with one jwt provider', () => {
  const r = check({ 'p.yaml': withRoutes(`  - { name: one, match: { path: /1 }, upstream: a, timeout: 1s, auth: { aud: [x, y] } }
  - { name: short, match: { path: /2 }, upstream: a, timeout: 1s, auth: true }
  - { name: off, match: { path: /3 }, upstream: a, timeout: 1s, auth: { required: false, aud: x } }
  - { name: named, match: { path: /4 }, upstream: a, timeout: 1s, auth: { provider: idp, audience: z } }
`) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(route(r, 'one').stages, [{ kind: 'auth', provider: 'idp', audience: ['x', 'y'], facts: ['identity'], jwt: true, consumes: { headers: ['authorization'], query: [] }, source: { file: 'p.yaml', line: 7, col: 65 } }])
  assert.deepEqual(route(r, 'short').stages.map(s => s.kind), ['auth'])
  assert.deepEqual(route(r, 'off').stages, [])
  assert.deepEqual(known(route(r, 'named').stages).map(s => s.kind === 'auth' && s.audience), [['z']])
  const two = check({ 'p.yaml': withRoutes('  - { match: { path: /1 }, upstream: a, auth: { aud: x } }\n', 'x-more: 1\n').replace('jwt:\n', 'jwt:\n  idp2: { issuer: "https://i2/", jwks: "https://i2/k", refresh: 5m }\n') })
  const missing = two.diagnostics.find(d => d.code === 'E0104')!
  assert.equal(`${missing.line}:${missing.col}`, '9:41')
  assert.match(missing.hint!, /`idp2`, `idp`|`idp`, `idp2`/)
})

test('rate limits: every key kind, lists, options, and the fixed pipeline order', () => {
  const r = check({ 'p.yaml': withRoutes(`  - name: r
    match: { path: /r }
    upstream: a
    timeout: 1s
    headers: { response: { set: { Cache-Control: no-store } }, set: { X-From: gw }, remove: X-Debug }
    ratelimit:
      - { key: claim:tid, limit: 5, window: 1s }
      - { key: "header:X-Api-Key", limit: 50, window: 1m, store: redis, fail: closed }
      - { key: ip, limit: 100, window: 1s, burst: 20 }
      - { key: user, limit: 10, window: 1s }
    auth: true
`) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  const desc = known(route(r, 'r').stages).map(s => {
    if (s.kind === 'ratelimit') return `rl ${s.key.kind} ${s.limit} ${s.store}${s.failOpen ? '' : ' fail_closed'}${s.burst ? ` burst ${s.burst}` : ''}`
    if (s.kind === 'headers') return `headers ${s.target} ${s.ops.map(o => `${o.op} ${o.name}`).join(',')}`
    return s.kind
  })
  assert.deepEqual(desc, [
    'headers request set x-from,remove x-debug', 'headers response set cache-control',
    'rl ip 100 local burst 20', 'rl header 50 redis fail_closed', 'auth', 'rl claim 5 local', 'rl user 10 local',
  ])
  const bad = check({ 'p.yaml': withRoutes('  - { match: { path: /r }, upstream: a, ratelimit: { key: usr, limit: 5, window: 1s, store: disk } }\n') })
  const key = bad.diagnostics.find(d => d.code === 'E0206' && /rate-limit key/.test(d.message))!
  assert.equal(key.hint, 'did you mean `user`?')
  assert.deepEqual(errorsOf(bad), ['E0206 7:59', 'E0206 7:93'])
})

test('retries map onto retry options', () => {
  const r = check({ 'p.yaml': withRoutes(`  - { name: a1, match: { path: /1, methods: [GET] }, upstream: a, timeout: 2s, retries: { max: 1, only_idempotent: true, per_try: 500ms } }
  - { name: a2, match: { path: /2 }, upstream: a, timeout: 2s, retries: { max: 2, only_idempotent: false, budget: none, per_try: 500ms, backoff: 20ms } }
  - { name: a3, match: { path: /3 }, upstream: a, timeout: 2s, retries: { max: 1, idempotency_key: true, budget: 0.05, per_try: 500ms } }
  - { name: a4, match: { path: /4 }, upstream: a, timeout: 2s, retries: 1 }
`, 'x-breakers: 0\n').replace('a: { replicas: ["10.0.0.1:80"] }', 'a: { replicas: ["10.0.0.1:80"], breaker: {} }') })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(route(r, 'a1').retry, { count: 1, methods: 'idempotent', budget: 0.2, perTryMs: 500, backoffMs: 0 })
  assert.deepEqual(route(r, 'a2').retry, { count: 2, methods: 'all', budget: null, perTryMs: 500, backoffMs: 20 })
  assert.deepEqual(route(r, 'a3').retry, { count: 1, methods: 'idempotency_key', budget: 0.05, perTryMs: 500, backoffMs: 0 })
  assert.equal(route(r, 'a4').retry?.count, 1)
  assert.deepEqual(errorsOf(check({ 'p.yaml': withRoutes('  - { match: { path: /1 }, upstream: a, retries: { budget: 10% } }\n') })), ['E0104 7:41'])
})

test('a route\'s breaker becomes its upstream\'s; a different second breaker is reported at the second', () => {
  const same = check({ 'p.yaml': withRoutes(`  - { name: r1, match: { path: /1 }, upstream: a, timeout: 1s, breaker: { error_ratio: 0.5, open_for: 5s } }
  - { name: r2, match: { path: /2 }, upstream: a, timeout: 1s, breaker: { error_ratio: 50%, open_for: 5s } }
`) })
  assert.deepEqual(same.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual(same.ir!.upstreams.find(u => u.name === 'a')!.breaker, { errorRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5_000, halfOpenProbes: 3 })
  const differ = check({ 'p.yaml': withRoutes(`  - { match: { path: /1 }, upstream: a, breaker: { error_ratio: 0.5 } }
  - { match: { path: /2 }, upstream: a, breaker: { error_ratio: 0.6 } }
`) })
  const e = differ.diagnostics.find(d => d.code === 'E0102')!
  assert.equal(e.message, 'upstream `a` is given a different breaker here')
  assert.equal(`${e.line}:${e.col}`, '8:41')
  assert.deepEqual(e.notes?.map(n => `${n.line}:${n.col}`), ['7:41'])
  const own = check({ 'p.yaml': withRoutes('  - { match: { path: /1 }, upstream: a, breaker: { min_requests: 5 } }\n').replace('a: { replicas: ["10.0.0.1:80"] }', 'a: { replicas: ["10.0.0.1:80"], breaker: { min_requests: 10 } }') })
  assert.deepEqual(errorsOf(own), ['E0102 7:41'])
})

test('respond, weighted upstreams with a fallback, defaults, include, merge keys and x- keys', () => {
  const files = {
    'p.yaml': `include: shared.gwp
x-base: &base { timeout: 1s, upstream: a }
defaults:
  timeout: 3s
  max_body: 1MB
  lb: p2c-ewma
  pool: { connections: 8 }
upstreams:
  a: { replicas: ["10.0.0.1:80"] }
routes:
  - { name: ping, match: { path_exact: /ping }, respond: { status: 200, json: { ok: true }, headers: { X-Pong: "1" } } }
  - { name: gone, match: { path: /gone }, respond: 410 }
  - name: split
    match: { path: /split }
    upstreams: [{ name: a, weight: 90 }, { name: other, weight: 10% }]
    fallback: { status: 503, text: busy }
  - { name: merged, match: { path: /m }, <<: *base }
`,
    'shared.gwp': 'upstream other { replicas 10.0.9.9:80 }\n',
  }
  const r = check(files)
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  assert.deepEqual({ ...route(r, 'ping').terminal, source: undefined }, { kind: 'respond', status: 200, body: '{"ok":true}', contentType: 'application/json', headers: [{ name: 'x-pong', value: '1' }], redirect: null, source: undefined })
  const gone = route(r, 'gone').terminal
  assert.equal(gone.kind === 'respond' ? gone.status : undefined, 410)
  const split = route(r, 'split').terminal
  assert.ok(split.kind === 'proxy')
  assert.deepEqual(split.targets, [{ upstream: 'a', weight: 90 }, { upstream: 'other', weight: 10 }])
  assert.equal(split.fallback?.status, 503)
  assert.equal(route(r, 'split').timeoutMs, 3000, 'defaults apply')
  assert.equal(route(r, 'split').maxBodyBytes, 1024 * 1024)
  assert.equal(route(r, 'merged').timeoutMs, 1000, '<<: merges the anchored map')
  assert.deepEqual(r.ir!.upstreams.map(u => [u.name, u.balance, u.pool.connections]), [['a', 'p2c_ewma', 8], ['other', 'p2c_ewma', 8]])
  // .gwp files may include YAML ones too.
  const back = check({ 'main.gwp': 'include "p.yaml"\n', ...files }, 'main.gwp')
  assert.deepEqual(back.diagnostics.filter(d => d.severity === 'error'), [])
  assert.equal(back.ir!.routes.length, 4)
})

test('routes without a name are named after their upstream, stably, skipping explicit names', () => {
  const r = check({ 'p.yaml': withRoutes(`  - { match: { path: /1 }, upstream: a, timeout: 1s }
  - { match: { path: /2 }, upstream: b, timeout: 1s }
  - { name: a_2, match: { path: /3 }, upstream: b, timeout: 1s }
  - { match: { path: /4 }, upstream: a, timeout: 1s }
  - { match: { path: /5 }, respond: 204, timeout: 1s }
`) })
  assert.deepEqual(r.ir!.routes.map(x => x.name), ['a', 'b', 'a_2', 'a_3', 'respond'])
  const bad = check({ 'p.yaml': withRoutes('  - { name: "two words", match: { path: /1 }, upstream: a }\n') })
  assert.deepEqual(errorsOf(bad), ['E0306 7:13'])
})

test('gwc check reads YAML files and points into them', () => {
  const gwc = repoPath('dist/bin/gwc.js')
  const ok = spawnSync(process.execPath, [gwc, 'check', repoPath('examples/shop.yaml')], { encoding: 'utf8' })
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stderr, /no problems found in 1 file/)
  const bad = spawnSync(process.execPath, [gwc, 'check', '--format', 'json', repoPath('examples/shop.yaml'), repoPath('test/config/fixtures-missing.yml')], { encoding: 'utf8' })
  assert.equal(bad.status, 1)
  assert.deepEqual(at({ diagnostics: JSON.parse(bad.stdout) } as CompileResult), ['E0602 1:1'])
})
