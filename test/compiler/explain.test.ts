// test/compiler/explain.test.ts: `gwc explain` — the chosen route and its stages, every non-matching
// candidate with its specific reasons, precedence losses and to whom, normalisation and the 400s, the 404,
// request parsing, agreement with the reference matcher, and the CLI's exit codes.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { explainRequest, parseExplainRequest, renderExplainText, type ExplainRequest } from '../../compiler/tools/explain.js'
import type { BundleIR } from '../../config/ir.js'
import { selectRoute } from '../../config/match.js'
import { generateBench } from '../../testkit/topology/generate.js'
import { repoPath } from '../helpers/paths.js'

const POLICY = `
upstream pay { replicas 127.0.0.1:9101 127.0.0.1:9102; breaker error_ratio 50% min_requests 20 window 10s open_for 5s }
upstream cat { replicas 127.0.0.1:9111 }
jwt idp {
  issuer "http://127.0.0.1:9100/"
  jwks "http://127.0.0.1:9100/.well-known/jwks.json" refresh 5m
  forward claim sub as X-User-Id
}
route pay_create {
  match host "api.shop.com" path prefix "/v1/payments" method POST
  ratelimit by ip 1000 per 1s
  auth idp audience "shop-api"
  headers request set X-Env "prod"
  timeout 800ms
  retry 1 idempotency_key budget 10% per_try 350ms
  proxy pay
}
route pay_read { match host "api.shop.com" path prefix "/v1/payments" method GET; timeout 1s; retry 2 per_try 300ms; proxy pay }
route pay_any_host { match path prefix "/v1/payments"; timeout 1s; proxy cat }
route pay_wild { match host "*.shop.com" path prefix "/v1/payments"; timeout 1s; proxy cat }
route v1 { match host "api.shop.com" path prefix "/v1"; timeout 1s; proxy cat }
route pay_exact { match host "api.shop.com" path exact "/v1/payments/health"; timeout 1s; respond 200 json "{}" }
route pay_pre { match host "api.shop.com" path prefix "/v1/pay"; timeout 1s; proxy cat }
route canary_a { match host "api.shop.com" path prefix "/v1/payments" method GET header X-A; timeout 1s; proxy cat 90%, pay 10% }
route canary_b { match host "api.shop.com" path prefix "/v1/payments" method GET header X-B "on"; timeout 1s; proxy cat }
`

const ir: BundleIR = (() => {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': POLICY }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => d.message), [])
  return r.ir!
})()

function req(line: string, ...headers: string[]): ExplainRequest {
  const r = parseExplainRequest(line, headers)
  assert.equal(typeof r, 'object', String(r))
  return r as ExplainRequest
}
const explain = (line: string, ...headers: string[]) => explainRequest(ir, req(line, ...headers))
const cand = (e: ReturnType<typeof explain>, name: string) => e.candidates.find(c => c.route === name)!

test('the chosen route runs its stages in order, with notes for this request', () => {
  const e = explain('POST https://api.shop.com/v1/payments/42', 'X-User-Id: mallory')
  assert.deepEqual(e.outcome, { result: 'routed', status: null, route: 'pay_create', reason: 'route `pay_create` forwards to pay' })
  assert.deepEqual(e.steps.map(s => s.kind), ['identity', 'limits', 'ratelimit', 'auth', 'headers', 'proxy'])
  assert.match(e.steps[0].note!, /x-user-id is dropped/)
  assert.match(e.steps[1].text, /timeout 800ms .*16MB/)
  assert.match(e.steps[3].text, /^auth idp: bearer JWT from http:\/\/127\.0\.0\.1:9100\/ .*audience shop-api; forwards claim sub as x-user-id/)
  assert.match(e.steps[3].note!, /no `Authorization: Bearer` header: the gateway would answer 401 here/)
  assert.equal(e.steps[4].text, 'headers request: set x-env: prod')
  assert.match(e.steps[5].text, /^proxy pay \[127\.0\.0\.1:9101 127\.0\.0\.1:9102; round_robin; breaker\]; retry 1 \(idempotency_key, budget 10%, per_try 350ms\)/)
  assert.equal(e.steps[5].note, 'this POST is not retried (it carries no Idempotency-Key header)')
  const keyed = explain('POST https://api.shop.com/v1/payments/42', 'Idempotency-Key: k1', 'Authorization: Bearer abc')
  assert.equal(keyed.steps.at(-1)!.note, 'this POST may be retried up to 1 time on another replica')
  assert.equal(keyed.steps.find(s => s.kind === 'auth')!.note, 'the token is verified at run time (not checked here)')
  const weighted = explain('GET https://api.shop.com/v1/payments/1', 'X-A: 1')
  assert.equal(weighted.outcome.route, 'canary_a')
  assert.match(weighted.steps.at(-1)!.text, /^proxy 90% → cat \[127\.0\.0\.1:9111; round_robin\], 10% → pay \[/)
})

test('every candidate that does not match says why, condition by condition', () => {
  const e = explain('DELETE https://www.other.com/v1/paying')
  assert.equal(e.outcome.result, 'not_found')
  assert.deepEqual(cand(e, 'pay_create').reasons, [
    { condition: 'host', reason: 'host `www.other.com` is not `api.shop.com`' },
    { condition: 'path', reason: 'prefix `/v1/payments/…` does not match `/v1/paying`' },
    { condition: 'method', reason: 'method `DELETE` is not `POST`' },
  ])
  assert.deepEqual(cand(e, 'pay_wild').reasons.map(r => r.reason), ['host `www.other.com` is not a subdomain of `*.shop.com`', 'prefix `/v1/payments/…` does not match `/v1/paying`'])
  assert.deepEqual(cand(e, 'pay_pre').reasons.map(r => r.reason), ['host `www.other.com` is not `api.shop.com`', 'prefix `/v1/pay/…` does not match `/v1/paying` (prefixes match whole segments)'])
  assert.deepEqual(cand(e, 'pay_exact').reasons.map(r => r.condition), ['host', 'path'])
  assert.match(cand(e, 'pay_exact').reasons[1].reason, /^exact path `\/v1\/payments\/health` is not `\/v1\/paying`$/)
  const h = explain('GET https://api.shop.com/v1/payments/1', 'X-B: off')
  assert.deepEqual(cand(h, 'canary_a').reasons, [{ condition: 'header', reason: 'header `x-a` is missing' }])
  assert.deepEqual(cand(h, 'canary_b').reasons, [{ condition: 'header', reason: 'header `x-b` is `off`, not `on`' }])
})

test('candidates that match but lose say to whom and on which precedence rule', () => {
  const e = explain('GET https://api.shop.com/v1/payments/1')
  assert.equal(e.outcome.route, 'pay_read')
  assert.deepEqual(e.candidates.map(c => [c.route, c.result]).slice(0, 5), [['pay_read', 'chosen'], ['pay_any_host', 'lost'], ['pay_wild', 'lost'], ['v1', 'lost'], ['pay_create', 'no_match']])
  assert.equal(cand(e, 'pay_wild').lostOn, 'host: exact host `api.shop.com` beats wildcard host `*.shop.com`')
  assert.equal(cand(e, 'pay_any_host').lostTo, 'pay_read')
  assert.equal(cand(e, 'pay_any_host').lostOn, 'host: exact host `api.shop.com` beats any host')
  assert.equal(cand(e, 'v1').lostOn, 'path: prefix `/v1/payments` (12 characters) beats prefix `/v1` (3 characters)')
  const w = explain('GET https://eu.shop.com/v1/payments/1')
  assert.equal(w.outcome.route, 'pay_wild')
  assert.equal(cand(w, 'pay_any_host').lostOn, 'host: wildcard host `*.shop.com` beats any host')
  assert.equal(cand(explain('GET https://api.shop.com/v1/payments/health'), 'pay_read').lostOn, 'path: exact path `/v1/payments/health` beats prefix `/v1/payments` (12 characters)')
  const tie = explain('GET https://api.shop.com/v1/payments/1', 'X-A: 1', 'X-B: on')
  assert.equal(tie.outcome.route, 'canary_a')
  assert.equal(cand(tie, 'canary_b').lostOn, 'equal precedence: the route declared first wins')
  assert.equal(cand(tie, 'pay_read').lostOn, 'conditions: a condition on header `x-a` beats no condition')
  const m = explain('POST https://api.shop.com/v1/payments/1')
  assert.equal(cand(m, 'pay_any_host').lostOn, 'host: exact host `api.shop.com` beats any host')
})

test('the normalised path is what matches; paths the normaliser refuses, and a missing Host, get 400', () => {
  const e = explain('GET https://API.Shop.com:8443/v1/x/../payments/%7e1?a=1#frag')
  assert.equal(e.request.host, 'api.shop.com')
  assert.equal(e.normalizedPath, '/v1/payments/~1')
  assert.equal(e.outcome.route, 'pay_read')
  assert.match(renderExplainText(e), /^path +\/v1\/x\/\.\.\/payments\/%7e1 is matched as \/v1\/payments\/~1$/m)
  for (const [path, why] of [['/v1/payments%2F1', /encodes `%2F` \(an encoded `\/`\)/], ['/v1/a\\b', /raw `\\`/], ['/v1/%zz', /malformed percent escape at `%zz`/]] as const) {
    const b = explain(`GET https://api.shop.com${path}`)
    assert.equal(b.outcome.result, 'bad_request', path)
    assert.equal(b.outcome.status, 400)
    assert.match(b.outcome.reason, why)
    assert.deepEqual(b.candidates, [])
  }
  assert.match(explain('GET /v1/payments/1').outcome.reason, /no Host header/)
  // A fully qualified Host (trailing dot) names the same host, as it does in the runtime.
  assert.equal(explain('GET https://api.shop.com./v1/payments/1').outcome.route, 'pay_read')
  assert.match(explain('GET /v1/payments/1', 'Host: api shop').outcome.reason, /^the Host header `api shop` is not a host name/)
  assert.equal(explain('GET /v1/payments/1', 'Host: api.shop.com').outcome.route, 'pay_read')
})

test('a 404 says so and names the closest routes', () => {
  const e = explain('PATCH https://api.shop.com/v2/x')
  assert.equal(e.outcome.status, 404)
  assert.match(e.outcome.reason, /^no route matches: the gateway answers 404 \{"error":"no_route"\}/)
  const near = explain('PUT https://api.shop.com/v1/payments/health')
  assert.equal(near.outcome.route, 'pay_exact', 'exact path route takes any method')
  const text = renderExplainText(e)
  assert.match(text, /^result +404: no route matches/m)
  assert.match(text, /✗ pay_create +api\.shop\.com \/v1\/payments\/… POST +prefix `\/v1\/payments\/…` does not match `\/v2\/x`; method `PATCH` is not `POST`/)
})

test('parseExplainRequest: URL forms, Host override, defaults and refusals', () => {
  assert.deepEqual(parseExplainRequest('https://user:pw@Api.Shop.com:443?q=1', []), { method: 'GET', host: 'api.shop.com', path: '/', query: '?q=1', headers: { host: 'Api.Shop.com:443' } })
  assert.equal((parseExplainRequest('GET https://a.com/x', ['Host: b.com']) as ExplainRequest).host, 'b.com', '-H Host wins, as with curl')
  assert.deepEqual((parseExplainRequest('GET /x', ['X-A: 1', 'x-a: 2']) as ExplainRequest).headers, { 'x-a': '1, 2' })
  for (const bad of [['GET api.shop.com/x', []], ['GET https:///x', []], ['GE T https://a.com/ x', []], ['GET /x', ['no colon']], ['', []]] as const) {
    assert.equal(typeof parseExplainRequest(bad[0], [...bad[1]]), 'string', bad[0])
  }
})

test('explain agrees with the reference matcher on every sample request of the benchmark topology', () => {
  const { sidecar, gwp } = generateBench()
  const big = compile(['b.gwp'], { host: memoryHost({ 'b.gwp': gwp }) }).ir!
  for (const r of sidecar.routes) {
    const q = r.request
    const e = explainRequest(big, { method: q.method, host: q.host, path: q.path, query: '', headers: { ...q.headers, host: q.host } })
    assert.equal(e.outcome.route, r.name)
    assert.equal(selectRoute(big.routes.map(x => x.match), { host: q.host, path: q.path, method: q.method, headers: q.headers }), big.routes.findIndex(x => x.name === r.name))
    for (const c of e.candidates) {
      if (c.result === 'no_match') assert.ok(c.reasons.length > 0, c.route)
      if (c.result === 'lost') assert.equal(c.lostTo, r.name)
    }
  }
})

test('CLI: exit 0 routed, 1 for 404 or 400, 2 for usage or a set that does not compile; JSON; bundles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gwc-explain-'))
  try {
    const gwc = (...args: string[]) => spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), ...args], { encoding: 'utf8', cwd: dir })
    writeFileSync(join(dir, 'p.gwp'), POLICY)
    writeFileSync(join(dir, 'broken.gwp'), 'route x { proxy nowhere }\n')
    const ok = gwc('explain', 'p.gwp', '--request', 'POST https://api.shop.com/v1/payments/42', '-H', 'Authorization: Bearer x')
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /^result +route pay_create: /m)
    assert.match(ok.stdout, /pipeline of pay_create:\n {2}1\. remove client-sent identity headers x-user-id\n {2}2\. timeout 800ms/)
    const nf = gwc('explain', 'p.gwp', '--request', 'GET https://api.shop.com/nothing', '--format', 'json')
    assert.equal(nf.status, 1)
    assert.equal(JSON.parse(nf.stdout).outcome.status, 404)
    assert.equal(gwc('explain', 'p.gwp', '--request', 'GET https://api.shop.com/%2f').status, 1)
    assert.equal(gwc('build', 'p.gwp', '-o', 'bundle').status, 0)
    assert.equal(gwc('explain', 'bundle', '--request', 'GET https://api.shop.com/v1/payments/1').status, 0)
    const broken = gwc('explain', 'broken.gwp', '--request', 'GET https://a.com/')
    assert.equal(broken.status, 2)
    assert.match(broken.stderr, /unknown upstream `nowhere`/)
    for (const bad of [['explain', 'p.gwp'], ['explain', 'p.gwp', '--request', 'GET a.com']]) {
      assert.equal(gwc(...bad).status, 2, bad.join(' '))
    }
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
