// test/issues/14-policy-halves.test.ts: the compile halves' descriptors (policies/<kind>/compile.ts) in-process,
// with exact text: what `gwc routes` says of each stage (describe), which stages can make a request wait, the
// cost and cheap-reject names the W0701 lint uses, the `gwc diff` keys, texts and field changes, the `gwc
// explain` step and its note, the canonical `.gwp` line `gwc fmt` prints, the facts `auth` provides and
// `ratelimit` needs, the twin key, and the YAML rank. The CLI tests (diff, explain, fmt, routes) check the same
// through gwc processes, at seconds per case; this is what the mutation run (area policies) runs first for
// the compile.ts files.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import type { BundleIR } from '../../config/ir.js'
import type * as A from '../../grammar/ast.js'
import { policy as headers } from '../../policies/headers/compile.js'
import { policy as auth } from '../../policies/auth/compile.js'
import { policy as ratelimit } from '../../policies/ratelimit/compile.js'

const JWT = `
jwt idp {
  issuer "https://id.example.com/"
  jwks "https://id.example.com/jwks.json" refresh 5m
  algorithms RS256 ES256
  forward claim sub as X-User, claim tid as X-Tenant
}
jwt bare {
  issuer "https://bare.example.com/"
  jwks "https://bare.example.com/jwks.json" refresh 5m
}
upstream a { replicas 10.0.0.1:80 }
`
/** Compiles routes (each `route rN { match path "/N"; timeout 1s; STMTS; proxy a }`); every stage's IR and AST by route. */
function stagesOf(...routes: string[]) {
  const text = JWT + routes.map((b, i) => `route r${i} { match path "/${i}"; timeout 1s; ${b}; proxy a }`).join('\n')
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => `${d.code} ${d.message}`), [])
  const ir = r.ir as BundleIR
  const decls = r.sources[0].ast.decls.filter((d): d is A.RouteDecl => d.kind === 'route')
  return routes.map((_, i) => ({
    ir: ir.routes[i].stages as any[],
    ast: decls[i].body.filter(s => s.kind !== 'match' && s.kind !== 'timeout' && s.kind !== 'proxy') as unknown as { kind: string; span: A.Span }[],
    bundle: ir,
  }))
}
const one = (stmt: string): { ir: any; ast: any; bundle: BundleIR } => { const s = stagesOf(stmt)[0]; return { ir: s.ir[0], ast: s.ast[0], bundle: s.bundle } }

/** Every diagnostic of one route's statements (the providers declared above, `bare` unused unless named). */
function diags(stmts: string): string[] {
  const text = JWT + `route r { match path "/"; timeout 1s; ${stmts}; proxy a }\nroute b { match path "/b"; timeout 1s; auth bare; proxy a }`
  return compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) }).diagnostics.map(d => `${d.code} ${d.message} [${d.label ?? ''}] (${d.hint ?? ''})`)
}

test('headers: routes line, diff key/text/changes, explain step, canonical print, never waits, YAML rank', () => {
  const h = one('headers response set X-A "1", remove X-B X-C')
  const q = one('headers set x-q "v"')
  assert.equal(headers.describe(h.ir), 'headers response set x-a, remove x-b, remove x-c')
  assert.equal(headers.describe(q.ir), 'headers request set x-q', 'no target: the request')
  assert.equal(headers.diff.key(h.ir), 'headers response')
  assert.equal(headers.diff.key(q.ir), 'headers request')
  assert.equal(headers.diff.text!(h.ir), 'headers response set x-a "1", remove x-b, remove x-c')
  assert.deepEqual(headers.diff.changes(h.ir, q.ir), [{
    field: 'ops', old: ['set x-a "1"', 'remove x-b', 'remove x-c'], new: ['set x-q "v"'], text: 'set x-a "1", remove x-b, remove x-c → set x-q "v"',
  }])
  assert.deepEqual(headers.diff.changes(h.ir, h.ir), [])
  assert.deepEqual(headers.explain(h.ir, { bundle: h.bundle, headers: {}, upstreamPath: '/' }), { text: 'headers response: set x-a: 1, remove x-b, remove x-c', note: null })
  assert.equal(headers.print(h.ast), 'headers response set X-A "1", remove X-B X-C', 'names as written, one remove with its names')
  assert.equal(headers.print(q.ast), 'headers set x-q "v"', 'no target written: none printed')
  assert.equal(headers.canWait(h.ir), false)
  assert.equal(headers.yaml!.key, 'headers')
  assert.equal(headers.yaml!.rank(h.ast), 10)
})

test('auth: routes line, cost, waits, provides identity, diff, explain with and without a bearer token, print, YAML rank', () => {
  const a = one('auth idp audience "api" "web"')
  const b = one('auth bare')
  assert.equal(auth.describe(a.ir), 'auth idp')
  assert.deepEqual(auth.cost!(a.ir), { level: 2, paid: 'a JWT verification' })
  assert.equal(auth.canWait(a.ir), true)
  assert.deepEqual(auth.provides, ['identity', 'consumer'])
  assert.equal(auth.diff.key(a.ir), 'auth idp')
  assert.deepEqual(auth.diff.changes(a.ir, b.ir), [{ field: 'audience', old: ['api', 'web'], new: [], text: 'api, web → none (-api -web)' }])
  assert.deepEqual(auth.diff.changes(a.ir, a.ir), [])
  const full = 'auth idp: bearer JWT from https://id.example.com/ (RS256, ES256), audience api, web; forwards claim sub as x-user, claim tid as x-tenant; no valid token → 401, wrong audience → 403'
  const verified = 'the token is verified at run time (not checked here)'
  const none = 'this request has no `Authorization: Bearer` header: the gateway would answer 401 here'
  const explain = (authorization?: string) => auth.explain(a.ir, { bundle: a.bundle, headers: authorization === undefined ? {} : { authorization }, upstreamPath: '/' })
  assert.deepEqual(explain('Bearer x'), { text: full, note: verified })
  assert.equal(explain('bearer  x').note, verified, 'any case, any run of spaces')
  assert.equal(explain('BEARER\tx.y').note, verified)
  for (const h of [undefined, '', 'Bearer', 'Bearer  ', 'Basic bearer x', 'Bearerx']) assert.equal(explain(h).note, none, String(h))
  assert.deepEqual(auth.explain(b.ir, { bundle: b.bundle, headers: {}, upstreamPath: '/' }), {
    text: 'auth bare: bearer JWT from https://bare.example.com/ (RS256, ES256, EdDSA), audience not checked; no valid token → 401', note: none,
  })
  assert.equal(auth.explain(a.ir, { bundle: { ...a.bundle, declarations: [] }, headers: {}, upstreamPath: '/' }).text,
    'auth idp: bearer JWT from ? (?), audience api, web; no valid token → 401, wrong audience → 403', 'a bundle without the provider')
  assert.equal(auth.print(a.ast), 'auth idp audience "api" "web"')
  assert.equal(auth.print(b.ast), 'auth bare')
  assert.equal(auth.yaml!.key, 'auth')
  assert.equal(auth.yaml!.rank(a.ast), 30)
})

test('ratelimit: routes line, cost, waits, diff key, twin key, explain and its note, print, YAML rank', () => {
  const cases = [
    ['ratelimit by ip 100 per 1s', { describe: 'ratelimit ip 100/1s', cost: { level: 1, paid: 'a local rate-limit decision' }, canWait: false, key: 'ratelimit ip', twin: 'local r0:ip:100/1000ms',
      explain: 'ratelimit by ip: 100 per 1s, local; over the limit → 429 with Retry-After', note: null, print: 'ratelimit by ip 100 per 1s', rank: 20 }],
    ['ratelimit by header X-Key 5 per 2m burst 3 redis fail_open', { describe: 'ratelimit header x-key 5/2m burst 3 redis fail_open', cost: { level: 2, paid: 'a Redis round trip' }, canWait: true,
      key: 'ratelimit header x-key', twin: 'redis r0:header=x-key:5/120000ms+3', explain: 'ratelimit by header x-key: 5 per 2m (burst 3), redis, fails open; over the limit → 429 with Retry-After',
      note: 'this request has no `x-key` header', print: 'ratelimit by header X-Key 5 per 2m burst 3 redis fail_open', rank: 21 }],
    ['auth idp; ratelimit by user 10 per 1m redis', { describe: 'ratelimit user 10/1m redis fail_open', cost: { level: 2, paid: 'a Redis round trip' }, canWait: true, key: 'ratelimit user',
      twin: 'redis r0:user:10/60000ms', explain: 'ratelimit by user: 10 per 1m, redis, fails open; over the limit → 429 with Retry-After', note: null, print: 'ratelimit by user 10 per 1m redis', rank: 41 }],
    ['auth idp; ratelimit by claim tid 7 per 10s burst 1 redis fail_closed', { describe: 'ratelimit claim tid 7/10s burst 1 redis fail_closed', cost: { level: 2, paid: 'a Redis round trip' }, canWait: true,
      key: 'ratelimit claim tid', twin: 'redis r0:claim=tid:7/10000ms+1', explain: 'ratelimit by claim tid: 7 per 10s (burst 1), redis, fails closed; over the limit → 429 with Retry-After', note: null,
      print: 'ratelimit by claim tid 7 per 10s burst 1 redis fail_closed', rank: 41 }],
    ['auth idp; ratelimit by header X-Tenant 3 per 1s local', { describe: 'ratelimit header x-tenant 3/1s', cost: { level: 1, paid: 'a local rate-limit decision' }, canWait: false, key: 'ratelimit header x-tenant',
      twin: 'local r0:header=x-tenant:3/1000ms', explain: 'ratelimit by header x-tenant: 3 per 1s, local; over the limit → 429 with Retry-After', note: 'this request has no `x-tenant` header',
      print: 'ratelimit by header X-Tenant 3 per 1s local', rank: 20 }],
  ] as const
  for (const [stmt, want] of cases) {
    const st = stagesOf(stmt)[0]
    const ir = st.ir.at(-1), ast = st.ast.at(-1) as never
    const explain = (h: Record<string, string>) => ratelimit.explain(ir, { bundle: st.bundle, headers: h, upstreamPath: '/' })
    assert.deepEqual({
      describe: ratelimit.describe(ir), cost: ratelimit.cost!(ir), canWait: ratelimit.canWait(ir), key: ratelimit.diff.key(ir), twin: ratelimit.twin!.key(ir),
      explain: explain({}).text, note: explain({}).note, print: ratelimit.print(ast), rank: ratelimit.yaml!.rank(ast),
    }, want, stmt)
    if (ir.key.kind === 'header') assert.equal(explain({ [ir.key.header]: 'k' }).note, null, 'the header is there')
    else assert.equal(explain({ 'x-key': 'k' }).note, null)
  }
  assert.equal(ratelimit.yaml!.key, 'ratelimit')
})

test('ratelimit: diff changes, each field in words, and a new limiter id says its counters start fresh', () => {
  const [a, b, c] = stagesOf('ratelimit by ip 100 per 1s', 'ratelimit by ip 50 per 2s burst 5 redis fail_closed', 'ratelimit by ip 100 per 1s redis fail_open').map(s => s.ir[0])
  assert.deepEqual(ratelimit.diff.changes(a, a), [])
  assert.deepEqual(ratelimit.diff.changes(a, b).map(x => [x.field, x.text]), [
    ['limit', '100 → 50'], ['window', '1s → 2s'], ['burst', '0 → 5'], ['store', 'local → redis'], ['on store failure', 'fail_open → fail_closed'],
    ['key space', 'r0:ip:100/1000ms → r1:ip:50/2000ms+5 (counters start fresh)'],
  ])
  assert.deepEqual(ratelimit.diff.changes(a, c).map(x => [x.field, x.text]), [['store', 'local → redis'], ['key space', 'r0:ip:100/1000ms → r2:ip:100/1000ms (counters start fresh)']])
})

test('ratelimit: what needs a verified identity, which limits are cheap rejects, the client-controlled key lint, twins', () => {
  const E0403 = (what: string) => `E0403 \`${what}\` needs an \`auth\` stage before it [no verified identity yet] (add \`auth PROVIDER\` above it, or limit \`by ip\`)`
  const W0701 = (what: string) => `W0701 \`${what}\` runs after \`auth\`: a request it rejects has already paid for a JWT verification [cheap reject placed late] (move it above \`auth\`)`
  const W0706 = 'W0706 `ratelimit by header` on an authenticated route keys on `x-key`, which the client controls [a new value per request escapes the limit] (limit by `user` or `claim NAME` on authenticated routes)'
  const unused = 'W0709 jwt `idp` is never used [no route refers to it] (remove it, or refer to it from a route)'
  assert.deepEqual(diags('ratelimit by user 1 per 1s'), [unused, E0403('ratelimit by user')])
  assert.deepEqual(diags('ratelimit by claim tid 1 per 1s'), [unused, E0403('ratelimit by claim')])
  assert.deepEqual(diags('ratelimit by header X-Tenant 1 per 1s'), [unused, E0403('ratelimit by header X-Tenant')], 'a header forwarded from a verified claim')
  assert.deepEqual(diags('ratelimit by header X-Key 1 per 1s'), [unused], 'any other header needs nothing')
  assert.deepEqual(diags('ratelimit by ip 1 per 1s'), [unused])
  assert.deepEqual(diags('auth idp; ratelimit by ip 1 per 1s'), [W0701('ratelimit by ip')])
  assert.deepEqual(diags('auth idp; ratelimit by header X-Key 1 per 1s'), [W0701('ratelimit by header'), W0706])
  for (const s of ['auth idp; ratelimit by header X-Tenant 1 per 1s', 'auth idp; ratelimit by user 1 per 1s', 'auth idp; ratelimit by claim tid 1 per 1s']) assert.deepEqual(diags(s), [], s)
  assert.deepEqual(diags('ratelimit by ip 1 per 1s; ratelimit by ip 1 per 1s'), [unused,
    'E0102 the same rate limit is given twice in route `r` [same key, limit and window as an earlier one] (remove one of them; to count two ways, key them differently or give them different windows)'])
  assert.deepEqual(diags('ratelimit by ip 1 per 1s; ratelimit by ip 1 per 1s redis'), [unused], 'a local and a Redis limiter are two buckets')
})
