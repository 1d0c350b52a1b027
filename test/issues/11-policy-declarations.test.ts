// test/issues/11-policy-declarations.test.ts: top-level declarations are a policy's, read from its descriptor
// (CompilePolicy.declarations) like its statements: the `jwt` and `keys` blocks of `auth` parse, check, print,
// convert from YAML, diff and explain through the generic path; "did you mean" covers their keywords; the
// credentials a stage consumes reach the route's IR; and `gwc test`'s stage kinds come from the registry.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { parseYaml } from '../../compiler/front-ends.js'
import { REGISTRY } from '../../compiler/policies.js'
import { formatSource, printVerified } from '../../compiler/tools/fmt.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest, parseExplainRequest, renderExplainText, type ExplainRequest } from '../../compiler/tools/explain.js'
import { renderRoutes } from '../../compiler/tools/routes.js'
import { STAGE_KINDS } from '../../compiler/tools/test-spec.js'
import { Diagnostics } from '../../grammar/index.js'

const GWP = `jwt idp {
  issuer "https://id.example.com/"
  jwks "https://id.example.com/jwks.json" refresh 5m
}

keys partners {
  file "/etc/gwp/keys.txt"
  query api_key
  forward consumer as X-Consumer-Id
}

upstream app {
  replicas 127.0.0.1:9000
}

route r {
  match path prefix "/"
  auth idp or partners audience "api"
  timeout 1s
  proxy app
}
`

const build = (text: string) => {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error'), [])
  return r.ir!
}

test('the keys block and auth a or b: checked into IR declarations, consumed credentials on the route, canonical print', () => {
  const ir = build(GWP)
  assert.deepEqual(ir.declarations.map(d => [d.kind, d.name]), [['jwt', 'idp'], ['keys', 'partners']])
  assert.deepEqual(ir.identityHeaders, ['x-consumer-id'])
  assert.deepEqual(ir.routes[0].consumes, { headers: ['authorization'], query: ['api_key'] })
  const f = formatSource(GWP, 'p.gwp')
  assert.equal(f.formatted, GWP)
  assert.match(renderRoutes(ir), /auth idp or partners/)
})

test('YAML keys: and auth provider lists read as the .gwp does', () => {
  const d = new Diagnostics()
  const ast = parseYaml(`
jwt:
  idp: { issuer: "https://id.example.com/", jwks: "https://id.example.com/jwks.json", refresh: 5m }
keys:
  partners: { file: /etc/gwp/keys.txt, query: api_key, forward_consumer: X-Consumer-Id }
upstreams:
  app: { replicas: ["127.0.0.1:9000"] }
routes:
  - { name: r, match: { path: / }, upstream: app, timeout: 1s, auth: { provider: [idp, partners], aud: api } }
`, 'p.yaml', d)
  assert.deepEqual(d.sorted().filter(x => x.severity === 'error'), [])
  const gwp = printVerified(ast, { keepBlankLines: false })
  assert.match(gwp, /keys partners \{\n {2}file "\/etc\/gwp\/keys.txt"\n {2}query api_key\n {2}forward consumer as X-Consumer-Id\n\}/)
  assert.match(gwp, /auth idp or partners audience "api"/)
})

test('did you mean: a misspelt declaration keyword and a misspelt statement of a policy declaration', () => {
  const errs = (text: string) => compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) }).diagnostics.filter(d => d.code === 'E0002')
  assert.equal(errs('kyes partners {\n  file "k.txt"\n}\n')[0]?.hint, 'did you mean `keys`?')
  const e = errs('keys partners {\n  flie "k.txt"\n}\n')[0]
  assert.equal(e?.message, 'expected a keys statement, found `flie`')
  assert.equal(e?.hint, 'did you mean `file`?')
  assert.equal(errs('jwt idp {\n  isuer "https://i/"\n}\n')[0]?.hint, 'did you mean `issuer`?')
})

test('declaration names are one namespace across policy declarations (E0101)', () => {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': 'jwt x { issuer "https://i/"; jwks "https://i/k" refresh 5m }\nkeys x { file "k.txt" }\n' }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => [d.code, d.message]), [['E0101', 'keys provider `x` is declared twice']])
})

test('gwc diff and explain speak of keys providers', () => {
  const old = build(GWP)
  const next = build(GWP.replace('query api_key', 'header X-Api-Key'))
  const text = renderDiffText(diffIr(old, next))
  assert.match(text, /keys providers: 1 changed/)
  assert.match(text, /~ keys partners\n\s+key\s+query api_key → header x-api-key/)
  const req = parseExplainRequest('GET http://h/x?api_key=k', []) as ExplainRequest
  const out = renderExplainText(explainRequest(old, req))
  assert.match(out, /auth idp or partners: the first of idp \(bearer JWT .*\), partners \(API key in query parameter api_key .*\) whose credential the request presents decides; none → 401/)
  assert.match(out, /`partners` decides/)
})

test('`gwc test` stage kinds are the registry\'s kinds and the terminals', () => {
  assert.deepEqual([...STAGE_KINDS], [...REGISTRY.list.map(p => p.kind), 'respond', 'proxy'])
})
