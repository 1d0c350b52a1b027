// test/policies/compile-hooks.test.ts: every policy kind's compile half (policies/<kind>/compile.ts) through the
// tools a user runs, in-process and compared exactly: each syntactic form compiled, then its `gwc routes` pipeline
// (describe), whether a `respond` route can wait (canWait, the WORST column), its `gwc explain` steps, `gwc diff`
// between versions differing in each field the diff hook names (and "no change" for an unrelated change: the
// diff key), `gwc fmt` of a non-canonical spelling (print), the diagnostics the descriptor words itself (twin,
// lint, needs, cost and cheap reject, lexical hints), and the YAML mapping (key, reader, rank) against the .gwp
// form: same AST, same IR. The mutation run (lab/mutation, area policies) runs it last for the compile.ts files.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { buildBundle } from '../../compiler/bundle.js'
import { compile } from '../../compiler/compile.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { REGISTRY } from '../../compiler/policies.js'
import { memoryHost } from '../../compiler/sources.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest, parseExplainRequest, renderExplainText } from '../../compiler/tools/explain.js'
import { astShape, formatSource } from '../../compiler/tools/fmt.js'
import { routeRows } from '../../compiler/tools/routes.js'
import type { BundleIR } from '../../config/ir.js'
import type { Diagnostic } from '../../grammar/index.js'

const BASE = `jwt idp {
  issuer "https://id.example.com/"
  jwks "https://id.example.com/jwks.json" refresh 5m
  algorithms RS256 ES256
  forward claim sub as X-User, claim tid as X-Tenant
}
jwt other {
  issuer "https://other.example.com/"
  jwks "https://other.example.com/jwks.json" refresh 5m
}
keys partners { redis "gwp:keys:p"; forward consumer as X-Consumer }
keys links { file "/k.txt"; query api_key }
upstream a { replicas 10.0.0.1:80 }
`
/** Line 14 of the file: `route r { match host "api.example.com" path prefix "/v1"[ method GET]; timeout T; STMTS; TERMINAL }`. */
const source = (stmts: string, o: { timeout?: string; term?: string; method?: boolean } = {}): string =>
  BASE + `route r { match host "api.example.com" path prefix "/v1"${o.method ? ' method GET' : ''}; timeout ${o.timeout ?? '1s'}; ${stmts}; ${o.term ?? 'proxy a'} }\n`

const show = (d: Diagnostic): string => `${d.code} ${d.line}:${d.col}+${d.len} ${d.message}${d.label ? ` [${d.label}]` : ''}${d.hint ? ` (${d.hint})` : ''}`
/** The unused providers (W0709) and the query-parameter key (W0750) of BASE are left out. */
const OWN = (d: Diagnostic): boolean => d.code !== 'W0709' && d.code !== 'W0750'

function bundle(stmts: string, o: { timeout?: string; term?: string; method?: boolean } = {}): BundleIR {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': source(stmts, o) }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(show), [], stmts)
  return r.ir!
}
/** Every diagnostic of the route's statements (the method GET listed, so `cors` adds OPTIONS). */
const diags = (stmts: string): string[] => compile(['p.gwp'], { host: memoryHost({ 'p.gwp': source(stmts, { method: true }) }) }).diagnostics.filter(OWN).map(show)

/** `gwc routes`: the PIPELINE column. */
const pipeline = (stmts: string): string => routeRows(bundle(stmts))[0][2]
/** `gwc routes` of the route answering `respond 200` instead: its WORST column is `-` unless a stage can wait. */
const worst = (stmts: string): string => routeRows(bundle(stmts, { term: 'respond 200' }))[0][4]

const PROXY_TAIL = "a [10.0.0.1:80; round_robin]; before sending: no replica in rotation (health), bulkhead full or breaker open → 503; after a failed attempt: 502 (connect error, reset), 504 (timeout) or the upstream's 5xx"
/** `gwc explain` of one request: the pipeline's lines after the identity-header and limits steps (1 and 2). */
function explain(stmts: string, request = 'GET https://api.example.com/v1/x', headers: string[] = []): string[] {
  const req = parseExplainRequest(request, headers)
  assert.ok(typeof req !== 'string', req as string)
  const lines = renderExplainText(explainRequest(bundle(stmts), req)).split('\n')
  const at = lines.indexOf('pipeline of r:')
  assert.ok(at > 0, lines.join('\n'))
  assert.match(lines[at + 1], /^ {2}1\. remove client-sent identity headers x-consumer, x-tenant, x-user$/)
  assert.match(lines[at + 2], /^ {2}2\. timeout /)
  return lines.slice(at + 3, -1)
}

/** `gwc diff` between the route with `a` and with `b`. */
const diff = (a: string, b: string, o: { timeout?: string } = {}): string => renderDiffText(diffIr(bundle(a), bundle(b, o)))
const changed = (...rows: string[]): string => ['routes: 1 changed', '~ route r', ...rows.map(r => '    ' + r)].join('\n') + '\n'
/** The route's timeout alone changed: whatever its stages, none of them shows in the diff. */
const timeoutOnly = (stmts: string): void => assert.equal(diff(stmts, stmts, { timeout: '2s' }), changed('timeout         1s → 2s', 'envelope.worst  1s → 2s'), stmts)

/** `gwc fmt` of one statement in a route: the statement's canonical line (the rest of the file checked too). */
function fmt(stmt: string): string {
  const r = formatSource(`route r { match path "/"; ${stmt}; proxy a }`, 'p.gwp')
  assert.deepEqual(r.diagnostics.map(show), [])
  const lines = r.formatted!.split('\n')
  assert.deepEqual([lines.length, lines[0], lines[1], lines[3], lines[4], lines[5]], [6, 'route r {', '  match path "/"', '  proxy a', '}', ''])
  return lines[2].replace(/^ {2}/, '')
}

test('headers: routes words, never waits, explain, diff by target, fmt', () => {
  assert.equal(pipeline('headers response set X-A "1", remove X-B X-C; headers set "x-q" "v"; headers request remove x-r'),
    'headers response set x-a, remove x-b, remove x-c → headers request set x-q → headers request remove x-r → proxy a')
  assert.equal(worst('headers response set X-A "1", remove X-B'), '-')
  assert.equal(worst('headers set X-A "1"'), '-')

  assert.deepEqual(explain('headers response set X-A "1", remove X-B X-C; headers remove x-r; headers request set x-q "v w"'), [
    '  3. headers response: set x-a: 1, remove x-b, remove x-c',
    '  4. headers request: remove x-r',
    '  5. headers request: set x-q: v w',
    `  6. proxy ${PROXY_TAIL}`,
  ])

  // a changed value, an added and a dropped edit: one change of the stage's edits, with their values
  assert.equal(diff('headers response set X-A "1", remove X-B X-C', 'headers response set X-A "2", remove X-B'),
    changed('stage 1  headers response set x-a "2", remove x-b: ops set x-a "1", remove x-b, remove x-c → set x-a "2", remove x-b'))
  assert.equal(diff('headers set x-a "1"', 'headers remove x-a'), changed('stage 1  headers request remove x-a: ops set x-a "1" → remove x-a'))
  // the target is the stage's identity: the same edits in the other direction are another stage
  assert.equal(diff('headers response set x-a "1"', 'headers set x-a "1"'),
    changed('stage 1 (old)  removed: headers response set x-a "1"', 'stage 1        added: headers request set x-a "1"'))
  assert.equal(diff('headers set x-a "1"', 'headers request set x-a "1"'), 'no behaviour changes\n')
  assert.equal(diff('headers request set x-a "1"; headers response remove x-b', 'headers response remove x-b; headers request set x-a "1"'),
    changed('stage 2 → 1  moved: headers response remove x-b'))
  timeoutOnly('headers response set X-A "1", remove X-B; headers set x-q "v"')

  assert.equal(fmt('headers   request set X-A "1" ,remove  X-B   X-C'), 'headers request set X-A "1", remove X-B X-C')
  assert.equal(fmt('headers set "x-q"  "v\\u{1}"'), 'headers set "x-q" "v\\u{01}"')
  assert.equal(fmt('headers response remove "x-a", set x-b  ""'), 'headers response remove "x-a", set x-b ""')
})

test('auth: routes words, always waits, explain per provider kind and per credential, diff by first provider, fmt', () => {
  assert.equal(pipeline('auth idp audience "api" "web"'), 'auth idp → proxy a')
  assert.equal(pipeline('auth idp or partners or links'), 'auth idp or partners or links → proxy a')
  assert.equal(pipeline('auth links'), 'auth links → proxy a')
  assert.equal(worst('auth idp'), '1s')
  assert.equal(worst('auth partners'), '1s')

  const JWT = 'bearer JWT from https://id.example.com/ (RS256, ES256)'
  const FWD = 'forwards claim sub as x-user, claim tid as x-tenant'
  const PARTNERS = 'API key in header x-api-key (SHA-256 hashes in Redis hash gwp:keys:p); forwards the consumer as x-consumer'
  const LINKS = 'API key in query parameter api_key (SHA-256 hashes in /k.txt)'
  const proxy = `  4. proxy ${PROXY_TAIL}`
  assert.deepEqual(explain('auth idp'), [
    `  3. auth idp: ${JWT}, audience not checked; ${FWD}; no valid token → 401`,
    '     ↳ this request has no `Authorization: Bearer` header: the gateway would answer 401 here', proxy,
  ])
  assert.deepEqual(explain('auth idp audience "api" "web"', 'GET https://api.example.com/v1/x', ['Authorization: Bearer t']), [
    `  3. auth idp: ${JWT}, audience api, web; ${FWD}; no valid token → 401, wrong audience → 403`,
    '     ↳ the token is verified at run time (not checked here)', proxy,
  ])
  // a bearer token is `Bearer`, in any case, then blanks, then something
  assert.deepEqual(explain('auth idp', 'GET https://api.example.com/v1/x', ['Authorization: bEARER  t']).slice(1, 2), ['     ↳ the token is verified at run time (not checked here)'])
  for (const authorization of ['Token bearer t', 'Bearer ', 'Bearert', 'Basic dTpw']) {
    assert.deepEqual(explain('auth idp', 'GET https://api.example.com/v1/x', [`Authorization: ${authorization}`]).slice(1, 2),
      ['     ↳ this request has no `Authorization: Bearer` header: the gateway would answer 401 here'], authorization)
  }
  assert.deepEqual(explain('auth other', 'GET https://api.example.com/v1/x', ['Authorization: Basic dTpw']), [
    '  3. auth other: bearer JWT from https://other.example.com/ (RS256, ES256, EdDSA), audience not checked; no valid token → 401',
    '     ↳ this request has no `Authorization: Bearer` header: the gateway would answer 401 here', proxy,
  ])
  assert.deepEqual(explain('auth partners'), [
    `  3. auth partners: ${PARTNERS}; no valid key → 401`,
    '     ↳ this request has no `x-api-key` header: the gateway would answer 401 here', proxy,
  ])
  assert.deepEqual(explain('auth partners', 'GET https://api.example.com/v1/x?api_key=k', ['X-Api-Key: k']), [
    `  3. auth partners: ${PARTNERS}; no valid key → 401`, '     ↳ the key is checked at run time (not checked here)', proxy,
  ])
  assert.deepEqual(explain('auth links', 'GET https://api.example.com/v1/x', ['X-Api-Key: k', 'Authorization: Bearer t']), [
    `  3. auth links: ${LINKS}; no valid key → 401`,
    '     ↳ this request has no `api_key` query parameter: the gateway would answer 401 here', proxy,
  ])
  assert.deepEqual(explain('auth links', 'GET https://api.example.com/v1/x?a=1&api_key=k'), [
    `  3. auth links: ${LINKS}; no valid key → 401`, '     ↳ the key is checked at run time (not checked here)', proxy,
  ])
  const or = `  3. auth idp or partners or links: the first of idp (${JWT}, audience api; ${FWD}), partners (${PARTNERS}), links (${LINKS}) whose credential the request presents decides; none → 401`
  const either = 'auth idp or partners or links audience "api"'
  assert.deepEqual(explain(either), [or, '     ↳ this request presents no credential any of them reads: the gateway would answer 401 here', proxy])
  assert.deepEqual(explain(either, 'GET https://api.example.com/v1/x?api_key=k'), [or, '     ↳ `links` decides (checked at run time, not here)', proxy])
  assert.deepEqual(explain(either, 'GET https://api.example.com/v1/x?api_key=k', ['x-api-key: k']), [or, '     ↳ `partners` decides (checked at run time, not here)', proxy])
  assert.deepEqual(explain(either, 'GET https://api.example.com/v1/x?api_key=k', ['x-api-key: k', 'authorization: bearer t']), [or, '     ↳ `idp` decides (checked at run time, not here)', proxy])

  assert.equal(diff('auth idp audience "api"', 'auth idp audience "api" "web"'), changed('stage 1  auth idp: audience api → api, web (+web)'))
  assert.equal(diff('auth idp audience "api"', 'auth idp'), changed('stage 1  auth idp: audience api → none (-api)'))
  assert.equal(diff('auth idp', 'auth idp or other'), changed('stage 1  auth idp or other: or none → other'))
  assert.equal(diff('auth idp or other or links', 'auth idp or links or other'), changed('stage 1  auth idp or links or other: or other, links → links, other'))
  assert.equal(diff('auth idp or links', 'auth idp'), changed('stage 1  auth idp: or links → none'))
  // the first provider is the stage's identity
  assert.equal(diff('auth idp audience "api"', 'auth other audience "api"'), changed('stage 1 (old)  removed: auth idp', 'stage 1        added: auth other'))
  assert.equal(diff('auth idp or other', 'auth other or idp'), changed('stage 1 (old)  removed: auth idp or other', 'stage 1        added: auth other or idp'))
  assert.equal(diff('auth idp or partners audience "x"', 'auth idp or partners audience "x"'), 'no behaviour changes\n')
  timeoutOnly('auth idp or partners audience "api"')

  assert.equal(fmt('auth   idp   or  partners audience  "a"   "b"'), 'auth idp or partners audience "a" "b"')
  assert.equal(fmt('auth  partners'), 'auth partners')
  assert.equal(fmt('auth idp or other or links'), 'auth idp or other or links')
})

test('auth: `or` pairs read off the head of the option list; cost and waiting as the lints see them', () => {
  const noProvider = (col: number) => `E0104 14:${col}+2 \`or\` names no provider [a provider name goes here] (write \`auth idp or partners\`, with the alternatives right after the first provider)`
  assert.deepEqual(diags('auth idp or "x"'), [noProvider(91)])
  assert.deepEqual(diags('auth idp or'), [noProvider(91)])
  assert.deepEqual(diags('auth idp or partners or'), [noProvider(103)])
  assert.deepEqual(diags('auth idp audience "a" or partners'), [noProvider(104)])
  assert.deepEqual(diags('auth idp or audience "a"'), [noProvider(91)])
  assert.deepEqual(diags('auth idp or "x" partners'), [noProvider(91)])
  assert.deepEqual(diags('auth idp or partners "x"'), [noProvider(91)])
  // two bare options are an `or` pair only when the first is `or`
  assert.deepEqual(diags('auth idp foo bar'), [
    'E0205 14:91+3 unknown option `foo` for `auth` [not an option here] (`auth` takes `audience`)',
    'E0205 14:95+3 unknown option `bar` for `auth` [not an option here] (`auth` takes `audience`)',
  ])
  assert.deepEqual(diags('auth idp or partners audience "a"; ratelimit by ip 1 per 1s'), [
    'W0701 14:117+9 `ratelimit by ip` runs after `auth`: a request it rejects has already paid for a JWT verification [cheap reject placed late] (move it above `auth`)',
  ])
  // an API-key check costs what a local decision costs: nothing to move
  assert.deepEqual(diags('auth partners; ip allow "10.0.0.0/8"'), [])
  assert.deepEqual(diags('auth links or partners; ratelimit by consumer 1 per 1s'), [])
  assert.deepEqual(diags('auth idp; ip allow "10.0.0.0/8"'), [
    'W0701 14:92+2 `ip allow` runs after `auth`: a request it rejects has already paid for a JWT verification [cheap reject placed late] (move it above `auth`)',
  ])
  // after `auth a or b` a later stage may rely only on what every provider establishes
  const below = (col: number) => `E0403 14:${col}+4 \`ratelimit by user\` needs an \`auth\` stage before it [no verified identity yet] (move this below the \`auth\` line)`
  assert.deepEqual(diags('auth idp or partners; ratelimit by user 1 per 1s'), [below(117)])
  assert.deepEqual(diags('auth partners or links; ratelimit by consumer 1 per 1s; ratelimit by user 1 per 1s'), [below(151)])
  // `auth` brings `gwc keys add` (its lines in `gwc help`)
  assert.deepEqual(REGISTRY.commands.map(c => [c.name, c.usage]), [['keys', [
    '  gwc keys add FILE CONSUMER',
    '                             add a random API key for CONSUMER to a keys file (only its SHA-256 is',
    '                             stored) and print the key once',
  ]]])
  // what the route's proxy removes: the credentials its providers read
  assert.deepEqual(bundle('auth idp or links').routes[0].consumes, { headers: ['authorization'], query: ['api_key'] })
  assert.deepEqual(bundle('auth partners').routes[0].consumes, { headers: ['x-api-key'], query: [] })
})

test('ratelimit: routes words, waits only on Redis, explain, diff by key with each field and the key space, fmt', () => {
  assert.equal(pipeline('ratelimit by ip 100 per 1s'), 'ratelimit ip 100/1s → proxy a')
  assert.equal(pipeline('ratelimit by ip 100 per 1s burst 20 redis'), 'ratelimit ip 100/1s burst 20 redis fail_open → proxy a')
  assert.equal(pipeline('ratelimit by ip 100 per 1m redis fail_closed'), 'ratelimit ip 100/1m redis fail_closed → proxy a')
  assert.equal(pipeline('ratelimit by header X-Key 5 per 1h local'), 'ratelimit header x-key 5/1h → proxy a')
  assert.equal(pipeline('ratelimit by header "x-k" 5 per 1s'), 'ratelimit header x-k 5/1s → proxy a')
  assert.equal(pipeline('auth idp; ratelimit by user 10 per 1s burst 0'), 'auth idp → ratelimit user 10/1s → proxy a')
  assert.equal(pipeline('auth idp; ratelimit by claim tid 10 per 500ms'), 'auth idp → ratelimit claim tid 10/500ms → proxy a')
  assert.equal(pipeline('auth partners; ratelimit by consumer 10 per 1s redis fail_open'), 'auth partners → ratelimit consumer 10/1s redis fail_open → proxy a')
  assert.equal(worst('ratelimit by ip 100 per 1s'), '-')
  assert.equal(worst('ratelimit by ip 100 per 1s local'), '-')
  assert.equal(worst('ratelimit by ip 100 per 1s redis'), '1s')

  const proxy = (n: number) => `  ${n}. proxy ${PROXY_TAIL}`
  assert.deepEqual(explain('ratelimit by ip 100 per 1s'), ['  3. ratelimit by ip: 100 per 1s, local; over the limit → 429 with Retry-After', proxy(4)])
  assert.deepEqual(explain('ratelimit by ip 100 per 1s burst 20 redis'), ['  3. ratelimit by ip: 100 per 1s (burst 20), redis, fails open; over the limit → 429 with Retry-After', proxy(4)])
  assert.deepEqual(explain('ratelimit by ip 100 per 1m redis fail_closed'), ['  3. ratelimit by ip: 100 per 1m, redis, fails closed; over the limit → 429 with Retry-After', proxy(4)])
  assert.deepEqual(explain('ratelimit by header X-Key 5 per 1h local'), [
    '  3. ratelimit by header x-key: 5 per 1h, local; over the limit → 429 with Retry-After', '     ↳ this request has no `x-key` header', proxy(4),
  ])
  assert.deepEqual(explain('ratelimit by header X-Key 5 per 1h local', 'GET https://api.example.com/v1/x', ['X-Key: 1']), [
    '  3. ratelimit by header x-key: 5 per 1h, local; over the limit → 429 with Retry-After', proxy(4),
  ])
  assert.deepEqual(explain('auth idp; ratelimit by claim tid 10 per 500ms', 'GET https://api.example.com/v1/x', ['Authorization: Bearer t']).slice(2), [
    '  4. ratelimit by claim tid: 10 per 500ms, local; over the limit → 429 with Retry-After', proxy(5),
  ])
  assert.deepEqual(explain('auth idp; ratelimit by user 10 per 1s', 'GET https://api.example.com/v1/x', ['Authorization: Bearer t']).slice(2), [
    '  4. ratelimit by user: 10 per 1s, local; over the limit → 429 with Retry-After', proxy(5),
  ])

  const ip = 'ratelimit by ip 100 per 1s'
  assert.equal(diff(ip, 'ratelimit by ip 200 per 1s'), changed('stage 1  ratelimit ip 200/1s: limit 100 → 200; key space r:ip:100/1000ms → r:ip:200/1000ms (counters start fresh)'))
  assert.equal(diff(ip, 'ratelimit by ip 100 per 1m'), changed('stage 1  ratelimit ip 100/1m: window 1s → 1m; key space r:ip:100/1000ms → r:ip:100/60000ms (counters start fresh)'))
  assert.equal(diff(ip, 'ratelimit by ip 100 per 1s burst 5'), changed('stage 1  ratelimit ip 100/1s burst 5: burst 0 → 5; key space r:ip:100/1000ms → r:ip:100/1000ms+5 (counters start fresh)'))
  assert.equal(diff(ip, 'ratelimit by ip 100 per 1s redis'), changed('stage 1  ratelimit ip 100/1s redis fail_open: store local → redis'))
  assert.equal(diff(ip, 'ratelimit by ip 100 per 1s redis fail_closed'),
    changed('stage 1  ratelimit ip 100/1s redis fail_closed: store local → redis; on store failure fail_open → fail_closed'))
  assert.equal(diff('ratelimit by ip 100 per 1s redis fail_closed', 'ratelimit by ip 100 per 1s redis fail_open'),
    changed('stage 1  ratelimit ip 100/1s redis fail_open: on store failure fail_closed → fail_open'))
  assert.equal(diff('ratelimit by ip 100 per 1s redis', 'ratelimit by ip 100 per 1s redis fail_open'), 'no behaviour changes\n')
  // what it counts by is the stage's identity
  assert.equal(diff(ip, 'ratelimit by header X-Key 100 per 1s'), changed('stage 1 (old)  removed: ratelimit ip 100/1s', 'stage 1        added: ratelimit header x-key 100/1s'))
  assert.equal(diff('ratelimit by header X-A 10 per 1s', 'ratelimit by header X-B 10 per 1s'),
    changed('stage 1 (old)  removed: ratelimit header x-a 10/1s', 'stage 1        added: ratelimit header x-b 10/1s'))
  assert.equal(diff('auth idp; ratelimit by claim tid 10 per 1s', 'auth idp; ratelimit by claim sub 10 per 1s'),
    changed('stage 2 (old)  removed: ratelimit claim tid 10/1s', 'stage 2        added: ratelimit claim sub 10/1s'))
  assert.equal(diff('auth idp; ratelimit by claim tid 10 per 1s', 'auth idp; ratelimit by user 10 per 1s'),
    changed('stage 2 (old)  removed: ratelimit claim tid 10/1s', 'stage 2        added: ratelimit user 10/1s'))
  assert.equal(diff('auth idp; ratelimit by user 10 per 1s', 'auth idp; ratelimit by user 20 per 1s'),
    changed('stage 2  ratelimit user 20/1s: limit 10 → 20; key space r:user:10/1000ms → r:user:20/1000ms (counters start fresh)'))
  assert.equal(diff('ratelimit by ip 10 per 1s; ratelimit by ip 100 per 1m', 'ratelimit by ip 100 per 1m; ratelimit by ip 10 per 1s'),
    changed('stage 1  ratelimit ip 100/1m: limit 10 → 100; window 1s → 1m; key space r:ip:10/1000ms → r:ip:100/60000ms (counters start fresh)',
      'stage 2  ratelimit ip 10/1s: limit 100 → 10; window 1m → 1s; key space r:ip:100/60000ms → r:ip:10/1000ms (counters start fresh)'))
  timeoutOnly('auth idp; ratelimit by header X-User 10 per 1s burst 2 redis fail_closed; ratelimit by ip 5 per 1m')

  assert.equal(fmt('ratelimit   by header "X-K" 10   per 1s  burst 5 redis   fail_closed'), 'ratelimit by header "X-K" 10 per 1s burst 5 redis fail_closed')
  assert.equal(fmt('ratelimit by  user 1 per 1m'), 'ratelimit by user 1 per 1m')
  assert.equal(fmt('ratelimit by claim  tid 1 per 1m local'), 'ratelimit by claim tid 1 per 1m local')
  assert.equal(fmt('ratelimit by ip 01 per 1000ms'), 'ratelimit by ip 01 per 1000ms')
})

test('ratelimit: what needs an identity or a consumer, which limits are cheap rejects, the client-controlled key, twins, `N/s`', () => {
  const identity = (what: string, col: number, len: number) =>
    `E0403 14:${col}+${len} \`${what}\` needs an \`auth\` stage before it [no verified identity yet] (add \`auth PROVIDER\` above it, or limit \`by ip\`)`
  assert.deepEqual(diags('ratelimit by user 1 per 1s'), [identity('ratelimit by user', 95, 4)])
  assert.deepEqual(diags('ratelimit by claim sub 1 per 1s'), [identity('ratelimit by claim', 95, 5)])
  assert.deepEqual(diags('ratelimit by header X-User 1 per 1s'), [identity('ratelimit by header X-User', 95, 6)])
  assert.deepEqual(diags('ratelimit by header X-Other 1 per 1s'), [])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s'), [])
  assert.deepEqual(diags('ratelimit by consumer 1 per 1s'), [
    'E0403 14:95+8 `ratelimit by consumer` needs an `auth` stage before it [no API-key consumer yet] (add `auth KEYS` above it (a `keys` provider), or limit `by ip`)',
  ])
  assert.deepEqual(diags('auth idp; ratelimit by consumer 1 per 1s'), [
    'E0403 14:105+8 `ratelimit by consumer` needs an `auth` stage before it [no API-key consumer yet] (move this below the `auth` line)',
  ])
  // after a JWT: by ip and by a client header are cheap rejects placed late; by user, claim and identity header are not
  assert.deepEqual(diags('auth idp; ratelimit by user 1 per 1s; ratelimit by claim tid 2 per 1s; ratelimit by header X-User 3 per 1s'), [])
  assert.deepEqual(diags('auth idp; ratelimit by header X-K 1 per 1s'), [
    'W0701 14:92+9 `ratelimit by header` runs after `auth`: a request it rejects has already paid for a JWT verification [cheap reject placed late] (move it above `auth`)',
    'W0706 14:105+6 `ratelimit by header` on an authenticated route keys on `x-k`, which the client controls [a new value per request escapes the limit] (limit by `user` or `claim NAME` on authenticated routes)',
  ])
  // an API key is no verified identity: no W0706
  assert.deepEqual(diags('auth partners; ratelimit by header X-K 1 per 1s'), [])
  assert.deepEqual(diags('ratelimit by header X-K 1 per 1s'), [])
  // a Redis limiter costs a round trip: an IP list after it is a cheap reject placed late; after a local one it is not
  assert.deepEqual(diags('ratelimit by ip 1 per 1s redis; ip deny "1.2.3.4"'), [
    'W0701 14:114+2 `ip deny` runs after `ratelimit`: a request it rejects has already paid for a Redis round trip [cheap reject placed late] (move it above `ratelimit`)',
  ])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s; ip deny "1.2.3.4"'), [])
  // a limit by consumer, like one by user or claim, cannot move above the `auth` it needs
  assert.deepEqual(diags('ratelimit by ip 1 per 1s redis; auth partners; ratelimit by consumer 1 per 1s'), [])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s redis; auth partners; ratelimit by ip 2 per 1s'), [
    'W0701 14:129+9 `ratelimit by ip` runs after `ratelimit`: a request it rejects has already paid for a Redis round trip [cheap reject placed late] (move it above `ratelimit`)',
  ])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s; ratelimit by ip 1 per 1s'), [
    'E0102 14:108+9 the same rate limit is given twice in route `r` [same key, limit and window as an earlier one] (remove one of them; to count two ways, key them differently or give them different windows)',
  ])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s; ratelimit by ip 1 per 1s redis'), [])
  const quoted = (col: number) => `E0001 14:${col}+1 unexpected character \`/\` (hosts, paths and URLs are strings: put them in double quotes)`
  const slash = (col: number, rate: string) => `E0001 14:${col}+1 unexpected character \`/\` (a rate is written \`N per WINDOW\`: \`${rate}\`)`
  assert.deepEqual(diags('ratelimit by ip 50/s'), [slash(100, '50 per 1s')])
  assert.deepEqual(diags('ratelimit by ip 50/Seconds'), [slash(100, '50 per 1s')])
  assert.deepEqual(diags('ratelimit by ip 5/min'), [slash(99, '5 per 1m')])
  assert.deepEqual(diags('ratelimit by ip 5/hrs'), [slash(99, '5 per 1h')])
  assert.deepEqual(diags('ratelimit by ip 5/ms'), [slash(99, '5 per 1ms')])
  assert.deepEqual(diags('ratelimit by ip 2.5/s'), [slash(101, '2.5 per 1s')])
  assert.deepEqual(diags('ratelimit by ip 2.55/s'), [slash(102, '2.55 per 1s')])
  const windows: [string, string][] = [['s', '1s'], ['sec', '1s'], ['secs', '1s'], ['second', '1s'], ['SECONDS', '1s'], ['m', '1m'], ['min', '1m'], ['mins', '1m'],
    ['minute', '1m'], ['Minutes', '1m'], ['h', '1h'], ['hr', '1h'], ['hrs', '1h'], ['hour', '1h'], ['hours', '1h'], ['ms', '1ms'], ['MS', '1ms']]
  for (const [w, per] of windows) assert.deepEqual(diags(`ratelimit by ip 5/${w}`), [slash(99, `5 per ${per}`)], w)
  for (const w of ['sx', 'xs', 'msx', 'xms', 'hx', 'xh', 'mx', 'xm', 'secss', 'hourss', 'minutess', 'mss', '1s']) {
    assert.deepEqual(diags(`ratelimit by ip 5/${w}`), [quoted(99), `E0002 14:100+${w.length} expected \`per\`, found \`${w}\``], w)
  }
  assert.deepEqual(diags('ratelimit by ip 5/  s'), ['E0002 14:98+5 expected `per`, found `s`', quoted(99)])
  assert.deepEqual(diags('ratelimit by ip 5@s'), ['E0002 14:98+3 expected `per`, found `s`', 'E0001 14:99+1 unexpected character `@` (remove it, or put it inside a string)'])
  assert.deepEqual(diags('ratelimit by ip 5/x').slice(0, 1), [quoted(99)])
  assert.deepEqual(diags('ratelimit by ip 5 per 1s /'), [quoted(107)])
})

test('cors: routes words, never waits, explain per origin and preflight, diff of each clause, fmt, OPTIONS added', () => {
  const C = 'cors origins "https://a.example.com", "https://*.b.example.com" methods GET, POST headers x-t expose x-request-id credentials max_age 10m'
  assert.equal(pipeline(C), 'cors https://a.example.com,https://*.b.example.com GET,POST credentials max_age 10m → proxy a')
  assert.equal(pipeline('cors origins "*"'), 'cors * GET,HEAD,POST → proxy a')
  assert.equal(pipeline('cors origins "https://a.example.com" max_age 0s'), 'cors https://a.example.com GET,HEAD,POST max_age 0ms → proxy a')
  assert.equal(worst(C), '-')
  // a route listing methods answers OPTIONS too (preflights)
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': source('cors origins "*"', { method: true }) }) })
  assert.equal(routeRows(r.ir!)[0][1], 'api.example.com /v1/… GET,OPTIONS')

  const E = 'https://api.example.com/v1/x'
  const step = '  3. cors: origins https://a.example.com, https://*.b.example.com; a preflight (OPTIONS with Access-Control-Request-Method) is answered here: 204, or 403 for an origin, method or header not allowed'
  const proxy = `  4. proxy ${PROXY_TAIL}`
  assert.deepEqual(explain(C), [step, '     ↳ this request has no `Origin` header: served without CORS headers', proxy])
  assert.deepEqual(explain(C, `GET ${E}`, ['Origin: https://x.b.example.com']), [step, '     ↳ origin `https://x.b.example.com` is allowed', proxy])
  assert.deepEqual(explain(C, `GET ${E}`, ['Origin: https://a.example.com']), [step, '     ↳ origin `https://a.example.com` is allowed', proxy])
  assert.deepEqual(explain(C, `GET ${E}`, ['Origin: https://evil.example.com']), [step, '     ↳ origin `https://evil.example.com` is not allowed: the answer carries no CORS headers', proxy])
  const two = 'cors origins "https://*.b.example.com", "https://*.c.example.com"'
  assert.deepEqual(explain(two, `GET ${E}`, ['Origin: https://x.c.example.com']).slice(1, 2), ['     ↳ origin `https://x.c.example.com` is allowed'])
  assert.deepEqual(explain('cors origins "https://a.example.com"', `GET ${E}`, ['Origin: https://evil.example.com']).slice(1, 2),
    ['     ↳ origin `https://evil.example.com` is not allowed: the answer carries no CORS headers'])
  assert.deepEqual(explain('cors origins "*"', `GET ${E}`, ['Origin: https://zzz.test']), [
    '  3. cors: origins *; a preflight (OPTIONS with Access-Control-Request-Method) is answered here: 204, or 403 for an origin, method or header not allowed',
    '     ↳ origin `https://zzz.test` is allowed', proxy,
  ])
  const ok = '     ↳ as a preflight (OPTIONS) this is answered here with 204 and the CORS headers; nothing below runs'
  const refused = '     ↳ as a preflight (OPTIONS) this is answered here with 403, no CORS headers; nothing below runs'
  const preflight = (...h: string[]) => explain(C, `OPTIONS ${E}`, ['Origin: https://a.example.com', ...h])
  assert.deepEqual(preflight('Access-Control-Request-Method: POST', 'Access-Control-Request-Headers: X-T'), [step, ok, proxy])
  assert.deepEqual(preflight('Access-Control-Request-Method: GET', 'Access-Control-Request-Headers: , x-t ,'), [step, ok, proxy])
  assert.deepEqual(preflight('Access-Control-Request-Method: GET'), [step, ok, proxy])
  assert.deepEqual(preflight('Access-Control-Request-Method: PUT'), [step, refused, proxy])
  assert.deepEqual(preflight('Access-Control-Request-Method: GET', 'Access-Control-Request-Headers: x-t, x-other'), [step, refused, proxy])
  assert.deepEqual(explain(C, `OPTIONS ${E}`, ['Origin: https://evil.example.com', 'Access-Control-Request-Method: GET']), [step, refused, proxy])
  assert.deepEqual(explain('cors origins "*" methods GET', `OPTIONS ${E}`, ['Origin: https://evil.example.com', 'Access-Control-Request-Method: GET']).slice(1, 2), [ok])

  const c = (o: string) => `cors origins "https://a.example.com"${o}`
  const all = ' methods GET headers x-t expose x-e credentials max_age 10m'
  assert.equal(diff(c(all), 'cors origins "https://a.example.com", "https://*.b.example.com"' + all),
    changed('stage 1  cors https://a.example.com,https://*.b.example.com GET credentials max_age 10m: origins +https://*.b.example.com'))
  assert.equal(diff(c(all), 'cors origins "https://c.example.com"' + all),
    changed('stage 1  cors https://c.example.com GET credentials max_age 10m: origins https://a.example.com → https://c.example.com (+https://c.example.com -https://a.example.com)'))
  assert.equal(diff(c(all), c(' methods GET, POST headers x-t expose x-e credentials max_age 10m')),
    changed('stage 1  cors https://a.example.com GET,POST credentials max_age 10m: methods GET → GET, POST (+POST)'))
  assert.equal(diff(c(all), c(' methods GET headers x-u expose x-e credentials max_age 10m')),
    changed('stage 1  cors https://a.example.com GET credentials max_age 10m: headers x-t → x-u (+x-u -x-t)'))
  assert.equal(diff(c(all), c(' methods GET expose x-e credentials max_age 10m')),
    changed('stage 1  cors https://a.example.com GET credentials max_age 10m: headers x-t → none (-x-t)'))
  assert.equal(diff(c(all), c(' methods GET headers x-t credentials max_age 10m')),
    changed('stage 1  cors https://a.example.com GET credentials max_age 10m: expose x-e → none (-x-e)'))
  assert.equal(diff(c(all), c(' methods GET headers x-t expose x-e max_age 10m')),
    changed('stage 1  cors https://a.example.com GET max_age 10m: credentials true → false'))
  assert.equal(diff(c(all), c(' methods GET headers x-t expose x-e credentials')),
    changed('stage 1  cors https://a.example.com GET credentials: max_age 10m → browser default'))
  assert.equal(diff(c(all), c(' methods GET headers x-t expose x-e credentials max_age 1h')),
    changed('stage 1  cors https://a.example.com GET credentials max_age 1h: max_age 10m → 1h'))
  assert.equal(diff(c(''), c(' methods GET, HEAD, POST')), 'no behaviour changes\n')
  assert.equal(diff(c(''), c(' methods GET')), changed('stage 1  cors https://a.example.com GET: methods GET, HEAD, POST → GET (-HEAD -POST)'))
  assert.equal(diff(c(''), c(' headers x-a')), changed('stage 1  cors https://a.example.com GET,HEAD,POST: headers none → x-a (+x-a)'))
  assert.equal(diff(c(''), c(' expose x-a')), changed('stage 1  cors https://a.example.com GET,HEAD,POST: expose none → x-a (+x-a)'))
  assert.equal(diff(c(''), c(' max_age 5s')), changed('stage 1  cors https://a.example.com GET,HEAD,POST max_age 5s: max_age browser default → 5s'))
  timeoutOnly(C)

  assert.equal(fmt('cors  max_age 10m credentials origins "https://a.example.com","https://*.b.example.com" methods GET,POST headers x-t , "content-type" expose x-request-id , "X-B"'),
    'cors max_age 10m credentials origins "https://a.example.com", "https://*.b.example.com" methods GET, POST headers x-t, "content-type" expose x-request-id, "X-B"')
  assert.equal(fmt('cors origins  "*"'), 'cors origins "*"')
})

test('cors: first stage only (E0477, worded after the first stage), one per route (E0102), OPTIONS joins the methods', () => {
  const late = (kind: string, col: number) => `E0477 14:${col}+4 \`cors\` comes after \`${kind}\`: it must be the route's first stage [a preflight would meet the stages above first] (move \`cors\` (or the \`use\` of the policy holding it) above every other stage)`
  assert.deepEqual(diags('auth idp; cors origins "https://a.example.com"'), [late('auth', 92)])
  assert.deepEqual(diags('headers set x-a "1"; ratelimit by ip 1 per 1s; cors origins "https://a.example.com"'), [late('headers', 129)])
  assert.deepEqual(diags('cors origins "https://a.example.com"; auth idp'), [])
  assert.deepEqual(diags('cors origins "https://a.example.com"; cors origins "https://b.example.com"'), [
    'E0102 14:120+4 `cors` is given twice in route `r` [a route has one CORS policy] (merge the origins, methods and headers into one `cors`)',
  ])
  const ir = bundle('cors origins "https://a.example.com" methods GET headers x-t expose x-e credentials max_age 2m', { method: true })
  assert.deepEqual(ir.routes[0].match.methods, ['GET', 'OPTIONS'])
})

test('ip: routes words, never waits, explain per mode, diff by mode (entries as a set), fmt, twins, cheap reject', () => {
  assert.equal(pipeline('ip allow "10.0.0.0/8", "::1"'), 'ip allow 10.0.0.0/8, ::1/128 → proxy a')
  assert.equal(pipeline('ip deny "10.9.0.0/16"; ip allow "10.0.0.0/8"'), 'ip deny 10.9.0.0/16 → ip allow 10.0.0.0/8 → proxy a')
  assert.equal(worst('ip deny "1.2.3.4"'), '-')
  const note = "     ↳ the client is the connection's peer address, or behind a trusted proxy the rightmost X-Forwarded-For address that is not one (docs/operations.md)"
  assert.deepEqual(explain('ip allow "10.0.0.0/8", "::1"; ip deny "1.2.3.4"'), [
    '  3. ip allow: only clients in 10.0.0.0/8, ::1/128 pass; any other client → 403 {"error":"forbidden"}', note,
    '  4. ip deny: clients in 1.2.3.4/32 → 403 {"error":"forbidden"}', note,
    `  5. proxy ${PROXY_TAIL}`,
  ])
  const both = 'ip deny "10.9.0.0/16"; ip allow "10.0.0.0/8"'
  assert.equal(diff(both, 'ip deny "10.9.0.0/16", "10.8.0.0/16"; ip allow "10.0.0.0/8"'),
    changed('stage 1  ip deny 10.9.0.0/16, 10.8.0.0/16: entries 10.9.0.0/16 → 10.9.0.0/16, 10.8.0.0/16 (+10.8.0.0/16)'))
  assert.equal(diff(both, 'ip deny "10.9.0.0/16"; ip allow "10.0.0.0/8", "::1"'),
    changed('stage 2  ip allow 10.0.0.0/8, ::1/128: entries 10.0.0.0/8 → 10.0.0.0/8, ::1/128 (+::1/128)'))
  assert.equal(diff(both, 'ip allow "10.0.0.0/8"; ip deny "10.9.0.0/16"'), changed('stage 2 → 1  moved: ip allow 10.0.0.0/8'))
  assert.equal(diff(both, 'ip allow "10.0.0.0/8"'), changed('stage 1 (old)  removed: ip deny 10.9.0.0/16'))
  assert.equal(diff('ip allow "10.0.0.0/8"', 'ip deny "10.0.0.0/8"'), changed('stage 1 (old)  removed: ip allow 10.0.0.0/8', 'stage 1        added: ip deny 10.0.0.0/8'))
  assert.equal(diff('ip allow "10.0.0.0/8", "::1"', 'ip allow "::1", "10.0.0.0/8"'), 'no behaviour changes\n')
  timeoutOnly(both)

  assert.equal(fmt('ip  allow "10.0.0.0/8" ,"::1"'), 'ip allow "10.0.0.0/8", "::1"')
  assert.equal(fmt('ip deny   "1.2.3.4"'), 'ip deny "1.2.3.4"')

  assert.deepEqual(diags('ip allow "10.0.0.0/8"; ip allow "11.0.0.0/8"'), [
    'E0102 14:105+2 an IP list of this kind is given twice in route `r` [a second list of the same kind] (merge the entries into one list (a route has at most one `ip allow` and one `ip deny`))',
  ])
  assert.deepEqual(diags('ip deny "10.9.0.0/16"; ip allow "10.0.0.0/8"'), [])
  // the kind's own lints run on the route's lists
  assert.deepEqual(diags('ip deny "10.0.0.0/8"; ip allow "11.0.0.0/8"'), [
    'W0782 14:90+12 deny entry `10.0.0.0/8` is dead: no allow entry of this route admits it [refused anyway by the allow list] (remove it; a deny entry matters only inside an allow entry)',
  ])
  assert.deepEqual(diags('auth idp; ip deny "10.0.0.0/8"'), [
    'W0701 14:92+2 `ip deny` runs after `auth`: a request it rejects has already paid for a JWT verification [cheap reject placed late] (move it above `auth`)',
  ])
})

test('rewrite: routes words per op, never waits, explain with the path sent upstream, diff per path and host, fmt, twins', () => {
  assert.equal(pipeline('rewrite strip "/v1"; rewrite host client'), 'rewrite strip /v1 → rewrite host client → proxy a')
  assert.equal(pipeline('rewrite prefix "/v1" "/v2"'), 'rewrite prefix /v1 → /v2 → proxy a')
  assert.equal(pipeline('rewrite prefix "/v1/x" "/"'), 'rewrite prefix /v1/x → / → proxy a')
  assert.equal(pipeline('rewrite prefix "/" "/v2"'), 'rewrite prefix / → /v2 → proxy a')
  assert.equal(pipeline('rewrite regex "^/v1/u/([0-9]+)$" "/users/$1"; rewrite host replica'), 'rewrite regex ^/v1/u/([0-9]+)$ → /users/$1 → rewrite host replica → proxy a')
  assert.equal(pipeline('rewrite host "h.internal:8080"'), 'rewrite host h.internal:8080 → proxy a')
  assert.equal(worst('rewrite strip "/v1"'), '-')

  const E = 'GET https://api.example.com/v1/x?q=1'
  assert.deepEqual(explain('rewrite strip "/v1"; rewrite host client', E), [
    '  3. rewrite strip /v1', '     ↳ sent upstream as /x?q=1',
    "  4. rewrite host: the upstream Host is the client's (api.example.com)",
    `  5. proxy as /x?q=1 ${PROXY_TAIL}`,
  ])
  assert.deepEqual(explain('rewrite prefix "/v1" "/v2"; rewrite host replica', E), [
    '  3. rewrite prefix /v1 → /v2', '     ↳ sent upstream as /v2/x?q=1',
    "  4. rewrite host: the upstream Host is the replica's host:port",
    `  5. proxy as /v2/x?q=1 ${PROXY_TAIL}`,
  ])
  assert.deepEqual(explain('rewrite prefix "/" "/v2"'), ['  3. rewrite prefix / → /v2', '     ↳ sent upstream as /v2/v1/x', `  4. proxy as /v2/v1/x ${PROXY_TAIL}`])
  assert.deepEqual(explain('rewrite prefix "/v1/x" "/"', E), ['  3. rewrite prefix /v1/x → /', '     ↳ sent upstream as /?q=1', `  4. proxy as /?q=1 ${PROXY_TAIL}`])
  assert.deepEqual(explain('rewrite regex "^/v1/u/([0-9]+)$" "/users/$1"; rewrite host "h.internal:8080"', E), [
    '  3. rewrite regex ^/v1/u/([0-9]+)$ → /users/$1', '     ↳ /v1/x?q=1 is not rewritten',
    '  4. rewrite host: the upstream Host is h.internal:8080',
    `  5. proxy ${PROXY_TAIL}`,
  ])
  assert.deepEqual(explain('rewrite regex "^/v1/u/([0-9]+)$" "/users/$1"', 'GET https://api.example.com/v1/u/42'), [
    '  3. rewrite regex ^/v1/u/([0-9]+)$ → /users/$1', '     ↳ sent upstream as /users/42', `  4. proxy as /users/42 ${PROXY_TAIL}`,
  ])
  assert.deepEqual(explain('rewrite regex "^/v1/([^/]*)x$" "/s/$1/e"', 'GET https://api.example.com/v1/..x'), [
    '  3. rewrite regex ^/v1/([^/]*)x$ → /s/$1/e', '     ↳ /v1/..x would become a path not in normal form: the gateway answers 400', `  4. proxy ${PROXY_TAIL}`,
  ])

  const both = 'rewrite strip "/v1"; rewrite host client'
  assert.equal(diff(both, 'rewrite prefix "/v1" "/"; rewrite host client'), changed('stage 1  rewrite prefix /v1 → /: rewrite rewrite strip /v1 → rewrite prefix /v1 → /'))
  assert.equal(diff(both, 'rewrite regex "^/v1$" "/"; rewrite host client'), changed('stage 1  rewrite regex ^/v1$ → /: rewrite rewrite strip /v1 → rewrite regex ^/v1$ → /'))
  assert.equal(diff(both, 'rewrite strip "/v1"; rewrite host replica'), changed('stage 2  rewrite host replica: rewrite rewrite host client → rewrite host replica'))
  assert.equal(diff(both, 'rewrite strip "/v1"; rewrite host "h"'), changed('stage 2  rewrite host h: rewrite rewrite host client → rewrite host h'))
  assert.equal(diff(both, 'rewrite host client; rewrite strip "/v1"'), changed('stage 2 → 1  moved: rewrite host client'))
  assert.equal(diff(both, 'rewrite strip "/v1"'), changed('stage 2 (old)  removed: rewrite host client'))
  assert.equal(diff('rewrite host client', 'rewrite strip "/v1"'), changed('stage 1 (old)  removed: rewrite host client', 'stage 1        added: rewrite strip /v1'))
  timeoutOnly(both)

  assert.equal(fmt('rewrite  strip  "/api"'), 'rewrite strip "/api"')
  assert.equal(fmt('rewrite prefix "/a"   "/b"'), 'rewrite prefix "/a" "/b"')
  assert.equal(fmt('rewrite regex "^/u/([0-9]+)$"  "/users/$1"'), 'rewrite regex "^/u/([0-9]+)$" "/users/$1"')
  assert.equal(fmt('rewrite host  client'), 'rewrite host client')
  assert.equal(fmt('rewrite host "h.internal:8080"'), 'rewrite host "h.internal:8080"')

  const twice = (col: number) => `E0102 14:${col}+7 \`rewrite\` changes the same thing twice in route \`r\` [a second rewrite of it] (keep one: path rewrites do not chain (one of \`strip\`, \`prefix\`, \`regex\`, plus at most one \`host\`))`
  assert.deepEqual(diags('rewrite strip "/v1"; rewrite prefix "/v1" "/v2"'), [twice(103)])
  assert.deepEqual(diags('rewrite host client; rewrite host replica'), [twice(103)])
  assert.deepEqual(diags('rewrite host client; rewrite strip "/v1"'), [])
})

test('redirect https: routes words, never waits, explain with and without X-Forwarded-Proto, diff of the status, fmt', () => {
  assert.equal(pipeline('redirect https'), 'redirect https 308 → proxy a')
  assert.equal(pipeline('redirect https 301'), 'redirect https 301 → proxy a')
  assert.equal(worst('redirect https'), '-')
  const proxy = `  4. proxy ${PROXY_TAIL}`
  assert.deepEqual(explain('redirect https'), [
    '  3. redirect https: a request that did not arrive over HTTPS gets 308 to https://{host}{path}?{query}',
    '     ↳ over plain HTTP (no TLS, no X-Forwarded-Proto) this request is redirected', proxy,
  ])
  assert.deepEqual(explain('redirect https 307', 'GET https://api.example.com/v1/x', ['X-Forwarded-Proto: https']), [
    '  3. redirect https: a request that did not arrive over HTTPS gets 307 to https://{host}{path}?{query}',
    '     ↳ X-Forwarded-Proto: https is believed only from a trusted proxy (--trusted-proxies)', proxy,
  ])
  assert.equal(diff('redirect https', 'redirect https 301'), changed('stage 1  redirect https 301: redirect.status 308 → 301'))
  assert.equal(diff('redirect https', 'redirect https 308'), 'no behaviour changes\n')
  assert.equal(diff('redirect https 302; headers set x-a "1"', 'headers set x-a "1"; redirect https 303'), changed('stage 2 → 1  moved: headers request set x-a "1"', 'stage 2      redirect https 303: redirect.status 302 → 303'))
  timeoutOnly('redirect https 302')
  assert.equal(fmt('redirect   https'), 'redirect https')
  assert.equal(fmt('redirect https  301'), 'redirect https 301')
  assert.deepEqual(diags('redirect https 200'), ['E0495 14:97+3 `200` is not a redirect status [not 301, 302, 303, 307 or 308] (308 (the default) keeps the method and body)'])
  assert.deepEqual(diags('redirect https 1000'), ['E0303 14:97+4 the redirect status must be between 100 and 599, got `1000` [out of range]'])
  assert.deepEqual(diags('redirect https 99'), ['E0303 14:97+2 the redirect status must be between 100 and 599, got `99` [out of range]'])
  assert.deepEqual(diags('redirect https 5s'), ['E0301 14:97+2 `5s` is a duration, but the redirect status takes a count [expected a count] (a count looks like a whole number like `3`)'])
  assert.deepEqual(diags('auth idp; redirect https'), [])
  assert.deepEqual(bundle('redirect https 303').routes[0].stages.map(s => ({ ...s, source: undefined })), [{ kind: 'redirect', status: 303, source: undefined }])
})

test('emit: what each kind binds at load in the generated module (stage options, header plans)', () => {
  const text = BASE + `route r { match host "api.example.com" path prefix "/v1" method GET; timeout 1s
  cors origins "https://a.example.com", "https://*.b.example.com" methods GET headers x-t expose x-e credentials max_age 10m
  ip deny "10.9.0.0/16"; ip allow "10.0.0.0/8"; redirect https 301; headers set x-a "1", remove x-b; headers response remove x-c
  auth idp or partners audience "api"; ratelimit by header X-K 5 per 1s burst 2 redis fail_closed; rewrite strip "/v1"; rewrite host "h"; proxy a }
route r2 { match path "/r2"; timeout 1s; rewrite regex "^/v1/u/([0-9]+)$" "/users/$1"; rewrite host replica; ratelimit by ip 1 per 1m; proxy a }
`
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(show), [])
  const bound = buildBundle(r.ir!, r.sources, 'x').moduleText.split('\n').filter(l => /^const \w+ = (stages|heads)\./.test(l))
  assert.deepEqual(bound, [
    'const cors0 = stages.cors({"route":"r","origins":["https://a.example.com"],"wildcards":["https://*.b.example.com"],"methods":["GET"],"headers":["x-t"],"expose":["x-e"],"credentials":true,"maxAgeS":600});',
    'const ip0 = stages.ip({"route":"r","mode":"deny","entries":["10.9.0.0/16"]});',
    'const ip1 = stages.ip({"route":"r","mode":"allow","entries":["10.0.0.0/8"]});',
    'const redirect0 = stages.redirect({"route":"r","status":301});',
    'const reqHead0 = heads.request({"drop":["x-a","x-b"],"block":"x-a: 1\\r\\n","edits":["x-a","1","x-b",null]});',
    'const resHead0 = heads.response({"drop":["x-c"],"block":"","edits":["x-c",null]});',
    'const auth0 = stages.auth({"route":"r","provider":"idp","or":["partners"],"audience":["api"]});',
    'const ratelimit0 = stages.ratelimit({"route":"r","id":"r:header=x-k:5/1000ms+2","key":{"kind":"header","header":"x-k"},"limit":5,"windowMs":1000,"burst":2,"store":"redis","failOpen":false});',
    'const rewrite0 = stages.rewrite({"route":"r","op":"prefix","from":"/v1","to":""});',
    'const rewrite1 = stages.rewrite({"route":"r","op":"host","host":"h","keep":false});',
    'const proxy0 = stages.proxy({"route":"r","targets":[{"upstream":"a","weight":100}],"timeoutMs":1000,"retry":null,"fallback":null});',
    'const rewrite2 = stages.rewrite({"route":"r2","op":"regex","pattern":"^/v1/u/([0-9]+)$","lits":["/users/",""],"refs":[1]});',
    'const rewrite3 = stages.rewrite({"route":"r2","op":"host","host":null,"keep":false});',
    'const ratelimit1 = stages.ratelimit({"route":"r2","id":"r2:ip:1/60000ms","key":{"kind":"ip"},"limit":1,"windowMs":60000,"burst":0,"store":"local","failOpen":true});',
    'const proxy1 = stages.proxy({"route":"r2","targets":[{"upstream":"a","weight":100}],"timeoutMs":1000,"retry":null,"fallback":null});',
  ])
})

// ── YAML: each kind's key reaches its reader, the statements it reads are those of the .gwp form, in rank order ──

const YAML_HEAD = `upstreams:
  a: { replicas: ["10.0.0.1:80"] }
jwt:
  idp:
    issuer: "https://id.example.com/"
    jwks: "https://id.example.com/jwks.json"
    refresh: 5m
    algorithms: [RS256, ES256]
    forward: { sub: X-User, tid: X-Tenant }
keys:
  partners: { redis: "gwp:keys:p", forward_consumer: X-Consumer }
routes:
`
const GWP_HEAD = `jwt idp {
  issuer "https://id.example.com/"
  jwks "https://id.example.com/jwks.json" refresh 5m
  algorithms RS256 ES256
  forward claim sub as X-User, claim tid as X-Tenant
}
keys partners { redis "gwp:keys:p"; forward consumer as X-Consumer }
upstream a { replicas 10.0.0.1:80 }
`
/** A YAML route's stages and the .gwp route's, as AST shapes and as IR (positions left out): they must be equal. */
function sameAsGwp(yamlRoute: string, gwpStmts: string[]): void {
  const y = compile(['p.yaml'], { host: memoryHost({ 'p.yaml': YAML_HEAD + yamlRoute }), frontEnds: FRONT_ENDS })
  const g = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': GWP_HEAD + `route r {\n  match host "api.example.com" path prefix "/v1"\n${gwpStmts.map(s => `  ${s}\n`).join('')}  timeout 1s\n  proxy a\n}\n` }) })
  assert.deepEqual(y.diagnostics.filter(d => d.severity === 'error').map(show), [], yamlRoute)
  assert.deepEqual(g.diagnostics.filter(d => d.severity === 'error').map(show), [], gwpStmts.join('; '))
  const shape = (ast: typeof y.sources[0]['ast']) => (astShape({ ...ast, decls: ast.decls.filter(d => d.kind === 'route') }) as { body: unknown[] }[])[0].body
  assert.deepEqual(shape(y.sources[0].ast), shape(g.sources[0].ast))
  const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'source' ? undefined : v)))
  assert.deepEqual(strip(y.ir!.routes[0].stages), strip(g.ir!.routes[0].stages))
  assert.equal(routeRows(y.ir!)[0][2], routeRows(g.ir!)[0][2])
}
const yamlRoute = (stages: string) => `  - name: r\n    match: { host: api.example.com, path: /v1 }\n${stages}    timeout: 1s\n    upstream: a\n`

test('YAML: each kind\'s key and reader give the statements of the .gwp form', () => {
  sameAsGwp(yamlRoute('    headers: { set: { X-A: "1" }, remove: [X-B, X-C] }\n'), ['headers set X-A "1", remove X-B X-C'])
  sameAsGwp(yamlRoute('    headers: { response: { remove: X-B }, request: { set: { X-A: "1" } } }\n'), ['headers request set X-A "1"', 'headers response remove X-B'])
  sameAsGwp(yamlRoute('    auth: { provider: idp, aud: [api, web] }\n'), ['auth idp audience "api" "web"'])
  sameAsGwp(yamlRoute('    auth: { required: true, provider: idp }\n'), ['auth idp'])
  sameAsGwp(yamlRoute('    auth: { required: false, provider: idp }\n'), [])
  sameAsGwp(yamlRoute('    auth: { provider: [partners, idp] }\n'), ['auth partners or idp'])
  sameAsGwp(yamlRoute('    ratelimit: { key: ip, limit: 100, window: 1s, burst: 10 }\n'), ['ratelimit by ip 100 per 1s burst 10'])
  sameAsGwp(yamlRoute('    auth: { provider: idp }\n    ratelimit: { key: "claim:tid", limit: 5, window: 1m, store: redis, fail: closed }\n'), ['auth idp', 'ratelimit by claim tid 5 per 1m redis fail_closed'])
  sameAsGwp(yamlRoute('    cors: { origins: ["https://a.example.com"], methods: [GET], headers: [x-t], expose: [x-e], credentials: true, max_age: 10m }\n'),
    ['cors origins "https://a.example.com" methods GET headers x-t expose x-e credentials max_age 10m'])
  sameAsGwp(yamlRoute('    ip: { allow: ["10.0.0.0/8", "::1"], deny: 10.9.0.0/16 }\n'), ['ip deny "10.9.0.0/16"', 'ip allow "10.0.0.0/8", "::1"'])
  sameAsGwp(yamlRoute('    rewrite: { strip: /v1, host: replica }\n'), ['rewrite strip "/v1"', 'rewrite host replica'])
  sameAsGwp(yamlRoute('    rewrite: { prefix: { from: /v1, to: /v2 }, host: h.internal }\n'), ['rewrite prefix "/v1" "/v2"', 'rewrite host "h.internal"'])
  sameAsGwp(yamlRoute('    rewrite: { regex: { pattern: "^/v1/u/([0-9]+)$", replacement: /users/$1 } }\n'), ['rewrite regex "^/v1/u/([0-9]+)$" "/users/$1"'])
  sameAsGwp(yamlRoute('    redirect_https: true\n'), ['redirect https'])
  sameAsGwp(yamlRoute('    redirect_https: 301\n'), ['redirect https 301'])
  sameAsGwp(yamlRoute('    redirect_https: false\n'), [])
})

test('YAML: `auth: true` names the one provider the file declares, jwt or keys', () => {
  const yaml = (decls: string) => compile(['p.yaml'], { host: memoryHost({ 'p.yaml': `upstreams:\n  a: { replicas: ["10.0.0.1:80"] }\n${decls}routes:\n${yamlRoute('    auth: true\n')}` }), frontEnds: FRONT_ENDS })
  const jwt = 'jwt:\n  idp: { issuer: "https://id.example.com/", jwks: "https://id.example.com/jwks.json", refresh: 5m }\n'
  const keys = 'keys:\n  partners: { redis: "gwp:keys:p" }\n'
  assert.equal(routeRows(yaml(jwt).ir!)[0][2], 'auth idp → proxy a')
  assert.equal(routeRows(yaml(keys).ir!)[0][2], 'auth partners → proxy a')
  assert.deepEqual(yaml(jwt + keys).diagnostics.filter(OWN).map(show), [
    'E0104 10:5+4 `routes[0].auth` has no `provider` [which jwt provider verifies the token?] (name one of `idp`, `partners` with `provider: NAME`)',
  ])
})

test('YAML: `redirect_https` that is neither a status nor true/false is reported, and nothing is read', () => {
  const yaml = (v: string) => compile(['p.yaml'], { host: memoryHost({ 'p.yaml': `upstreams:\n  a: { replicas: ["10.0.0.1:80"] }\nroutes:\n${yamlRoute(`    redirect_https: ${v}\n`)}` }), frontEnds: FRONT_ENDS }).diagnostics.map(show)
  assert.deepEqual(yaml('-1'), ['E0301 6:21+2 `routes[0].redirect_https` takes a number with its unit, got `-1` [not a quantity] (write it like `800ms`, `10MB` or `3`, without spaces)'])
  assert.deepEqual(yaml('"301"'), ['E0301 6:21+5 `routes[0].redirect_https` takes `true` or `false`, got a string [expected `true` or `false`]'])
  assert.deepEqual(yaml('1.5'), ['E0303 6:21+3 the redirect status must be a whole number, got `1.5` [not a whole number]'])
})

test('YAML: stages are placed by rank (cheap rejects first, Redis after local), whatever the order of the keys', () => {
  sameAsGwp(yamlRoute(`    rewrite: { strip: /v1, host: replica }
    ratelimit:
      - { key: user, limit: 10, window: 1s, store: redis, fail: closed }
      - { key: user, limit: 20, window: 1m }
      - { key: "header:X-K", limit: 5, window: 1s, store: redis }
      - { key: ip, limit: 100, window: 1s, burst: 10, store: local }
      - { key: "header:X-L", limit: 6, window: 1s }
    auth: { provider: idp, aud: [api] }
    headers: { response: { set: { X-A: "1" }, remove: [X-B, X-C] }, remove: X-D }
    redirect_https: 301
    ip: { allow: ["10.0.0.0/8"], deny: 10.9.0.0/16 }
    cors: { origins: ["https://a.example.com"], methods: [GET], credentials: true }
`), [
    'cors origins "https://a.example.com" methods GET credentials',
    'ip deny "10.9.0.0/16"',
    'ip allow "10.0.0.0/8"',
    'redirect https 301',
    'headers remove X-D',
    'headers response set X-A "1", remove X-B X-C',
    'ratelimit by ip 100 per 1s burst 10 local',
    'ratelimit by header X-L 6 per 1s',
    'ratelimit by header X-K 5 per 1s redis',
    'auth idp audience "api"',
    'ratelimit by user 20 per 1m',
    'ratelimit by user 10 per 1s redis fail_closed',
    'rewrite strip "/v1"',
    'rewrite host replica',
  ])
  // a rewrite is placed last, also when it is the only other stage
  sameAsGwp(yamlRoute('    rewrite: { strip: /v1 }\n    redirect_https: true\n'), ['redirect https', 'rewrite strip "/v1"'])
  sameAsGwp(yamlRoute('    rewrite: { strip: /v1 }\n    cors: { origins: ["*"] }\n'), ['cors origins "*"', 'rewrite strip "/v1"'])
  sameAsGwp(yamlRoute('    headers: { set: { X-A: "1" } }\n    cors: { origins: ["*"] }\n'), ['cors origins "*"', 'headers set X-A "1"'])
  sameAsGwp(yamlRoute('    redirect_https: true\n    ip: { deny: 10.9.0.0/16 }\n    headers: { set: { X-A: "1" } }\n'), ['ip deny "10.9.0.0/16"', 'redirect https', 'headers set X-A "1"'])
})
