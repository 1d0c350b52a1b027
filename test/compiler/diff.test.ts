// test/compiler/diff.test.ts: `gwc diff` — what counts as a behaviour change (and what does not: spans,
// declaration order), route pairing (added/removed/renamed), stage-by-stage changes, upstream and jwt changes,
// the text and JSON reports, and the CLI's sides and exit codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { diffIr, parseDiffSides, renderDiffJson, renderDiffText, type Change, type IrDiff } from '../../compiler/tools/diff.js'
import type { BundleIR } from '../../config/ir.js'
import { repoPath } from '../helpers/paths.js'
import { known } from '../helpers/stages.js'

const BASE = `
upstream pay {
  replicas 127.0.0.1:9101 127.0.0.1:9102
  balance least_conn
  health active path "/healthz" every 2s
  breaker error_ratio 50% min_requests 20 window 10s open_for 5s
}
upstream cat { replicas 127.0.0.1:9111 }
upstream cat2 { replicas 127.0.0.1:9121 }
jwt idp {
  issuer "http://127.0.0.1:9100/"
  jwks "http://127.0.0.1:9100/.well-known/jwks.json" refresh 5m
  algorithms RS256 ES256
  forward claim sub as X-User-Id
}
route pay_create {
  match host "api.shop.com" path prefix "/v1/payments" method POST
  ratelimit by ip 1000 per 1s
  auth idp audience "shop-api"
  ratelimit by user 100 per 1s
  timeout 800ms
  retry 1 idempotency_key budget 10% per_try 350ms
  proxy pay
}
route catalog {
  match host "api.shop.com" path prefix "/v1/catalog"
  timeout 300ms
  proxy cat 90%, cat2 10%
}
route health {
  match path exact "/health"
  timeout 1s
  respond 200 json "{}"
}
`

function ir(text: string): BundleIR {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => d.message), [])
  return r.ir!
}

/** BASE with each [from, to] replacement applied (each `from` must occur). */
function edit(...subs: [string, string][]): string {
  let t = BASE
  for (const [a, b] of subs) { assert.ok(t.includes(a), a); t = t.replace(a, b) }
  return t
}

const base = ir(BASE)
const diff = (...subs: [string, string][]): IrDiff => diffIr(base, ir(edit(...subs)))
const route = (d: IrDiff, name: string) => d.routes.find(r => r.name === name)!
const fieldsOf = (cs: Change[]) => Object.fromEntries(cs.map(c => [c.field, c.text]))

test('the same policies, moved around and re-spaced, are identical: spans are not behaviour', () => {
  const moved = '# moved up\nroute health { match path exact "/health"; timeout 1s; respond 200 json "{}" }\n' + BASE.slice(0, BASE.indexOf('route health {'))
  const other = ir(moved)
  assert.notDeepEqual(other.routes.map(r => r.source), base.routes.map(r => r.source))
  const d = diffIr(base, other)
  assert.equal(d.identical, true, renderDiffText(d))
  assert.equal(renderDiffText(d), 'no behaviour changes\n')
})

test('routes added, removed, and renamed (same match under a new name)', () => {
  const d = diff(['route catalog {', 'route catalog_v1 {'], ['route health {', 'route ping {\n  match path exact "/ping"\n  timeout 1s\n  respond 204\n}\nroute gone {'],
    ['match path exact "/health"', 'match path exact "/gone"'])
  assert.deepEqual(d.routes.map(r => [r.change, r.name, r.oldName]), [
    ['renamed', 'catalog_v1', 'catalog'], ['added', 'ping', null], ['added', 'gone', null], ['removed', 'health', null],
  ])
  assert.equal(route(d, 'ping').summary, '* /ping: respond 204')
  const text = renderDiffText(d)
  assert.match(text, /^routes: 1 renamed, 2 added, 1 removed$/m)
  assert.match(text, /^~ route catalog_v1 \(renamed from catalog\)$/m)
  assert.match(text, /^- route health {2}\* \/health: respond 200$/m)
})

test('match conditions: hosts, path, methods and header, old → new', () => {
  const d = diff(['match host "api.shop.com" path prefix "/v1/payments" method POST', 'match host "api.shop.com" "*.shop.com" path prefix "/v2/payments" method POST PUT header X-Canary "1"'])
  assert.deepEqual(fieldsOf(route(d, 'pay_create').match), {
    'match.hosts': 'api.shop.com → api.shop.com, *.shop.com (+*.shop.com)',
    'match.path': 'prefix /v1/payments → prefix /v2/payments',
    'match.methods': 'POST → POST, PUT (+PUT)',
    'match.header': 'none → x-canary=1',
  })
})

test('stages: added, removed, moved and changed, each with its position and old → new values', () => {
  const d = diff(
    ['  ratelimit by ip 1000 per 1s\n  auth idp audience "shop-api"\n  ratelimit by user 100 per 1s\n',
      '  auth idp audience "shop-api" "admin"\n  ratelimit by ip 1000 per 1s\n  headers request set X-Env "prod"\n'],
  )
  const s = route(d, 'pay_create').stages
  assert.deepEqual(s.map(x => [x.change, x.stage, x.from, x.to]), [
    ['moved', 'auth idp', 2, 1],
    ['removed', 'ratelimit user 100/1s', 3, null],
    ['added', 'headers request set x-env "prod"', null, 3],
  ])
  assert.deepEqual(fieldsOf(s[0].changes), { audience: 'shop-api → shop-api, admin (+admin)' })
  const limit = diff(['ratelimit by user 100 per 1s', 'ratelimit by user 50 per 10s burst 5'])
  assert.deepEqual(fieldsOf(route(limit, 'pay_create').stages[0].changes), {
    limit: '100 → 50', window: '1s → 10s', burst: '0 → 5', 'key space': 'pay_create:user:100/1000ms → pay_create:user:50/10000ms+5 (counters start fresh)',
  })
  assert.match(renderDiffText(limit), /stage 3 +ratelimit user 50\/10s burst 5: limit 100 → 50; window 1s → 10s; burst 0 → 5; key space .* \(counters start fresh\)/)
  const text = renderDiffText(d)
  assert.match(text, /stage 2 → 1 +moved: auth idp: audience shop-api → shop-api, admin \(\+admin\)/)
  // Shifted only because auth moved, so not "moved"; its limiter keeps its identity, so its counters (issue 9 item 10).
  assert.ok(!/ratelimit ip 1000\/1s/.test(text), text)
  assert.doesNotMatch(text, /counters start fresh/)
  assert.match(text, /stage 3 \(old\) +removed: ratelimit user 100\/1s/)
})

test('a limiter keeps its key space when stages are inserted above it; a change to its limit or a renamed route starts it fresh', () => {
  const inserted = diff(['  ratelimit by ip 1000 per 1s\n', '  headers request set X-Env "prod"\n  ratelimit by ip 1000 per 1s\n'])
  const ids = (t: string) => known(ir(t).routes.find(r => r.name === 'pay_create')!.stages).flatMap(s => (s.kind === 'ratelimit' ? [s.id] : []))
  assert.deepEqual(ids(BASE), ['pay_create:ip:1000/1000ms', 'pay_create:user:100/1000ms'])
  assert.deepEqual(ids(edit(['  ratelimit by ip 1000 per 1s\n', '  headers request set X-Env "prod"\n  ratelimit by ip 1000 per 1s\n'])), ids(BASE))
  assert.doesNotMatch(renderDiffText(inserted), /counters start fresh/, renderDiffText(inserted))
  assert.match(renderDiffText(diff(['ratelimit by ip 1000 per 1s', 'ratelimit by ip 2000 per 1s'])), /limit 1000 → 2000; key space pay_create:ip:1000\/1000ms → pay_create:ip:2000\/1000ms \(counters start fresh\)/)
  assert.match(renderDiffText(diff(['route pay_create {', 'route pay_new {'])), /key space pay_create:ip:1000\/1000ms → pay_new:ip:1000\/1000ms \(counters start fresh\)/)
  // fail_open ↔ fail_closed and local ↔ redis do not rename the key space
  assert.doesNotMatch(renderDiffText(diff(['ratelimit by ip 1000 per 1s', 'ratelimit by ip 1000 per 1s redis fail_closed'])), /key space/)
})

test('timeout, max_body, retry and the envelope they imply', () => {
  const d = diff(['timeout 800ms\n  retry 1 idempotency_key budget 10% per_try 350ms', 'timeout 2s\n  max_body 1MB\n  retry 2 idempotency_key budget 20% per_try 500ms'])
  const r = route(d, 'pay_create')
  assert.deepEqual(fieldsOf(r.settings), {
    timeout: '800ms → 2s', max_body: '16MB → 1MB', 'retry.count': '1 → 2', 'retry.budget': '10% → 20%', 'retry.per_try': '350ms → 500ms',
  })
  assert.deepEqual(fieldsOf(r.envelope), { 'envelope.tries': '2 → 3', 'envelope.worst': '700ms → 1500ms', 'envelope.amplification': '1.1× → 1.2×' })
  const none = diff(['  retry 1 idempotency_key budget 10% per_try 350ms\n', ''])
  assert.deepEqual(fieldsOf(route(none, 'pay_create').settings), { retry: '1 idempotency_key, budget 10%, per_try 350ms, backoff 0ms → none' })
})

test('terminal: weights, fallback, respond fields, and proxy ↔ respond', () => {
  const d = diff(['proxy cat 90%, cat2 10%', 'proxy cat 50%, cat2 50% fallback respond 503 json "{\\"busy\\":true}"'],
    ['respond 200 json "{}"', 'respond 503 text "down"'])
  assert.deepEqual(fieldsOf(route(d, 'catalog').terminal), {
    'proxy.targets': 'cat 90%, cat2 10% → cat 50%, cat2 50%', 'proxy.fallback': 'none → respond 503 application/json "{\\"busy\\":true}"',
  })
  assert.deepEqual(fieldsOf(route(d, 'health').terminal), { 'respond.status': '200 → 503', 'respond.content_type': 'application/json → text/plain; charset=utf-8', 'respond.body': '"{}" → "down"' })
  const kind = diff(['respond 200 json "{}"', 'proxy cat'])
  assert.deepEqual(fieldsOf(route(kind, 'health').terminal), { terminal: 'respond 200 → proxy cat' })
})

test('upstreams: replicas, balance, pool, breaker and health; added and removed upstreams', () => {
  const d = diff(['replicas 127.0.0.1:9101 127.0.0.1:9102', 'replicas 127.0.0.1:9101 127.0.0.1:9103'], ['balance least_conn', 'balance p2c_ewma\n  pool connections 16'],
    ['  breaker error_ratio 50% min_requests 20 window 10s open_for 5s\n', '  breaker error_ratio 25% min_requests 20 window 10s open_for 5s\n  health passive eject_after 3 errors for 5s\n'],
    ['upstream cat { replicas 127.0.0.1:9111 }', 'upstream cat { replicas 127.0.0.1:9111; breaker error_ratio 50% min_requests 20 window 10s open_for 5s }\nupstream spare { replicas 127.0.0.1:9131 }\nroute spare { match path prefix "/spare"; timeout 1s; proxy spare }'])
  const pay = d.upstreams.find(u => u.name === 'pay')!
  assert.deepEqual(fieldsOf(pay.changes), {
    replicas: '+127.0.0.1:9103 -127.0.0.1:9102',
    balance: 'least_conn → p2c_ewma', 'pool.connections': '64 → 16', 'breaker.error_ratio': '50% → 25%',
    'health.passive.eject_after': '5 → 3', 'health.passive.for': '30s → 5s',
  })
  assert.deepEqual(fieldsOf(d.upstreams.find(u => u.name === 'cat')!.changes), { breaker: 'none → error_ratio 50% min_requests 20 window 10s open_for 5s' })
  assert.deepEqual(d.upstreams.find(u => u.name === 'spare'), { change: 'added', name: 'spare', summary: '127.0.0.1:9131, round_robin', changes: [] })
})

test('jwt providers and the identity headers their forwards imply', () => {
  const d = diff(['algorithms RS256 ES256', 'algorithms RS256'], ['refresh 5m', 'refresh 1m'], ['forward claim sub as X-User-Id', 'forward claim sub as X-User-Id, claim tid as X-Tenant-Id'])
  const f = fieldsOf(d.declarations[0].changes)
  assert.equal(f.refresh, '5m → 1m')
  assert.equal(f.algorithms, 'RS256, ES256 → RS256 (-ES256)')
  assert.equal(f.forward, 'sub as x-user-id → sub as x-user-id, tid as x-tenant-id (+tid as x-tenant-id)')
  assert.deepEqual(fieldsOf(d.identityHeaders), { 'identity headers': 'x-user-id → x-tenant-id, x-user-id (+x-tenant-id)' })
})

test('the JSON report carries raw values and counts', () => {
  const d = diff(['timeout 300ms', 'timeout 500ms'], ['route health {', 'route health2 {'])
  const j = JSON.parse(renderDiffJson(d))
  assert.equal(j.identical, false)
  assert.deepEqual(j.counts.routes, { changed: 1, renamed: 1 })
  const c = j.routes.find((r: { name: string }) => r.name === 'catalog').settings[0]
  assert.deepEqual(c, { field: 'timeout', old: 300, new: 500, text: '300ms → 500ms' })
})

test('parseDiffSides: OLD NEW, OLD… -- NEW…, --old/--new, and what is refused', () => {
  assert.deepEqual(parseDiffSides(['a', 'b'], null, undefined, undefined), { old: ['a'], new: ['b'] })
  assert.deepEqual(parseDiffSides(['a', 'b'], ['c'], undefined, undefined), { old: ['a', 'b'], new: ['c'] })
  assert.deepEqual(parseDiffSides([], null, ['a', 'x'], ['b']), { old: ['a', 'x'], new: ['b'] })
  for (const bad of [parseDiffSides(['a'], null, undefined, undefined), parseDiffSides(['a', 'b', 'c'], null, undefined, undefined),
    parseDiffSides([], [], undefined, undefined), parseDiffSides([], null, ['a'], undefined), parseDiffSides(['x'], null, ['a'], ['b'])]) {
    assert.equal(typeof bad, 'string')
  }
})

test('CLI: bundles and policy sets, exit 0 same / 1 different / 2 usage or errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwc-diff-'))
  try {
    const gwc = (...args: string[]) => spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), ...args], { encoding: 'utf8', cwd: dir })
    writeFileSync(join(dir, 'old.gwp'), BASE)
    writeFileSync(join(dir, 'new.gwp'), edit(['timeout 300ms', 'timeout 500ms']))
    const [ups, rest] = [BASE.slice(0, BASE.indexOf('route pay_create')), BASE.slice(BASE.indexOf('route pay_create'))]
    writeFileSync(join(dir, 'a.gwp'), ups)
    writeFileSync(join(dir, 'b.gwp'), rest)
    writeFileSync(join(dir, 'broken.gwp'), 'route x { proxy nowhere }\n')
    assert.equal(gwc('build', 'old.gwp', '-o', 'bundle').status, 0)
    const same = gwc('diff', 'bundle', 'old.gwp')
    assert.equal(same.status, 0, same.stderr)
    assert.equal(same.stdout, 'no behaviour changes\n')
    const split = gwc('diff', 'a.gwp', 'b.gwp', '--', 'old.gwp')
    assert.equal(split.status, 0, `two files on one side equal one file with both halves: ${split.stdout}${split.stderr}`)
    const changed = gwc('diff', '--old', 'bundle', '--new', 'new.gwp')
    assert.equal(changed.status, 1)
    assert.match(changed.stdout, /~ route catalog\n {4}timeout +300ms → 500ms/)
    const json = gwc('diff', 'old.gwp', 'new.gwp', '--format', 'json')
    assert.equal(json.status, 1)
    assert.equal(JSON.parse(json.stdout).routes[0].name, 'catalog')
    const broken = gwc('diff', 'old.gwp', 'broken.gwp')
    assert.equal(broken.status, 2)
    assert.match(broken.stderr, /error\[E0201\]: unknown upstream `nowhere`[\s\S]*cannot diff: the new side does not compile/)
    assert.equal(gwc('diff', 'old.gwp').status, 2)
    assert.equal(gwc('diff', 'old.gwp', 'new.gwp', '--format', 'xml').status, 2)
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
