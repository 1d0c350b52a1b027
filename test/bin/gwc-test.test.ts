// `gwc test`: offline expectations against a compiled policy — passes, failures that say why, coverage and
// --fail-under, all without a network.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoPath } from '../helpers/paths.js'
import { bundleFrom } from '../helpers/gateway.js'
import { runSuite } from '../../runtime/offline.js'
import { readSpecText } from '../../compiler/tools/test-spec.js'

const gwc = (...args: string[]) => spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), ...args], { cwd: repoPath(), encoding: 'utf8', timeout: 20_000 })

const POLICY = `
upstream api { replicas 127.0.0.1:1 }
upstream canary { replicas 127.0.0.1:2 }
jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks" refresh 5m; forward claim sub as X-User-Id }
route me { match host "api.example.com" path "/me" method GET; auth idp audience "api"; ratelimit by user 2 per 1m; timeout 1s; proxy api }
route pub { match path prefix "/pub"; headers request set X-Env "test"; timeout 1s; proxy api 50%, canary 50% }
route ping { match path "/ping"; timeout 1s; respond 204 }
`

test('the example suite passes with every route covered', () => {
  const r = gwc('test', 'examples/demo.gwp', '--spec', 'examples/shop.test.yaml', '--fail-under', '100')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /10 passed, 0 failed; routes covered 5\/5 \(100%\)/)
})

test('a case that fails says which expectation and what happened instead', () => {
  const b = bundleFrom(POLICY)
  const res = runSuite(b.manifest, b.moduleText, [
    { name: 'wrong status', request: 'GET https://api.example.com/me', expect: { status: 200 } },
    { name: 'wrong header', request: 'GET https://api.example.com/me', as: { sub: 'u1', aud: 'api' }, expect: { forwarded: { 'X-User-Id': 'u2' } } },
  ])
  assert.equal(res.failed, 2)
  assert.deepEqual(res.cases[0].failures, ['status: expected 200, got 401'])
  assert.deepEqual(res.cases[1].failures, ['forwarded X-User-Id: expected "u2", got "u1"'])
})

test('stages, identity forwarding, audience, rate limits and header edits run as the bundle says', () => {
  const b = bundleFrom(POLICY)
  const res = runSuite(b.manifest, b.moduleText, [
    { request: 'GET https://api.example.com/me', headers: { 'X-User-Id': 'spoof', Authorization: 'Bearer a.b.c' }, as: { sub: 'u1', aud: 'api' },
      expect: { route: 'me', status: '2xx', stages: ['auth', 'ratelimit', 'proxy'], upstream: 'api', forwarded: { 'X-User-Id': 'u1', Authorization: null } } },
    { request: 'GET https://api.example.com/me', as: { sub: 'u1', aud: 'other' }, expect: { status: 403, stages: ['auth'] } },
    { request: 'GET https://api.example.com/me', as: { sub: 'u9', aud: 'api' }, repeat: 3, expect: { status: 429, stages: ['auth', 'ratelimit'] } },
    { request: 'GET http://x.test/pub/a', expect: { route: 'pub', upstream: 'canary', forwarded: { 'X-Env': 'test' }, stages: ['headers', 'proxy'] } },
    { request: 'POST http://x.test/ping', expect: { route: 'ping', status: 204 } },
    { request: 'GET http://x.test/pub/%2F', expect: { status: 400, route: null } },
  ])
  assert.deepEqual(res.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.failures.join('; ')}`), [])
  assert.equal(res.coverage, 1)
})

test('coverage under --fail-under fails the run and names the routes not exercised', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwc-test-'))
  writeFileSync(join(dir, 'p.gwp'), POLICY)
  writeFileSync(join(dir, 'spec.yaml'), 'cases:\n  - request: POST http://x.test/ping\n    expect: { status: 204 }\n')
  const r = spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), 'test', 'p.gwp', '--spec', 'spec.yaml', '--fail-under', '50'], { cwd: dir, encoding: 'utf8' })
  assert.equal(r.status, 1)
  assert.match(r.stdout, /1 passed, 0 failed; routes covered 1\/3 \(33%\); not exercised: me, pub/)
  assert.match(r.stderr, /coverage 33% is under --fail-under 50%/)
  const bad = spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), 'test', 'p.gwp', '--spec', 'nope.yaml'], { cwd: dir, encoding: 'utf8' })
  assert.equal(bad.status, 2)
})

// Issue 9: a misspelt key used to be ignored, so the expectation it held was never checked and the case passed.
test('a misspelt key in the spec is an error with a did-you-mean, every problem at once, and nothing runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwc-test-'))
  writeFileSync(join(dir, 'p.gwp'), POLICY)
  writeFileSync(join(dir, 'spec.yaml'), [
    'cases:',
    '  - request: POST http://x.test/ping',
    '    expect: { stauts: 500 }',
    '  - request: GET http://x.test/pub/a',
    '    upstream_stauts: 503',
    '    expect:',
    '      fowarded: { X-Env: prod }',
    '',
  ].join('\n'))
  const r = spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), 'test', 'p.gwp', '--spec', 'spec.yaml'], { cwd: dir, encoding: 'utf8' })
  assert.equal(r.status, 1, r.stdout + r.stderr)
  assert.equal(r.stdout, '', 'no case ran')
  assert.match(r.stderr, /^error\[E0205\]: unknown key `stauts` in `cases\[0\]\.expect`\n --> spec\.yaml:3:15\n/m)
  assert.match(r.stderr, /^error\[E0205\]: unknown key `upstream_stauts` in `cases\[1\]`\n --> spec\.yaml:5:5\n[^]*?= hint: did you mean `upstream_status`\?/m)
  assert.match(r.stderr, /^error\[E0205\]: unknown key `fowarded` in `cases\[1\]\.expect`\n --> spec\.yaml:7:7\n[^]*?= hint: did you mean `forwarded`\?/m)
  assert.match(r.stderr, /= hint: did you mean `status`\?/)
  assert.match(r.stderr, /3 errors in spec\.yaml: nothing tested\n$/)
  const json = spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), 'test', 'p.gwp', '--spec', 'spec.yaml', '--format', 'json'], { cwd: dir, encoding: 'utf8' })
  assert.equal(json.status, 1)
  assert.deepEqual((JSON.parse(json.stdout) as { code: string; line: number }[]).map(d => `${d.code}@${d.line}`), ['E0205@3', 'E0205@5', 'E0205@7'])
})

test('the spec schema: misplaced keys, bad values and empty expectations are reported where they are', () => {
  const { diagnostics, cases } = readSpecText([
    '- request: GET http://x.test/a',   // 1
    '  status: 200',                     // 2: belongs under expect
    '  expect:',                         // 3
    '    upstream_status: 503',          // 4: belongs on the case
    '    stages: [auth, proxxy]',        // 5
    '- request: GETT',                   // 6
    '  ip: 1.2.3',                       // 7
    '  repeat: 0',                       // 8
    '  expect: {}',                      // 9
    '- request: GET /b',                 // 10: no expect
    '- request: GET http://x.test/c',    // 11
    '  headers: { X-Count: 3 }',         // 12: numbers read as text
    '  as: { sub: u1 }',                 // 13
    '  expect: { route: null, status: 4xx, headers: { X-Gone: null } }',
    '',
  ].join('\n'), 'spec.yaml')
  assert.deepEqual(diagnostics.map(d => `${d.line}:${d.col} ${d.code} ${d.message}${d.hint ? ' | ' + d.hint : ''}`), [
    '2:3 E0205 `status` is not a key of `cases[0]` | it goes under `expect:`',
    '4:5 E0205 `upstream_status` is not a key of `cases[0].expect` | it goes on the case, next to `expect:`',
    '5:20 E0206 unknown stage `proxxy` | did you mean `proxy`?',
    '6:12 E0306 request `GETT` is not a method and a URL | write `METHOD URL` or `METHOD /path`, e.g. `GET https://api.example.com/v1/users`',
    '7:7 E0306 `1.2.3` is not an IP address | write an IPv4 or IPv6 address, e.g. `203.0.113.7`',
    '8:11 E0303 `cases[1].repeat` must be between 1 and 100000, got `0`',
    '9:11 E0104 `cases[1].expect` checks nothing | give at least one of `route`, `status`, `stages`, `upstream`, `upstream_path`, `forwarded`, `headers`',
    '10:3 E0104 `cases[2]` has no `expect` | add e.g. `expect: { route: users, status: 200 }`',
  ])
  assert.deepEqual(cases.at(-1), { request: 'GET http://x.test/c', headers: { 'X-Count': '3' }, as: { sub: 'u1' }, expect: { route: null, status: '4xx', headers: { 'X-Gone': null } } })
})

test('the worked example and a bare list of cases read without a diagnostic', () => {
  const r = readSpecText('- request: GET /x\n  headers: { Host: a.test }\n  expect: { status: 404 }\n', 's.yaml')
  assert.deepEqual(r.diagnostics, [])
  assert.equal(r.cases.length, 1)
  const top = readSpecText('x-common: &h { Host: a.test }\ncaes:\n  - request: GET /x\n', 's.yaml')
  assert.deepEqual(top.diagnostics.map(d => `${d.code} ${d.hint}`), ['E0205 did you mean `cases`?'])
})
