// test/grammar/yaml-mappings.test.ts: every policy's YAML mapping (policies/*/yaml.ts) as a user sees it. Each
// documented form builds the AST of the equivalent .gwp and `gwc convert` prints exactly that .gwp; every refusal
// gives its code, message, hint and YAML line:col (the caret under the key or value it is about), and leaves the
// statements the test names (nothing half-read); the spans of what is read point at the YAML that says it.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { parseYaml } from '../../compiler/front-ends.js'
import { parseFile } from '../../compiler/parse.js'
import { runConvert } from '../../compiler/tools/convert.js'
import { astShape } from '../../compiler/tools/fmt.js'
import type * as A from '../../grammar/ast.js'
import { Diagnostics } from '../../grammar/index.js'

const DIR = mkdtempSync(join(tmpdir(), 'gwp-yaml-mappings-'))
after(() => rmSync(DIR, { recursive: true, force: true }))

/** `gwc convert p.yaml`, in-process; the temporary directory is cut from the output. */
function convert(yaml: string): { code: number; out: string; err: string } {
  const path = join(DIR, 'p.yaml')
  writeFileSync(path, yaml)
  const r = runConvert([path], undefined)
  return { code: r.code, out: r.out, err: r.err.split(`${DIR}/`).join('') }
}

/** A YAML file whose one route `r` holds `lines` (each indented 4) between its match and its upstream. */
const yamlRoute = (lines: string, top = ''): string => `${top}routes:\n  - name: r\n    match: { path: /r }\n${lines}\n    upstream: a\n`
/** The .gwp `gwc convert` prints for it: `stmts` (each `  …\n`) between the match and the proxy. */
const gwpRoute = (stmts: string, top = ''): string => `${top}route r {\n  match path prefix "/r"\n${stmts}  proxy a\n}\n`

/** The YAML reads without a diagnostic, to the AST of `gwp`, and `gwc convert` prints exactly `gwp`. */
function same(yaml: string, gwp: string): void {
  const d = new Diagnostics()
  const ast = parseYaml(yaml, 'p.yaml', d)
  assert.deepEqual(d.list, [])
  const ref = parseFile(gwp, 'p.gwp')
  assert.deepEqual(ref.diagnostics.list, [], 'the expected .gwp parses')
  assert.deepEqual(astShape(ast), astShape(ref.ast))
  assert.deepEqual(convert(yaml), { code: 0, out: gwp, err: '' })
}

/** `gwc convert` refuses the YAML with exactly `err`; what the front end read anyway is the AST of `remains`. */
function refused(yaml: string, err: string, remains: string): void {
  const ast = parseYaml(yaml, 'p.yaml', new Diagnostics())
  const ref = parseFile(remains, 'p.gwp')
  assert.deepEqual(ref.diagnostics.list, [], 'the expected .gwp parses')
  assert.deepEqual(astShape(ast), astShape(ref.ast))
  assert.deepEqual(convert(yaml), { code: 1, out: '', err })
}

/** Every span in `x`, as `path line:col` (the path of the node the span belongs to; `.` for `x` itself). */
function spanList(x: unknown, path = '.'): string[] {
  if (Array.isArray(x)) return x.flatMap((v, i) => spanList(v, path === '.' ? String(i) : `${path}.${i}`))
  if (x === null || typeof x !== 'object') return []
  const out: string[] = []
  for (const [k, v] of Object.entries(x)) {
    if (k === 'span') { const s = v as A.Span; out.push(`${path} ${s.line}:${s.col}`) } else out.push(...spanList(v, path === '.' ? k : `${path}.${k}`))
  }
  return out
}
/** The spans of route `r`'s statements between its match and its proxy, one list per statement. */
function stmtSpans(yaml: string): string[][] {
  const ast = parseYaml(yaml, 'p.yaml', new Diagnostics())
  const r = ast.decls.find((d): d is A.RouteDecl => d.kind === 'route')!
  return r.body.slice(1, -1).map(s => spanList(s))
}
/** The spans of the file's declarations other than routes (`jwt NAME { … }`), one list per declaration. */
function declSpans(yaml: string): string[][] {
  const ast = parseYaml(yaml, 'p.yaml', new Diagnostics())
  return ast.decls.filter(d => d.kind !== 'route').map(d => spanList(d))
}

const EMPTY = gwpRoute('')

// ---------------------------------------------------------------------------------------------------- headers

test('headers: set/remove at the top (the request), under request and response, each in the order written', () => {
  const yaml = yamlRoute(`    headers:
      response: { remove: Server, set: { X-Frame-Options: DENY } }
      remove: [X-Debug, "x.trace"]
      request: { set: { Via: gw } }
      set: { X-From: gw, "x y": 5, X-On: true }`)
  same(yaml, gwpRoute(`  headers remove X-Debug "x.trace", set X-From "gw", set "x y" "5", set X-On "true"
  headers request set Via "gw"
  headers response remove Server, set X-Frame-Options "DENY"
`))
  assert.deepEqual(stmtSpans(yaml), [
    ['ops.0.names.0 6:16', 'ops.0.names.1 6:25', 'ops.0 6:7', 'ops.1.names.0 8:14', 'ops.1.value 8:22', 'ops.1 8:14', 'ops.2.names.0 8:26', 'ops.2.value 8:33',
      'ops.2 8:26', 'ops.3.names.0 8:36', 'ops.3.value 8:42', 'ops.3 8:36', '. 4:5'],
    ['ops.0.names.0 7:25', 'ops.0.value 7:30', 'ops.0 7:25', '. 7:7'],
    ['ops.0.names.0 5:27', 'ops.0 5:19', 'ops.1.names.0 5:42', 'ops.1.value 5:59', 'ops.1 5:42', '. 5:7'],
  ])
  // one name stands for a list of one; request alone; response alone
  same(yamlRoute('    headers: { remove: X-Debug }'), gwpRoute('  headers remove X-Debug\n'))
  same(yamlRoute('    headers: { request: { remove: [X-A, X-B] } }'), gwpRoute('  headers request remove X-A X-B\n'))
  same(yamlRoute('    headers: { response: { set: { X-A: "1" }, remove: X-B } }'), gwpRoute('  headers response set X-A "1", remove X-B\n'))
})

test('headers: empty maps and lists give no statement', () => {
  for (const h of ['{}', '{ set: {}, remove: [] }', '{ request: {}, response: { set: {}, remove: [] } }', '{ remove: [], request: { remove: [] } }']) {
    same(yamlRoute(`    headers: ${h}`), EMPTY)
  }
  same(yamlRoute('    headers: { set: {}, response: { remove: [X-A] } }'), gwpRoute('  headers response remove X-A\n'))
  same(yamlRoute('    headers: { remove: X-A, request: {} }'), gwpRoute('  headers remove X-A\n'))
})

test('headers: refusals, at the YAML they are about', () => {
  refused(yamlRoute('    headers: [X-A]'), `error[E0301]: \`routes[0].headers\` takes a map, got a list
 --> p.yaml:4:14
  |
4 |     headers: [X-A]
  |              ^^^^^ expected a map
1 error: nothing converted
`, EMPTY)
  refused(yamlRoute('    headers: { requst: { set: { X-A: b } }, remve: X-B }'), `error[E0205]: unknown key \`requst\` in \`routes[0].headers\`
 --> p.yaml:4:16
  |
4 |     headers: { requst: { set: { X-A: b } }, remve: X-B }
  |                ^^^^^^ not a key here
  = hint: did you mean \`request\`?

error[E0205]: unknown key \`remve\` in \`routes[0].headers\`
 --> p.yaml:4:45
  |
4 |     headers: { requst: { set: { X-A: b } }, remve: X-B }
  |                                             ^^^^^ not a key here
  = hint: did you mean \`remove\`?
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    headers: { response: { add: { X-A: b } }, set: { X-B: c } }'), `error[E0205]: unknown key \`add\` in \`routes[0].headers.response\`
 --> p.yaml:4:28
  |
4 |     headers: { response: { add: { X-A: b } }, set: { X-B: c } }
  |                            ^^^ not a key here
  = hint: \`routes[0].headers.response\` takes \`set\`, \`remove\`
1 error: nothing converted
`, gwpRoute('  headers set X-B "c"\n'))
  refused(yamlRoute('    headers: { request: X-A, response: [X-B], remove: X-C }'), `error[E0301]: \`routes[0].headers.request\` takes a map, got a string
 --> p.yaml:4:25
  |
4 |     headers: { request: X-A, response: [X-B], remove: X-C }
  |                         ^^^ expected a map

error[E0301]: \`routes[0].headers.response\` takes a map, got a list
 --> p.yaml:4:40
  |
4 |     headers: { request: X-A, response: [X-B], remove: X-C }
  |                                        ^^^^^ expected a map
2 errors: nothing converted
`, gwpRoute('  headers remove X-C\n'))
  // `set` is a map, never a list; `remove` a name or a list of names, never a map
  refused(yamlRoute('    headers: { set: [X-A], request: { remove: { X-B: 1 } }, response: { set: X-C } }'), `error[E0301]: \`routes[0].headers.set\` takes a map, got a list
 --> p.yaml:4:21
  |
4 |     headers: { set: [X-A], request: { remove: { X-B: 1 } }, response: { set: X-C } }
  |                     ^^^^^ expected a map

error[E0301]: \`routes[0].headers.request.remove\` takes a header name or a list of them, got a map
 --> p.yaml:4:47
  |
4 |     headers: { set: [X-A], request: { remove: { X-B: 1 } }, response: { set: X-C } }
  |                                               ^^^^^^^^^^ expected a header name or a list of them

error[E0301]: \`routes[0].headers.response.set\` takes a map, got a string
 --> p.yaml:4:78
  |
4 |     headers: { set: [X-A], request: { remove: { X-B: 1 } }, response: { set: X-C } }
  |                                                                              ^^^ expected a map
3 errors: nothing converted
`, EMPTY)
  // a value that is not a scalar, an item that is not a name: the rest of the statement is kept
  refused(yamlRoute(`    headers:
      set: { X-A: [1], X-B: ok, X-C: }
      response: { remove: [X-D, { X-E: 1 }] }`), `error[E0301]: \`routes[0].headers.set.X-A\` takes a header value, got a list
 --> p.yaml:5:19
  |
5 |       set: { X-A: [1], X-B: ok, X-C: }
  |                   ^^^ expected a header value

error[E0301]: \`routes[0].headers.set.X-C\` takes a header value, got nothing
 --> p.yaml:5:38
  |
5 |       set: { X-A: [1], X-B: ok, X-C: }
  |                                      ^ expected a header value

error[E0301]: \`routes[0].headers.response.remove[1]\` takes a name, got a map
 --> p.yaml:6:33
  |
6 |       response: { remove: [X-D, { X-E: 1 }] }
  |                                 ^^^^^^^^^^ expected a name
3 errors: nothing converted
`, gwpRoute('  headers set X-B "ok"\n  headers response remove X-D\n'))
})

// ---------------------------------------------------------------------------------------------------------- auth

const IDP = 'jwt:\n  idp: { issuer: i }\n'
const IDP_GWP = 'jwt idp {\n  issuer "i"\n}\n\n'
const TWO = 'jwt:\n  idp: { issuer: i }\n  idp2: { issuer: i2 }\n'
const TWO_GWP = 'jwt idp {\n  issuer "i"\n}\n\njwt idp2 {\n  issuer "i2"\n}\n\n'

test('auth: `true`, a map, `required`, one provider or a list, `aud`/`audience` as a string or a list', () => {
  const one = yamlRoute('    auth: true', IDP)
  same(one, gwpRoute('  auth idp\n', IDP_GWP))
  assert.deepEqual(stmtSpans(one), [['provider 6:5', '. 6:5']], 'the provider nobody named is spanned by `auth`')
  same(yamlRoute('    auth: {}', IDP), gwpRoute('  auth idp\n', IDP_GWP))
  same(yamlRoute('    auth: { required: true, aud: shop-api }', IDP), gwpRoute('  auth idp audience "shop-api"\n', IDP_GWP))
  same(yamlRoute('    auth: { aud: [] }', IDP), gwpRoute('  auth idp\n', IDP_GWP))
  const named = yamlRoute('    auth: { audience: [a, 5], provider: idp2 }', TWO)
  same(named, gwpRoute('  auth idp2 audience "a" "5"\n', TWO_GWP))
  assert.deepEqual(stmtSpans(named), [['provider 7:41', 'options.0.name 7:13', 'options.0.values.0 7:24', 'options.0.values.1 7:27', 'options.0 7:13', '. 7:5']])
  const or = yamlRoute('    auth: { provider: [idp2, partners, idp] }', TWO)
  same(or, gwpRoute('  auth idp2 or partners or idp\n', TWO_GWP))
  assert.deepEqual(stmtSpans(or), [['provider 7:24', 'or.0 7:30', 'or.1 7:40', '. 7:5']])
  same(yamlRoute('    auth: { provider: idp }', TWO), gwpRoute('  auth idp\n', TWO_GWP))
  // the one provider may be a `keys:` one
  same(yamlRoute('    auth: true', 'keys:\n  partners: { file: k.txt, header: X-Api-Key }\n'),
    gwpRoute('  auth partners\n', 'keys partners {\n  file "k.txt"\n  header X-Api-Key\n}\n\n'))
})

test('auth: `false` and `required: false` mean no auth stage, whatever else is given', () => {
  same(yamlRoute('    auth: false', IDP), gwpRoute('', IDP_GWP))
  same(yamlRoute('    auth: { required: false, provider: idp, aud: x }', IDP), gwpRoute('', IDP_GWP))
  same(yamlRoute('    auth: { provider: idp, required: false }', TWO), gwpRoute('', TWO_GWP))
})

test('auth: refusals', () => {
  refused(yamlRoute('    auth: yes', IDP), `error[E0301]: \`routes[0].auth\` takes \`true\` or \`false\`, got a string
 --> p.yaml:6:11
  |
6 |     auth: yes
  |           ^^^ expected \`true\` or \`false\`
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  refused(yamlRoute('    auth: [idp]', IDP), `error[E0301]: \`routes[0].auth\` takes a map, got a list
 --> p.yaml:6:11
  |
6 |     auth: [idp]
  |           ^^^^^ expected a map
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  refused(yamlRoute('    auth: { required: 1, provider: idp }', IDP), `error[E0301]: \`routes[0].auth.required\` takes \`true\` or \`false\`, got the number \`1\`
 --> p.yaml:6:23
  |
6 |     auth: { required: 1, provider: idp }
  |                       ^ expected \`true\` or \`false\`
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  refused(yamlRoute('    auth: { providr: idp2 }', IDP), `error[E0205]: unknown key \`providr\` in \`routes[0].auth\`
 --> p.yaml:6:13
  |
6 |     auth: { providr: idp2 }
  |             ^^^^^^^ not a key here
  = hint: did you mean \`provider\`?
1 error: nothing converted
`, gwpRoute('  auth idp\n', IDP_GWP))
  // no provider named, and not exactly one declared
  refused(yamlRoute('    auth: true'), `error[E0104]: \`routes[0].auth\` has no \`provider\`
 --> p.yaml:4:5
  |
4 |     auth: true
  |     ^^^^ which jwt provider verifies the token?
  = hint: declare one under \`jwt:\` and name it with \`provider: NAME\`
1 error: nothing converted
`, EMPTY)
  refused(yamlRoute('    auth: { aud: x }', TWO), `error[E0104]: \`routes[0].auth\` has no \`provider\`
 --> p.yaml:7:5
  |
7 |     auth: { aud: x }
  |     ^^^^ which jwt provider verifies the token?
  = hint: name one of \`idp\`, \`idp2\` with \`provider: NAME\`
1 error: nothing converted
`, gwpRoute('', TWO_GWP))
  // a provider that is not a name, an item that is not a string, a map: no auth statement at all
  refused(yamlRoute('    auth: { provider: "two words" }', IDP), `error[E0306]: \`two words\` is not a valid jwt provider name
 --> p.yaml:6:23
  |
6 |     auth: { provider: "two words" }
  |                       ^^^^^^^^^^^ not a name
  = hint: names use letters, digits, \`_\` and \`-\`, and start with a letter or \`_\`
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  refused(yamlRoute('    auth: { provider: [idp, [x]] }', IDP), `error[E0301]: \`routes[0].auth.provider[1]\` takes a jwt provider name, got a list
 --> p.yaml:6:29
  |
6 |     auth: { provider: [idp, [x]] }
  |                             ^^^ expected a jwt provider name
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  refused(yamlRoute('    auth: { provider: { idp: 1 } }', IDP), `error[E0301]: \`routes[0].auth.provider\` takes a provider name or a list of them, got a map
 --> p.yaml:6:23
  |
6 |     auth: { provider: { idp: 1 } }
  |                       ^^^^^^^^^^ expected a provider name or a list of them
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  // an empty list of providers is refused: read as no auth stage, the route would be open to everyone
  refused(yamlRoute('    auth: { provider: [] }', IDP), `error[E0104]: \`routes[0].auth.provider\` is empty
 --> p.yaml:6:13
  |
6 |     auth: { provider: [] }
  |             ^^^^^^^^ no provider
  = hint: name the jwt or keys provider that verifies the credential (\`auth: false\` for a route without auth)
1 error: nothing converted
`, gwpRoute('', IDP_GWP))
  // the audience: given twice, or not strings
  refused(yamlRoute('    auth: { aud: a, audience: b }', IDP), `error[E0102]: the audience is given twice
 --> p.yaml:6:21
  |
6 |     auth: { aud: a, audience: b }
  |                     ^^^^^^^^
 ::: p.yaml:6:13
  |
6 |     auth: { aud: a, audience: b }
  |             ^^^ first given here
  = hint: \`aud\` and \`audience\` are the same key: keep one
1 error: nothing converted
`, gwpRoute('  auth idp audience "a"\n', IDP_GWP))
  // whichever is written second is the one reported, and the first one is read
  refused(yamlRoute('    auth: { audience: b, aud: a }', IDP), `error[E0102]: the audience is given twice
 --> p.yaml:6:26
  |
6 |     auth: { audience: b, aud: a }
  |                          ^^^
 ::: p.yaml:6:13
  |
6 |     auth: { audience: b, aud: a }
  |             ^^^^^^^^ first given here
  = hint: \`aud\` and \`audience\` are the same key: keep one
1 error: nothing converted
`, gwpRoute('  auth idp audience "b"\n', IDP_GWP))
  refused(yamlRoute('    auth: { aud: [x, [y]] }', IDP), `error[E0301]: \`routes[0].auth.aud[1]\` takes a string, got a list
 --> p.yaml:6:22
  |
6 |     auth: { aud: [x, [y]] }
  |                      ^^^ expected a string
1 error: nothing converted
`, gwpRoute('  auth idp audience "x"\n', IDP_GWP))
  refused(yamlRoute('    auth: { audience: { x: 1 } }', IDP), `error[E0301]: \`routes[0].auth.audience\` takes a string or a list of strings, got a map
 --> p.yaml:6:23
  |
6 |     auth: { audience: { x: 1 } }
  |                       ^^^^^^^^ expected a string or a list of strings
1 error: nothing converted
`, gwpRoute('  auth idp\n', IDP_GWP))
})

// ----------------------------------------------------------------------------------------------------------- jwt

test('jwt: every key, in the order .gwp prints them whatever the YAML order; jwks options in the order written', () => {
  const yaml = `jwt:
  idp:
    forward: { sub: X-User-Id, "https://x/tid": "x tenant" }
    leeway: 30s
    cache: 100
    audience: [api, 5]
    algorithms: [RS256, ES256]
    fetch_timeout: 3s
    max_stale: 30m
    jwks: https://id/jwks
    refresh: 5m
    unknown_kid_cooldown: 10s
    refresh_ahead: 1m
    issuer: https://id/
  idp2: { jwks: j, algorithms: EdDSA, audience: one }
`
  same(yaml, `jwt idp {
  issuer "https://id/"
  jwks "https://id/jwks" timeout 3s max_stale 30m refresh 5m unknown_kid_cooldown 10s refresh_ahead 1m
  algorithms RS256 ES256
  audience "api" "5"
  leeway 30s
  cache 100
  forward claim sub as X-User-Id, claim "https://x/tid" as "x tenant"
}

jwt idp2 {
  jwks "j"
  algorithms EdDSA
  audience "one"
}
`)
  assert.deepEqual(declSpans(yaml), [
    ['name 2:3', 'body.0.value 14:13', 'body.0 14:5', 'body.1.url 10:11', 'body.1.options.0.name 8:5', 'body.1.options.0.values.0 8:20', 'body.1.options.0 8:5',
      'body.1.options.1.name 9:5', 'body.1.options.1.values.0 9:16', 'body.1.options.1 9:5', 'body.1.options.2.name 11:5', 'body.1.options.2.values.0 11:14',
      'body.1.options.2 11:5', 'body.1.options.3.name 12:5', 'body.1.options.3.values.0 12:27', 'body.1.options.3 12:5', 'body.1.options.4.name 13:5',
      'body.1.options.4.values.0 13:20', 'body.1.options.4 13:5', 'body.1 10:5', 'body.2.values.0 7:18', 'body.2.values.1 7:25', 'body.2 7:5', 'body.3.values.0 6:16',
      'body.3.values.1 6:21', 'body.3 6:5', 'body.4.value 4:13', 'body.4 4:5', 'body.5.value 5:12', 'body.5 5:5', 'body.6.pairs.0.claim 3:16', 'body.6.pairs.0.header 3:21',
      'body.6.pairs.0 3:16', 'body.6.pairs.1.claim 3:32', 'body.6.pairs.1.header 3:49', 'body.6.pairs.1 3:32', 'body.6 3:5', '. 2:3'],
    ['name 15:3', 'body.0.url 15:17', 'body.0 15:11', 'body.1.values.0 15:32', 'body.1 15:20', 'body.2.values.0 15:49', 'body.2 15:39', '. 15:3'],
  ])
  // empty lists and maps add nothing
  same('jwt:\n  idp: { issuer: i, algorithms: [], audience: [], forward: {} }\n', 'jwt idp {\n  issuer "i"\n}\n')
  same('jwt: {}\n', '')
})

test('jwt: refusals; what reads is kept', () => {
  refused('jwt: [idp]\n', `error[E0301]: \`jwt\` takes a map, got a list
 --> p.yaml:1:6
  |
1 | jwt: [idp]
  |      ^^^^^ expected a map
1 error: nothing converted
`, '')
  refused(`jwt:
  "bad name": { issuer: i }
  idp: 5
  ok: { isuer: i, jwks: j }
`, `error[E0306]: \`bad name\` is not a valid jwt provider name
 --> p.yaml:2:3
  |
2 |   "bad name": { issuer: i }
  |   ^^^^^^^^^^ not a name
  = hint: names use letters, digits, \`_\` and \`-\`, and start with a letter or \`_\`

error[E0301]: \`jwt.idp\` takes a map, got the number \`5\`
 --> p.yaml:3:8
  |
3 |   idp: 5
  |        ^ expected a map

error[E0205]: unknown key \`isuer\` in \`jwt.ok\`
 --> p.yaml:4:9
  |
4 |   ok: { isuer: i, jwks: j }
  |         ^^^^^ not a key here
  = hint: did you mean \`issuer\`?
3 errors: nothing converted
`, 'jwt ok {\n  jwks "j"\n}\n')
  // a value of the wrong kind drops that statement (a bad jwks option drops the option)
  refused(`jwt:
  idp:
    issuer: [x]
    jwks: { u: 1 }
    refresh: soon
  idp2:
    jwks: j
    refresh: soon
    max_stale: 30m
    leeway: soon
    cache: [1]
`, `error[E0301]: \`jwt.idp.issuer\` takes a URL, got a list
 --> p.yaml:3:13
  |
3 |     issuer: [x]
  |             ^^^ expected a URL

error[E0301]: \`jwt.idp.jwks\` takes a URL, got a map
 --> p.yaml:4:11
  |
4 |     jwks: { u: 1 }
  |           ^^^^^^^^ expected a URL

error[E0301]: \`jwt.idp.refresh\` takes a number with its unit, got \`soon\`
 --> p.yaml:5:14
  |
5 |     refresh: soon
  |              ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0301]: \`jwt.idp2.refresh\` takes a number with its unit, got \`soon\`
 --> p.yaml:8:14
  |
8 |     refresh: soon
  |              ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0301]: \`jwt.idp2.leeway\` takes a number with its unit, got \`soon\`
  --> p.yaml:10:13
   |
10 |     leeway: soon
   |             ^^^^ not a quantity
   = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0301]: \`jwt.idp2.cache\` takes a number with its unit, got a list
  --> p.yaml:11:12
   |
11 |     cache: [1]
   |            ^^^ not a quantity
   = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces
6 errors: nothing converted
`, 'jwt idp {\n}\n\njwt idp2 {\n  jwks "j" max_stale 30m\n}\n')
  refused(`jwt:
  idp:
    algorithms: [RS256, "RS 256", route, [x]]
    audience: [a, [b]]
    forward: { sub: [x], tid: X-T, "a b": "c d" }
  idp2:
    algorithms: { a: 1 }
    audience: {}
    forward: [sub]
`, `error[E0206]: unknown JWT algorithm \`RS 256\`
 --> p.yaml:3:25
  |
3 |     algorithms: [RS256, "RS 256", route, [x]]
  |                         ^^^^^^^^
  = hint: choose from RS256, ES256, EdDSA, …

error[E0206]: unknown JWT algorithm \`route\`
 --> p.yaml:3:35
  |
3 |     algorithms: [RS256, "RS 256", route, [x]]
  |                                   ^^^^^
  = hint: choose from RS256, ES256, EdDSA, …

error[E0301]: \`jwt.idp.algorithms[3]\` takes an algorithm name, got a list
 --> p.yaml:3:42
  |
3 |     algorithms: [RS256, "RS 256", route, [x]]
  |                                          ^^^ expected an algorithm name

error[E0301]: \`jwt.idp.audience[1]\` takes a string, got a list
 --> p.yaml:4:19
  |
4 |     audience: [a, [b]]
  |                   ^^^ expected a string

error[E0301]: \`jwt.idp.forward.sub\` takes a name, got a list
 --> p.yaml:5:21
  |
5 |     forward: { sub: [x], tid: X-T, "a b": "c d" }
  |                     ^^^ expected a name

error[E0301]: \`jwt.idp2.algorithms\` takes a list of algorithm names, got a map
 --> p.yaml:7:17
  |
7 |     algorithms: { a: 1 }
  |                 ^^^^^^^^ expected a list of algorithm names

error[E0301]: \`jwt.idp2.audience\` takes a string or a list of strings, got a map
 --> p.yaml:8:15
  |
8 |     audience: {}
  |               ^^ expected a string or a list of strings

error[E0301]: \`jwt.idp2.forward\` takes a map, got a list
 --> p.yaml:9:14
  |
9 |     forward: [sub]
  |              ^^^^^ expected a map
8 errors: nothing converted
`, 'jwt idp {\n  algorithms RS256\n  audience "a"\n  forward claim tid as X-T, claim "a b" as "c d"\n}\n\njwt idp2 {\n}\n')
})

// ----------------------------------------------------------------------------------------------------- ratelimit

test('ratelimit: one map, options in the order written, `store` and `fail` as .gwp words', () => {
  const yaml = yamlRoute('    ratelimit: { window: 1s, limit: 100, key: ip, fail: closed, store: redis, burst: 20 }')
  same(yaml, gwpRoute('  ratelimit by ip 100 per 1s fail_closed redis burst 20\n'))
  // the statement is spanned by the `ratelimit` key; store/fail by their value, as the .gwp word is
  assert.deepEqual(stmtSpans(yaml), [
    ['key 4:47', 'limit 4:37', 'window 4:26', 'options.0.name 4:57', 'options.0 4:57', 'options.1.name 4:72', 'options.1 4:72', 'options.2.name 4:79', 'options.2.values.0 4:86', 'options.2 4:79', '. 4:5'],
  ])
  same(yamlRoute('    ratelimit: { key: user, limit: 10, window: 1s, store: local, fail: open }'), gwpRoute('  ratelimit by user 10 per 1s local fail_open\n'))
})

test('ratelimit: a list of maps, every key kind; a header or claim name is spanned where it is written', () => {
  const yaml = yamlRoute(`    ratelimit:
      - { key: user, limit: 10, window: 1s }
      - { key: consumer, limit: 5, window: 1m }
      - { key: "header: X-Api-Key ", limit: 50, window: 1m }
      - { key: " claim:tid", limit: 5, window: 1s }
      - { key: "header:x y", limit: 1, window: 1s }
      - { key: "header:X\\x2dKey", limit: 2, window: 1s }
      - { limit: 3, window: 1s, key: "header:\\x7d"}`)
  // (the route puts limits by header before those by user or claim, each group in the order written)
  same(yaml, gwpRoute(`  ratelimit by header X-Api-Key 50 per 1m
  ratelimit by header "x y" 1 per 1s
  ratelimit by header X-Key 2 per 1s
  ratelimit by header "}" 3 per 1s
  ratelimit by user 10 per 1s
  ratelimit by consumer 5 per 1m
  ratelimit by claim tid 5 per 1s
`))
  // a name YAML wrote with an escape is spanned by the whole key (its text is not in the file), and so is one
  // whose text only appears right after the key's value (the `}` closing the map)
  assert.deepEqual(stmtSpans(yaml), [
    ['key.name 7:25', 'key 7:16', 'limit 7:45', 'window 7:57', '. 7:9'],
    ['key.name 9:24', 'key 9:16', 'limit 9:37', 'window 9:48', '. 9:9'],
    ['key.name 10:16', 'key 10:16', 'limit 10:42', 'window 10:53', '. 10:9'],
    ['key.name 11:38', 'key 11:38', 'limit 11:18', 'window 11:29', '. 11:9'],
    ['key 5:16', 'limit 5:29', 'window 5:41', '. 5:9'],
    ['key 6:16', 'limit 6:33', 'window 6:44', '. 6:9'],
    ['key.name 8:24', 'key 8:16', 'limit 8:37', 'window 8:48', '. 8:9'],
  ])
  // a name's span covers the name alone (the caret under it when the checker refuses it), else the whole key
  const body = parseYaml(yaml, 'p.yaml', new Diagnostics()).decls.find((d): d is A.RouteDecl => d.kind === 'route')!.body
  assert.deepEqual(body.slice(1, 5).map(s => (s as unknown as { key: { name: A.NameV } }).key.name.span.len), [9, 3, 17, 13])
  same(yamlRoute('    ratelimit: []'), EMPTY)
})

test('ratelimit: refusals', () => {
  refused(yamlRoute('    ratelimit: 5'), `error[E0301]: \`routes[0].ratelimit\` takes a map, got the number \`5\`
 --> p.yaml:4:16
  |
4 |     ratelimit: 5
  |                ^ expected a map
1 error: nothing converted
`, EMPTY)
  const hint = '  = hint: write e.g. `ratelimit: { key: ip, limit: 100, window: 1s }`\n'
  refused(yamlRoute('    ratelimit: {}'), `error[E0104]: \`routes[0].ratelimit\` has no \`key\`
 --> p.yaml:4:5
  |
4 |     ratelimit: {}
  |     ^^^^^^^^^ \`key\` missing
${hint}
error[E0104]: \`routes[0].ratelimit\` has no \`limit\`
 --> p.yaml:4:5
  |
4 |     ratelimit: {}
  |     ^^^^^^^^^ \`limit\` missing
${hint}
error[E0104]: \`routes[0].ratelimit\` has no \`window\`
 --> p.yaml:4:5
  |
4 |     ratelimit: {}
  |     ^^^^^^^^^ \`window\` missing
${hint}3 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    ratelimit: [5, { key: ip }, { key: ip, limit: 1, window: 1s, brust: 2 }]'), `error[E0301]: \`routes[0].ratelimit[0]\` takes a map, got the number \`5\`
 --> p.yaml:4:17
  |
4 |     ratelimit: [5, { key: ip }, { key: ip, limit: 1, window: 1s, brust: 2 }]
  |                 ^ expected a map

error[E0104]: \`routes[0].ratelimit[1]\` has no \`limit\`
 --> p.yaml:4:20
  |
4 |     ratelimit: [5, { key: ip }, { key: ip, limit: 1, window: 1s, brust: 2 }]
  |                    ^^^^^^^^^^^ \`limit\` missing
${hint}
error[E0104]: \`routes[0].ratelimit[1]\` has no \`window\`
 --> p.yaml:4:20
  |
4 |     ratelimit: [5, { key: ip }, { key: ip, limit: 1, window: 1s, brust: 2 }]
  |                    ^^^^^^^^^^^ \`window\` missing
${hint}
error[E0205]: unknown key \`brust\` in \`routes[0].ratelimit[2]\`
 --> p.yaml:4:66
  |
4 |     ratelimit: [5, { key: ip }, { key: ip, limit: 1, window: 1s, brust: 2 }]
  |                                                                  ^^^^^ not a key here
  = hint: did you mean \`burst\`?
4 errors: nothing converted
`, gwpRoute('  ratelimit by ip 1 per 1s\n'))
  refused(yamlRoute(`    ratelimit:
      - { key: usr, limit: 1, window: 1s }
      - { key: "heder:X-A", limit: 1, window: 1s }
      - { key: bogus, limit: 1, window: 1s }
      - { key: ":ip", limit: 1, window: 1s }
      - { key: "ip:x", limit: 1, window: 1s }
      - { key: header, limit: 1, window: 1s }
      - { key: "claim: ", limit: 1, window: 1s }
      - { key: [ip], limit: 1, window: 1s }
      - { key: " user ", limit: 9, window: 1s }`), `error[E0206]: unknown rate-limit key \`usr\`
 --> p.yaml:5:16
  |
5 |       - { key: usr, limit: 1, window: 1s }
  |                ^^^ not a key
  = hint: did you mean \`user\`?

error[E0206]: unknown rate-limit key \`heder:X-A\`
 --> p.yaml:6:16
  |
6 |       - { key: "heder:X-A", limit: 1, window: 1s }
  |                ^^^^^^^^^^^ not a key
  = hint: did you mean \`header:X-A\`?

error[E0206]: unknown rate-limit key \`bogus\`
 --> p.yaml:7:16
  |
7 |       - { key: bogus, limit: 1, window: 1s }
  |                ^^^^^ not a key
  = hint: limit by \`user\`, \`ip\`, \`header:NAME\` or \`claim:NAME\`

error[E0206]: unknown rate-limit key \`:ip\`
 --> p.yaml:8:16
  |
8 |       - { key: ":ip", limit: 1, window: 1s }
  |                ^^^^^ not a key
  = hint: limit by \`user\`, \`ip\`, \`header:NAME\` or \`claim:NAME\`

error[E0306]: \`ip\` takes no name
 --> p.yaml:9:16
  |
9 |       - { key: "ip:x", limit: 1, window: 1s }
  |                ^^^^^^
  = hint: write \`ip\`

error[E0104]: \`header\` needs a name
  --> p.yaml:10:16
   |
10 |       - { key: header, limit: 1, window: 1s }
   |                ^^^^^^ which one?
   = hint: write \`header:NAME\`

error[E0104]: \`claim\` needs a name
  --> p.yaml:11:16
   |
11 |       - { key: "claim: ", limit: 1, window: 1s }
   |                ^^^^^^^^^ which one?
   = hint: write \`claim:NAME\`

error[E0301]: \`routes[0].ratelimit[7].key\` takes \`user\`, \`ip\`, \`header:NAME\` or \`claim:NAME\`, got a list
  --> p.yaml:12:16
   |
12 |       - { key: [ip], limit: 1, window: 1s }
   |                ^^^^ expected \`user\`, \`ip\`, \`header:NAME\` or \`claim:NAME\`
8 errors: nothing converted
`, gwpRoute('  ratelimit by user 9 per 1s\n'))
  // a bad option drops the option, not the limit
  refused(yamlRoute('    ratelimit: { key: ip, limit: 3, window: 1s, burst: many }'), `error[E0301]: \`routes[0].ratelimit.burst\` takes a number with its unit, got \`many\`
 --> p.yaml:4:56
  |
4 |     ratelimit: { key: ip, limit: 3, window: 1s, burst: many }
  |                                                        ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces
1 error: nothing converted
`, gwpRoute('  ratelimit by ip 3 per 1s\n'))
  refused(yamlRoute(`    ratelimit:
      - { key: ip, limit: lots, window: [1s], burst: many }
      - { key: ip, limit: 1, window: 1s, store: disk, fail: maybe }
      - { key: ip, limit: 2, window: 1s, store: [x], fail: {} }`), `error[E0301]: \`routes[0].ratelimit[0].limit\` takes a number with its unit, got \`lots\`
 --> p.yaml:5:27
  |
5 |       - { key: ip, limit: lots, window: [1s], burst: many }
  |                           ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0301]: \`routes[0].ratelimit[0].window\` takes a number with its unit, got a list
 --> p.yaml:5:41
  |
5 |       - { key: ip, limit: lots, window: [1s], burst: many }
  |                                         ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0301]: \`routes[0].ratelimit[0].burst\` takes a number with its unit, got \`many\`
 --> p.yaml:5:54
  |
5 |       - { key: ip, limit: lots, window: [1s], burst: many }
  |                                                      ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0206]: \`routes[0].ratelimit[1].store\` is \`local\` or \`redis\`, not \`disk\`
 --> p.yaml:6:49
  |
6 |       - { key: ip, limit: 1, window: 1s, store: disk, fail: maybe }
  |                                                 ^^^^ unknown value

error[E0206]: \`routes[0].ratelimit[1].fail\` is \`open\` or \`closed\`, not \`maybe\`
 --> p.yaml:6:61
  |
6 |       - { key: ip, limit: 1, window: 1s, store: disk, fail: maybe }
  |                                                             ^^^^^ unknown value

error[E0301]: \`routes[0].ratelimit[2].store\` takes \`local\` or \`redis\`, got a list
 --> p.yaml:7:49
  |
7 |       - { key: ip, limit: 2, window: 1s, store: [x], fail: {} }
  |                                                 ^^^ expected \`local\` or \`redis\`

error[E0301]: \`routes[0].ratelimit[2].fail\` takes \`open\` or \`closed\`, got a map
 --> p.yaml:7:60
  |
7 |       - { key: ip, limit: 2, window: 1s, store: [x], fail: {} }
  |                                                            ^^ expected \`open\` or \`closed\`
7 errors: nothing converted
`, gwpRoute('  ratelimit by ip 1 per 1s\n  ratelimit by ip 2 per 1s\n'))
})

// ---------------------------------------------------------------------------------------------------------- cors

test('cors: every clause, in the order written; a single string stands for a list of one; `credentials: false` is no clause', () => {
  const yaml = yamlRoute('    cors: { max_age: 10m, credentials: true, expose: [x-request-id, "x y"], headers: [x-trace, "content type"], methods: [GET, POST], origins: ["https://app.example.com", "*"] }')
  same(yaml, gwpRoute('  cors max_age 10m credentials expose x-request-id, "x y" headers x-trace, "content type" methods GET, POST origins "https://app.example.com", "*"\n'))
  assert.deepEqual(stmtSpans(yaml), [
    ['clauses.0 4:13', 'clauses.0.value 4:22', 'clauses.1 4:27', 'clauses.2 4:46', 'clauses.2.headers.0 4:55', 'clauses.2.headers.1 4:69', 'clauses.3 4:77', 'clauses.3.headers.0 4:87',
      'clauses.3.headers.1 4:96', 'clauses.4 4:113', 'clauses.4.methods.0 4:123', 'clauses.4.methods.1 4:128', 'clauses.5 4:135', 'clauses.5.origins.0 4:145', 'clauses.5.origins.1 4:172', '. 4:5'],
  ])
  same(yamlRoute('    cors: { origins: "*", methods: GET, headers: x-a, expose: x-b, credentials: false }'), gwpRoute('  cors origins "*" methods GET headers x-a expose x-b\n'))
  // an empty list is no clause (the checker then asks for `origins`, as for .gwp)
  same(yamlRoute('    cors: { methods: [GET], origins: [], headers: [], expose: [] }'), gwpRoute('  cors methods GET\n'))
  // methods that are .gwp keywords are still words
  same(yamlRoute('    cors: { origins: x, methods: [route, GET] }'), gwpRoute('  cors origins "x" methods route, GET\n'))
})

test('cors: refusals; a cors with no clause at all is refused, not converted to a `cors` .gwp cannot read', () => {
  refused(yamlRoute('    cors: [x]'), `error[E0301]: \`routes[0].cors\` takes a map, got a list
 --> p.yaml:4:11
  |
4 |     cors: [x]
  |           ^^^ expected a map
1 error: nothing converted
`, EMPTY)
  const none = (value: string): string => `error[E0104]: \`routes[0].cors\` has no \`origins\`
 --> p.yaml:4:5
  |
4 |     cors: ${value}
  |     ^^^^ which origins may call?
  = hint: write e.g. \`cors: { origins: ["https://app.example.com"] }\`
1 error: nothing converted
`
  for (const value of ['{}', '{ credentials: false }', '{ origins: [], methods: [] }']) refused(yamlRoute(`    cors: ${value}`), none(value), EMPTY)
  // each bad item is reported once; a method that is not a .gwp word (it would print as other words) is refused
  refused(yamlRoute('    cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }'), `error[E0205]: unknown key \`origin\` in \`routes[0].cors\`
 --> p.yaml:4:13
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |             ^^^^^^ not a key here
  = hint: did you mean \`origins\`?

error[E0301]: \`routes[0].cors.credentials\` takes \`true\` or \`false\`, got a string
 --> p.yaml:4:37
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                     ^^^ expected \`true\` or \`false\`

error[E0301]: \`routes[0].cors.max_age\` takes a number with its unit, got \`soon\`
 --> p.yaml:4:51
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                   ^^^^ not a quantity
  = hint: write it like \`800ms\`, \`10MB\` or \`3\`, without spaces

error[E0475]: \`P T\` is not an HTTP method
 --> p.yaml:4:72
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                                        ^^^^^ a method is a token
  = hint: write e.g. \`GET, POST, PUT\`

error[E0301]: \`routes[0].cors.methods[2]\` takes a string, got a map
 --> p.yaml:4:79
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                                               ^^ expected a string

error[E0301]: \`routes[0].cors.headers[1]\` takes a string, got a list
 --> p.yaml:4:97
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                                                                 ^^^ expected a string

error[E0301]: \`routes[0].cors.expose[1]\` takes a string, got a map
 --> p.yaml:4:115
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                                                                                   ^^^^^^ expected a string

error[E0301]: \`routes[0].cors.origins[0]\` takes a string, got a list
 --> p.yaml:4:134
  |
4 |     cors: { origin: x, credentials: yes, max_age: soon, methods: [GET, "P T", {}], headers: [a, [b]], expose: [c, {c: 1}], origins: [[d], e] }
  |                                                                                                                                      ^^^ expected a string
8 errors: nothing converted
`, gwpRoute('  cors methods GET headers a expose c origins "e"\n'))
  refused(yamlRoute('    cors: { origins: x, methods: ["P T"] }'), `error[E0475]: \`P T\` is not an HTTP method
 --> p.yaml:4:35
  |
4 |     cors: { origins: x, methods: ["P T"] }
  |                                   ^^^^^ a method is a token
  = hint: write e.g. \`GET, POST, PUT\`
1 error: nothing converted
`, gwpRoute('  cors origins "x"\n'))
  refused(yamlRoute('    cors: { origins: x, methods: { GET: 1 } }'), `error[E0301]: \`routes[0].cors.methods\` takes a list of strings, got a map
 --> p.yaml:4:34
  |
4 |     cors: { origins: x, methods: { GET: 1 } }
  |                                  ^^^^^^^^^^ expected a list of strings
1 error: nothing converted
`, gwpRoute('  cors origins "x"\n'))
})

// ------------------------------------------------------------------------------------------------------------ ip

test('ip: allow and deny, a single address standing alone; the deny list first, whatever the YAML order', () => {
  const yaml = yamlRoute('    ip: { allow: ["10.0.0.0/8", "2001:db8::/32"], deny: 10.66.0.0/16 }')
  same(yaml, gwpRoute('  ip deny "10.66.0.0/16"\n  ip allow "10.0.0.0/8", "2001:db8::/32"\n'))
  // each list is spanned by its own key
  assert.deepEqual(stmtSpans(yaml), [['entries.0 4:57', '. 4:51'], ['entries.0 4:19', 'entries.1 4:33', '. 4:11']])
  same(yamlRoute('    ip: { allow: 10.1.0.0/16 }'), gwpRoute('  ip allow "10.1.0.0/16"\n'))
  same(yamlRoute('    ip: { deny: ["::1", 203.0.113.7] }'), gwpRoute('  ip deny "::1", "203.0.113.7"\n'))
})

test('ip: refusals; a list with a bad entry is dropped whole', () => {
  refused(yamlRoute('    ip: {}'), `error[E0104]: \`routes[0].ip\` has neither \`allow\` nor \`deny\`
 --> p.yaml:4:5
  |
4 |     ip: {}
  |     ^^ no IP list
  = hint: write e.g. \`ip: { allow: ["10.0.0.0/8"] }\`
1 error: nothing converted
`, EMPTY)
  refused(yamlRoute('    ip: { alow: [x] }'), `error[E0104]: \`routes[0].ip\` has neither \`allow\` nor \`deny\`
 --> p.yaml:4:5
  |
4 |     ip: { alow: [x] }
  |     ^^ no IP list
  = hint: write e.g. \`ip: { allow: ["10.0.0.0/8"] }\`

error[E0205]: unknown key \`alow\` in \`routes[0].ip\`
 --> p.yaml:4:11
  |
4 |     ip: { alow: [x] }
  |           ^^^^ not a key here
  = hint: did you mean \`allow\`?
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    ip: [x]'), `error[E0301]: \`routes[0].ip\` takes a map, got a list
 --> p.yaml:4:9
  |
4 |     ip: [x]
  |         ^^^ expected a map
1 error: nothing converted
`, EMPTY)
  refused(yamlRoute('    ip: { allow: [], deny: [] }'), `error[E0104]: \`routes[0].ip.allow\` is empty
 --> p.yaml:4:11
  |
4 |     ip: { allow: [], deny: [] }
  |           ^^^^^ no address
  = hint: an empty allow list would refuse every client: list the ranges to admit

error[E0104]: \`routes[0].ip.deny\` is empty
 --> p.yaml:4:22
  |
4 |     ip: { allow: [], deny: [] }
  |                      ^^^^ no address
  = hint: list the ranges to refuse, or remove the key
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    ip: { allow: { a: 1 }, deny: ["10.0.0.0/8", [x]] }'), `error[E0301]: \`routes[0].ip.allow\` takes an address or CIDR range, or a list of them, got a map
 --> p.yaml:4:18
  |
4 |     ip: { allow: { a: 1 }, deny: ["10.0.0.0/8", [x]] }
  |                  ^^^^^^^^ expected an address or CIDR range, or a list of them

error[E0301]: \`routes[0].ip.deny[1]\` takes an address or CIDR range, got a list
 --> p.yaml:4:49
  |
4 |     ip: { allow: { a: 1 }, deny: ["10.0.0.0/8", [x]] }
  |                                                 ^^^ expected an address or CIDR range
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    ip: { deny: ["10.0.0.0/8", [x]], allow: 10.1.0.0/16 }'), `error[E0301]: \`routes[0].ip.deny[1]\` takes an address or CIDR range, got a list
 --> p.yaml:4:32
  |
4 |     ip: { deny: ["10.0.0.0/8", [x]], allow: 10.1.0.0/16 }
  |                                ^^^ expected an address or CIDR range
1 error: nothing converted
`, gwpRoute('  ip allow "10.1.0.0/16"\n'))
})

// ------------------------------------------------------------------------------------------------------- rewrite

test('rewrite: strip, prefix, regex, each with a host; the path rewrite before the host, whatever the YAML order', () => {
  const strip = yamlRoute('    rewrite: { host: replica, strip: /api }')
  same(strip, gwpRoute('  rewrite strip "/api"\n  rewrite host replica\n'))
  assert.deepEqual(stmtSpans(strip), [['. 4:5', 'from 4:38'], ['. 4:5', 'host 4:22']])
  same(yamlRoute('    rewrite: { prefix: { to: /v1, from: /api/v1 }, host: client }'), gwpRoute('  rewrite prefix "/api/v1" "/v1"\n  rewrite host client\n'))
  const regex = yamlRoute('    rewrite: { regex: { pattern: "^/u/([0-9]+)$", replacement: /users/$1 }, host: "users.internal:8080" }')
  same(regex, gwpRoute('  rewrite regex "^/u/([0-9]+)$" "/users/$1"\n  rewrite host "users.internal:8080"\n'))
  assert.deepEqual(stmtSpans(regex), [['. 4:5', 'pattern 4:34', 'replacement 4:64'], ['. 4:5', 'host 4:83']])
  same(yamlRoute('    rewrite: { host: users }'), gwpRoute('  rewrite host "users"\n'))
  same(yamlRoute('    rewrite: { prefix: { from: /a, to: /b } }'), gwpRoute('  rewrite prefix "/a" "/b"\n'))
  same(yamlRoute('    rewrite: {}'), EMPTY)
})

test('rewrite: refusals; a second path rewrite is reported where it is written, the first one is read', () => {
  refused(yamlRoute('    rewrite: [x]'), `error[E0301]: \`routes[0].rewrite\` takes a map, got a list
 --> p.yaml:4:14
  |
4 |     rewrite: [x]
  |              ^^^ expected a map
1 error: nothing converted
`, EMPTY)
  const twice = (line: string, second: number, first: number, len: number, firstLen: number): string => `error[E0102]: \`routes[0].rewrite\` rewrites the path twice
 --> p.yaml:4:${second}
  |
4 | ${line}
  | ${' '.repeat(second - 1)}${'^'.repeat(len)}
 ::: p.yaml:4:${first}
  |
4 | ${line}
  | ${' '.repeat(first - 1)}${'^'.repeat(firstLen)} first here
  = hint: keep one of \`strip\`, \`prefix\` and \`regex\`
`
  const ps = '    rewrite: { prefix: { from: /a, to: /b }, strip: /c }'
  refused(yamlRoute(ps), `${twice(ps, 46, 16, 5, 6)}1 error: nothing converted\n`, gwpRoute('  rewrite prefix "/a" "/b"\n'))
  const sp = '    rewrite: { strip: /c, prefix: { from: /a, to: /b } }'
  refused(yamlRoute(sp), `${twice(sp, 27, 16, 6, 5)}1 error: nothing converted\n`, gwpRoute('  rewrite strip "/c"\n'))
  const sr = '    rewrite: { strip: /c, regex: { pattern: a, replacement: /b } }'
  refused(yamlRoute(sr), `${twice(sr, 27, 16, 5, 5)}1 error: nothing converted\n`, gwpRoute('  rewrite strip "/c"\n'))
  const rp = '    rewrite: { regex: { pattern: a, replacement: /b }, prefix: { from: /a, to: /b }, strp: /x, host: h }'
  refused(yamlRoute(rp), `${twice(rp, 56, 16, 6, 5)}
error[E0205]: unknown key \`strp\` in \`routes[0].rewrite\`
 --> p.yaml:4:86
  |
4 | ${rp}
  |                                                                                      ^^^^ not a key here
  = hint: did you mean \`strip\`?
2 errors: nothing converted
`, gwpRoute('  rewrite regex "a" "/b"\n  rewrite host "h"\n'))
  refused(yamlRoute('    rewrite: { prefix: { from: /a }, host: [h] }'), `error[E0104]: \`routes[0].rewrite.prefix\` needs \`from\` and \`to\`
 --> p.yaml:4:16
  |
4 |     rewrite: { prefix: { from: /a }, host: [h] }
  |                ^^^^^^
  = hint: write \`prefix: { from: …, to: … }\`

error[E0301]: \`routes[0].rewrite.host\` takes \`client\`, \`replica\` or a host, got a list
 --> p.yaml:4:44
  |
4 |     rewrite: { prefix: { from: /a }, host: [h] }
  |                                            ^^^ expected \`client\`, \`replica\` or a host
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    rewrite: { regex: { replacement: /b }, strip: [x] }'), `error[E0104]: \`routes[0].rewrite.regex\` needs \`pattern\` and \`replacement\`
 --> p.yaml:4:16
  |
4 |     rewrite: { regex: { replacement: /b }, strip: [x] }
  |                ^^^^^
  = hint: write \`regex: { pattern: …, replacement: … }\`

error[E0102]: \`routes[0].rewrite\` rewrites the path twice
 --> p.yaml:4:44
  |
4 |     rewrite: { regex: { replacement: /b }, strip: [x] }
  |                                            ^^^^^
 ::: p.yaml:4:16
  |
4 |     rewrite: { regex: { replacement: /b }, strip: [x] }
  |                ^^^^^ first here
  = hint: keep one of \`strip\`, \`prefix\` and \`regex\`
2 errors: nothing converted
`, EMPTY)
  refused(yamlRoute('    rewrite: { strip: [x], host: replica }'), `error[E0301]: \`routes[0].rewrite.strip\` takes a path prefix, got a list
 --> p.yaml:4:23
  |
4 |     rewrite: { strip: [x], host: replica }
  |                       ^^^ expected a path prefix
1 error: nothing converted
`, gwpRoute('  rewrite host replica\n'))
  refused(yamlRoute('    rewrite: { prefix: /a }'), `error[E0301]: \`routes[0].rewrite.prefix\` takes a map, got a string
 --> p.yaml:4:24
  |
4 |     rewrite: { prefix: /a }
  |                        ^^ expected a map
1 error: nothing converted
`, EMPTY)
  refused(yamlRoute('    rewrite: { prefix: { from: [x], too: /b } }'), `error[E0104]: \`routes[0].rewrite.prefix\` needs \`from\` and \`to\`
 --> p.yaml:4:16
  |
4 |     rewrite: { prefix: { from: [x], too: /b } }
  |                ^^^^^^
  = hint: write \`prefix: { from: …, to: … }\`

error[E0205]: unknown key \`too\` in \`routes[0].rewrite.prefix\`
 --> p.yaml:4:37
  |
4 |     rewrite: { prefix: { from: [x], too: /b } }
  |                                     ^^^ not a key here
  = hint: did you mean \`to\`?
2 errors: nothing converted
`, EMPTY)
  for (const [pair, col] of [['{ pattern: a, replacement: {} }', 50], ['{ pattern: [a], replacement: /b }', 34]] as const) {
    const bad = col === 50 ? 'replacement' : 'pattern', got = col === 50 ? 'a map' : 'a list'
    const line = `    rewrite: { regex: ${pair} }`
    refused(yamlRoute(line), `error[E0301]: \`routes[0].rewrite.regex.${bad}\` takes a string, got ${got}
 --> p.yaml:4:${col}
  |
4 | ${line}
  | ${' '.repeat(col - 1)}${'^'.repeat(col === 50 ? 2 : 3)} expected a string
1 error: nothing converted
`, EMPTY)
  }
})
