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
