// Issue 12 item 3: `cors` in the tools. `gwc routes`, `gwc explain`, the router and the conflict analysis all see
// the OPTIONS that `cors` adds to a route listing methods; `gwc diff` names what changed; `gwc fmt` round-trips the
// statement; the YAML front end gives the same IR as .gwp (and `gwc convert` prints it back); `gwc test` runs
// preflights offline.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compile } from '../../compiler/compile.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { memoryHost } from '../../compiler/sources.js'
import { convertYaml } from '../../compiler/tools/convert.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest, renderExplainText } from '../../compiler/tools/explain.js'
import { formatSource } from '../../compiler/tools/fmt.js'
import { renderRoutes } from '../../compiler/tools/routes.js'
import { readSpecText } from '../../compiler/tools/test-spec.js'
import type { BundleIR } from '../../config/ir.js'
import { Router } from '../../runtime/router.js'
import { runSuite } from '../../runtime/offline.js'
import { bundleFrom } from '../helpers/gateway.js'

const GWP = `upstream app {
  replicas 127.0.0.1:9001
}

route api {
  match host "api.example.com" path prefix "/v1" method GET POST
  cors origins "https://app.example.com", "https://*.partner.example.com" methods GET, POST, PUT headers x-trace expose x-request-id credentials max_age 10m
  ratelimit by ip 100 per 1s
  timeout 2s
  proxy app
}
`

const YAML = `upstreams:
  app: { replicas: ["127.0.0.1:9001"] }
routes:
  - name: api
    match: { host: api.example.com, path: /v1, methods: [GET, POST] }
    ratelimit: { key: ip, limit: 100, window: 1s }
    cors:
      origins: ["https://app.example.com", "https://*.partner.example.com"]
      methods: [GET, POST, PUT]
      headers: [x-trace]
      expose: [x-request-id]
      credentials: true
      max_age: 10m
    timeout: 2s
    upstream: app
`

function irOf(text: string, file = 'p.gwp'): BundleIR {
  const r = compile([file], { host: memoryHost({ [file]: text }), frontEnds: FRONT_ENDS })
  assert.deepEqual(r.diagnostics.map(d => `${d.code} ${d.message}`), [])
  return r.ir!
}

test('cors adds OPTIONS to a route that lists methods: the IR, `gwc routes` and the router agree', () => {
  const ir = irOf(GWP)
  assert.deepEqual(ir.routes[0].match.methods, ['GET', 'POST', 'OPTIONS'])
  const table = renderRoutes(ir)
  assert.match(table, /GET,POST,OPTIONS/)
  assert.match(table, /cors https:\/\/app\.example\.com,https:\/\/\*\.partner\.example\.com GET,POST,PUT credentials max_age 10m/)
  const router = new Router(ir.routes.map(r => r.match), ir.routes)
  assert.equal(router.find('api.example.com', '/v1/x', 'OPTIONS', {}, '')?.name, 'api')
  assert.equal(router.find('api.example.com', '/v1/x', 'DELETE', {}, ''), undefined)
  // a route listing no methods takes any already: nothing is added
  assert.deepEqual(irOf(GWP.replace(' method GET POST', '')).routes[0].match.methods, [])
})

test('`gwc explain` shows the cors step, whether the origin is allowed, and routes a preflight to the route', () => {
  const ir = irOf(GWP)
  const pre = explainRequest(ir, { method: 'OPTIONS', host: 'api.example.com', path: '/v1/x', query: '', headers: { host: 'api.example.com', origin: 'https://eu.partner.example.com', 'access-control-request-method': 'PUT' } })
  assert.equal(pre.outcome.route, 'api')
  const text = renderExplainText(pre)
  assert.match(text, /cors: origins https:\/\/app\.example\.com, https:\/\/\*\.partner\.example\.com; a preflight \(OPTIONS with Access-Control-Request-Method\) is answered here/)
  assert.match(text, /as a preflight \(OPTIONS\) this is answered here with 204 and the CORS headers; nothing below runs/)
  const refused = renderExplainText(explainRequest(ir, { method: 'OPTIONS', host: 'api.example.com', path: '/v1/x', query: '', headers: { host: 'api.example.com', origin: 'https://eu.partner.example.com', 'access-control-request-method': 'DELETE' } }))
  assert.match(refused, /answered here with 403, no CORS headers/)
  const simple = renderExplainText(explainRequest(ir, { method: 'GET', host: 'api.example.com', path: '/v1/x', query: '', headers: { host: 'api.example.com', origin: 'https://eu.partner.example.com' } }))
  assert.match(simple, /origin `https:\/\/eu\.partner\.example\.com` is allowed/)
  const evil = renderExplainText(explainRequest(ir, { method: 'GET', host: 'api.example.com', path: '/v1/x', query: '', headers: { host: 'api.example.com', origin: 'https://partner.example.com.evil.test' } }))
  assert.match(evil, /origin `https:\/\/partner\.example\.com\.evil\.test` is not allowed: the answer carries no CORS headers/)
})

test('`gwc diff` names the cors fields that changed', () => {
  const old = irOf(GWP)
  const next = irOf(GWP.replace('"https://*.partner.example.com" methods GET, POST, PUT', '"https://admin.example.com" methods GET, POST').replace(' credentials max_age 10m', ' max_age 1m'))
  const text = renderDiffText(diffIr(old, next))
  assert.match(text, /origins \+https:\/\/admin\.example\.com -https:\/\/\*\.partner\.example\.com/)
  assert.match(text, /methods GET, POST, PUT → GET, POST \(-PUT\)/)
  assert.match(text, /credentials true → false/)
  assert.match(text, /max_age 10m → 1m/)
  assert.doesNotMatch(text, /match/, 'the route\'s match is unchanged (OPTIONS stays while cors does)')
})

test('`gwc fmt` round-trips the statement (clauses as written, lists with commas)', () => {
  const messy = GWP.replace('cors origins "https://app.example.com",   "https://*.partner.example.com"', 'x').replace('cors origins', 'cors   origins')
  const f = formatSource(messy, 'p.gwp')
  assert.deepEqual(f.diagnostics, [])
  assert.equal(f.formatted, GWP)
  assert.equal(formatSource(f.formatted!, 'p.gwp').changed, false)
})

test('the YAML front end gives the .gwp IR, and `gwc convert` prints the .gwp statement', () => {
  const fromYaml = irOf(YAML, 'p.yaml')
  const fromGwp = irOf(GWP)
  const strip = (ir: BundleIR) => ir.routes.map(r => ({ match: r.match, stages: r.stages.map(s => ({ ...s, source: null })) }))
  assert.deepEqual(strip(fromYaml), strip(fromGwp))
  assert.equal(fromYaml.routes[0].stages[0].kind, 'cors', 'YAML puts cors first (rank 0), before the rate limit')
  const c = convertYaml(YAML, 'p.yaml')
  assert.deepEqual(c.diagnostics, [])
  assert.match(c.gwp!, /cors origins "https:\/\/app\.example\.com", "https:\/\/\*\.partner\.example\.com" methods GET, POST, PUT headers x-trace expose x-request-id credentials max_age 10m/)
})

test('the YAML front end reports cors mistakes with the same codes', () => {
  const r = compile(['p.yaml'], { host: memoryHost({ 'p.yaml': YAML.replace('credentials: true', 'credentials: true\n      orgins: []').replace('"https://app.example.com",', '"app.example.com",').replace('[GET, POST, PUT]', '[GET, "PU T"]') }), frontEnds: FRONT_ENDS })
  assert.deepEqual([...new Set(r.diagnostics.map(d => d.code))].sort(), ['E0205', 'E0470', 'E0475'])
})

test('`gwc test` runs a preflight offline: answered by cors alone, with its headers; the actual request goes on to the proxy', () => {
  const b = bundleFrom(GWP)
  const spec = readSpecText(`
- name: preflight
  request: OPTIONS https://api.example.com/v1/items
  headers: { Origin: "https://app.example.com", Access-Control-Request-Method: PUT, Access-Control-Request-Headers: x-trace }
  expect: { route: api, status: 204, stages: [cors], headers: { access-control-allow-origin: "https://app.example.com", access-control-max-age: "600", vary: Origin, content-type: null } }
- name: refused preflight
  request: OPTIONS https://api.example.com/v1/items
  headers: { Origin: "https://evil.test", Access-Control-Request-Method: PUT }
  expect: { status: 403, stages: [cors], headers: { access-control-allow-origin: null } }
- name: actual request
  request: PUT https://api.example.com/v1/items
  headers: { Origin: "https://app.example.com" }
  expect: { status: 404 }
- name: get
  request: GET https://api.example.com/v1/items
  headers: { Origin: "https://eu.partner.example.com" }
  expect: { status: 200, stages: [cors, ratelimit, proxy], headers: { access-control-allow-origin: "https://eu.partner.example.com", access-control-allow-credentials: "true" } }
`, 'spec.yaml')
  assert.deepEqual(spec.diagnostics, [])
  const r = runSuite(b.manifest, b.moduleText, spec.cases!)
  assert.deepEqual(r.cases.filter(c => !c.ok).map(c => `${c.name}: ${c.failures.join('; ')}`), [])
})
