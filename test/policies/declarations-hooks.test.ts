// test/policies/declarations-hooks.test.ts: the compile halves of the two auth provider declarations,
// policies/auth/jwt.ts (`jwt NAME { … }`) and policies/auth/keys.ts (`keys NAME { … }`), through the tools a user
// runs, in-process and compared whole: each statement's syntax (build) read into the checked IR, `gwc fmt` of every
// statement in a non-canonical spelling (print), `gwc diff` between versions differing in one field at a time
// (changes: each field's key and text; summary: a provider added or removed; `what`: the summary line), the
// identity headers a provider makes (identityHeaders: `gwc explain`'s first step, the diff's identity headers),
// the `forward claim sub -> X-User` lexer hint, every diagnostic the keys check words (code, line:col, the
// underlined text, message, label, hint, notes), and `gwc convert` of the YAML `keys:` and `jwt:` mappings.
// What policies/auth/check.ts words about a `jwt` block is pinned by test/issues/14-policy-checks.test.ts, the
// `auth` stage's own describe and diff by compile-hooks.test.ts. The mutation run (lab/mutation, area policies)
// runs it last for jwt.ts and keys.ts.
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { memoryHost } from '../../compiler/sources.js'
import { convertYaml } from '../../compiler/tools/convert.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest, parseExplainRequest, renderExplainText } from '../../compiler/tools/explain.js'
import { formatSource } from '../../compiler/tools/fmt.js'
import type { BundleIR } from '../../config/ir.js'
import type { Diagnostic } from '../../grammar/index.js'

/** One diagnostic on one line: `severity code line:col+len «underlined text»: message | label | hint | note …`. */
function show(d: Diagnostic, lines: string[]): string {
  const at = (line: number, col: number, len: number) => `${line}:${col}+${len} «${lines[line - 1].slice(col - 1, col - 1 + len)}»`
  assert.deepEqual(Object.keys(d).filter(k => !['code', 'severity', 'message', 'file', 'line', 'col', 'len', 'label', 'hint', 'notes'].includes(k)), [])
  return [
    `${d.severity} ${d.code} ${at(d.line, d.col, d.len)}: ${d.message}`,
    d.label !== undefined ? `label: ${d.label}` : undefined,
    d.hint !== undefined ? `hint: ${d.hint}` : undefined,
    ...(d.notes ?? []).map(n => `note ${at(n.line, n.col, n.len)}: ${n.message}`),
  ].filter(x => x !== undefined).join(' | ')
}

/** Compiles `text` as conf/p.gwp (or .yaml): every diagnostic but W0709 (a provider no route uses), and the IR. */
function run(text: string, file = 'conf/p.gwp'): { diags: string[]; ir: BundleIR | undefined } {
  const r = compile([file], { host: memoryHost({ [file]: text }), frontEnds: FRONT_ENDS })
  const lines = text.split('\n')
  return { diags: r.diagnostics.filter(d => d.code !== 'W0709').map(d => { assert.equal(d.file, file); return show(d, lines) }), ir: r.ir }
}

/** The declarations' IR (positions left out) and the identity headers they make, or null when there were errors. */
const declared = (ir: BundleIR | undefined) => (ir === undefined ? null : {
  declarations: ir.declarations.map(x => { const { source, ...rest } = x as typeof x & { source: unknown }; assert.ok(source); return rest }),
  identityHeaders: ir.identityHeaders,
})

/** `gwc fmt` of a whole file: no diagnostics, the canonical text, which formats to itself. */
function fmt(text: string): string {
  const r = formatSource(text, 'p.gwp')
  assert.deepEqual(r.diagnostics.map(d => show(d, text.split('\n'))), [])
  assert.equal(formatSource(r.formatted!, 'p.gwp').formatted, r.formatted)
  return r.formatted!
}

// ── jwt ─────────────────────────────────────────────────────────────────────────────────────────────

const JWT_COMMON = { refreshAheadMs: 30000, unknownKidCooldownMs: 30000, fetchTimeoutMs: 3000, algorithms: ['RS256', 'ES256', 'EdDSA'], audience: [], leewayMs: 30000, forward: [], tokenCacheSize: 10000 }

test('jwt: every statement, spelt loosely, read into the IR and printed canonically by gwc fmt', () => {
  const loose = `jwt   idp   {
  issuer   "https://id.example.com/\\u{41}"
  jwks "https://id.example.com/jwks.json"   timeout 2s  refresh 5m max_stale 20m refresh_ahead 10s unknown_kid_cooldown 1m
  algorithms RS256,ES256   PS256
  audience "api",   "web" "x\\u{1}"
  leeway  010s
  cache   01000
  forward claim sub as X-User,
    claim "tid" as "X-Tenant" ,claim  a-b as x-c
  forward claim  org   as X-Org
}
jwt j { issuer "https://j/"; jwks "https://j/k" }
`
  const canonical = `jwt idp {
  issuer "https://id.example.com/A"
  jwks "https://id.example.com/jwks.json" timeout 2s refresh 5m max_stale 20m refresh_ahead 10s unknown_kid_cooldown 1m
  algorithms RS256 ES256 PS256
  audience "api" "web" "x\\u{01}"
  leeway 010s
  cache 01000
  forward claim sub as X-User, claim "tid" as "X-Tenant", claim a-b as x-c
  forward claim org as X-Org
}

jwt j {
  issuer "https://j/"
  jwks "https://j/k"
}
`
  assert.equal(fmt(loose), canonical)
  for (const [text, at] of [[loose, '12:30'], [canonical, '14:3']]) {
    const r = run(text)
    assert.deepEqual(r.diags, [`warning W0705 ${at}+4 «jwks»: jwks of jwt \`j\` has no refresh interval | label: keys will be refetched every 5m by default | hint: say how often keys rotate: \`jwks "…" refresh 5m\``])
    assert.deepEqual(declared(r.ir), {
      declarations: [{
        kind: 'jwt', name: 'idp', issuer: 'https://id.example.com/A', jwksUrl: 'https://id.example.com/jwks.json', refreshMs: 300000, refreshAheadMs: 10000,
        unknownKidCooldownMs: 60000, maxStaleMs: 1200000, fetchTimeoutMs: 2000, algorithms: ['RS256', 'ES256', 'PS256'], audience: ['api', 'web', 'x\u0001'],
        leewayMs: 10000, forward: [{ claim: 'sub', header: 'x-user' }, { claim: 'tid', header: 'x-tenant' }, { claim: 'a-b', header: 'x-c' }, { claim: 'org', header: 'x-org' }],
        tokenCacheSize: 1000,
      }, { ...JWT_COMMON, kind: 'jwt', name: 'j', issuer: 'https://j/', jwksUrl: 'https://j/k', refreshMs: 300000, maxStaleMs: 900000 }],
      identityHeaders: ['x-c', 'x-org', 'x-tenant', 'x-user'],
    })
  }
  // each statement on its own, as `gwc fmt` prints it
  const one = (stmt: string) => fmt(`jwt j {\n${stmt}\n}\n`).split('\n').slice(1, -2)
  assert.deepEqual(one('issuer "a\\"b"'), ['  issuer "a\\"b"'])
  assert.deepEqual(one('jwks  "https://j/k"'), ['  jwks "https://j/k"'])
  assert.deepEqual(one('algorithms EdDSA'), ['  algorithms EdDSA'])
  assert.deepEqual(one('audience  "a"'), ['  audience "a"'])
  assert.deepEqual(one('leeway 0s'), ['  leeway 0s'])
  assert.deepEqual(one('cache 0'), ['  cache 0'])
  assert.deepEqual(one('forward  claim "a b"  as  X-A'), ['  forward claim "a b" as X-A'])
  // the declaration's name in messages: `jwt provider`
  assert.deepEqual(run('jwt j { issuer "https://j/"; jwks "https://j/k" refresh 1m }\njwt j { issuer "https://k/"; jwks "https://k/k" refresh 1m }\n').diags, [
    'error E0101 2:5+1 «j»: jwt provider `j` is declared twice | label: declared again here | hint: rename one of them; jwt provider names are shared by all files of a policy set | note 1:5+1 «j»: first declared here',
  ])
})

test('jwt: `claim sub -> X-User` (and `=>`, `=`, `:`) is told the claim is forwarded `as` the header', () => {
  const jwt = (stmt: string) => `jwt idp {\n  issuer "https://i/"\n  jwks "https://i/k" refresh 5m\n${stmt}\n}\n`
  const hint = (col: number, bad: string, claim: string, header: string) =>
    `error E0001 4:${col}+${bad.length} «${bad}»: unexpected character${bad.length > 1 ? 's' : ''} \`${bad}\` | hint: a claim is forwarded \`as\` a header: \`claim ${claim} as ${header}\``
  const cases: [string, string[]][] = [
    ['  forward claim sub -> X-User', [hint(21, '->', 'sub', 'X-User')]],
    ['  forward claim sub => X-User', [hint(21, '=>', 'sub', 'X-User')]],
    ['  forward claim sub = X-User', [hint(21, '=', 'sub', 'X-User')]],
    ['  forward claim sub : X-User', [hint(21, ':', 'sub', 'X-User')]],
    // the claim after `forward`, or after a `,` on the line or at the start of a wrapped line
    ['  forward claim sub as X-User, claim tid -> X-T', [hint(42, '->', 'tid', 'X-T')]],
    ['  forward claim sub as X-User,claim tid -> X-T', [hint(41, '->', 'tid', 'X-T')]],
    ['forward claim sub as X-User,\nclaim tid -> X-T', ['error E0001 5:11+2 «->»: unexpected characters `->` | hint: a claim is forwarded `as` a header: `claim tid as X-T`']],
    // blanks around the claim and the arrow, or none
    ['  forward claim  sub ->X-User', [hint(22, '->', 'sub', 'X-User')]],
    ['  forward  claim sub  ->   X-User', [hint(23, '->', 'sub', 'X-User')]],
    ['  forward claim "sub"-> X-User', [hint(22, '->', '"sub"', 'X-User')]],
    // no header name after the arrow: a placeholder
    ['  forward claim sub -> "X-User"', [hint(21, '->', 'sub', 'X-Header')]],
    ['  forward claim sub ->', [hint(21, '->', 'sub', 'X-Header')]],
    // not right after a claim name, or other characters: the lexer's own hint
    ['  forward claim sub as X-User ->', ['error E0001 4:31+2 «->»: unexpected characters `->` | hint: remove it, or put it inside a string']],
    ['  forward claim sub @ X-User', ['error E0001 4:21+1 «@»: unexpected character `@` | hint: remove it, or put it inside a string', 'error E0002 4:23+6 «X-User»: expected `as`, found `X-User`']],
    ['  forward claim sub- > X-User', ['error E0001 4:22+1 «>»: unexpected character `>` | hint: remove it, or put it inside a string', 'error E0002 4:24+6 «X-User»: expected `as`, found `X-User`']],
    ['  forward xclaim sub -> X', [
      'error E0002 4:11+6 «xclaim»: expected `claim` or end of line after `forward`, found `xclaim` | hint: did you mean `claim`?',
      'error E0001 4:22+2 «->»: unexpected characters `->` | hint: remove it, or put it inside a string',
    ]],
    ['  leeway -> 1s', ['error E0001 4:10+2 «->»: unexpected characters `->` | hint: remove it, or put it inside a string']],
  ]
  for (const [stmt, diags] of cases) assert.deepEqual(run(jwt(stmt)).diags, diags, stmt)
})

const DIFF_BASE = `jwt idp {
  issuer "https://id.example.com/"
  jwks "https://id.example.com/jwks.json" refresh 5m refresh_ahead 10s unknown_kid_cooldown 1m max_stale 20m timeout 2s
  algorithms RS256 ES256
  audience "api"
  leeway 10s
  cache 1000
  forward claim sub as X-User
}
keys partners {
  file "/srv/keys.txt"
  forward consumer as X-Consumer
}
upstream a { replicas 10.0.0.1:80 }
route r { match path prefix "/"; auth idp or partners; timeout 1s; proxy a }
`
/** The checked IR of `text`, which has no diagnostics but a query parameter's W0750. */
function bundle(text: string): BundleIR {
  const r = run(text)
  assert.deepEqual(r.diags.filter(d => !d.startsWith('warning W0750 ')), [])
  return r.ir!
}
const diffBase = bundle(DIFF_BASE)
/** `gwc diff` from DIFF_BASE to DIFF_BASE with each [from, to] replacement made (each `from` must occur). */
function diff(...subs: [string, string][]): string {
  let t = DIFF_BASE
  for (const [a, b] of subs) { assert.ok(t.includes(a), a); t = t.replace(a, b) }
  return renderDiffText(diffIr(diffBase, bundle(t)))
}
const jwtChanged = (...rows: string[]) => ['jwt providers: 1 changed', '~ jwt idp', ...rows.map(r => '    ' + r)].join('\n') + '\n'
const keysChanged = (...rows: string[]) => ['keys providers: 1 changed', '~ keys partners', ...rows.map(r => '    ' + r)].join('\n') + '\n'

test('jwt: gwc diff names each field of the provider that changed, and the identity headers its forwards make', () => {
  assert.equal(diff(['"https://id.example.com/"', '"https://id2.example.com/"']), jwtChanged('issuer  https://id.example.com/ → https://id2.example.com/'))
  assert.equal(diff(['"https://id.example.com/jwks.json"', '"https://id.example.com/keys"']), jwtChanged('jwks  https://id.example.com/jwks.json → https://id.example.com/keys'))
  assert.equal(diff(['refresh 5m', 'refresh 10m']), jwtChanged('refresh  5m → 10m'))
  assert.equal(diff(['refresh_ahead 10s', 'refresh_ahead 20s']), jwtChanged('refresh_ahead  10s → 20s'))
  assert.equal(diff(['unknown_kid_cooldown 1m', 'unknown_kid_cooldown 2m']), jwtChanged('unknown_kid_cooldown  1m → 2m'))
  assert.equal(diff(['max_stale 20m', 'max_stale 1h']), jwtChanged('max_stale  20m → 1h'))
  assert.equal(diff(['timeout 2s', 'timeout 500ms']), jwtChanged('jwks timeout  2s → 500ms'))
  assert.equal(diff(['algorithms RS256 ES256', 'algorithms RS256 EdDSA']), jwtChanged('algorithms  RS256, ES256 → RS256, EdDSA (+EdDSA -ES256)'))
  // the provider's audience is also what its `auth` stages check when they name none
  assert.equal(diff(['audience "api"', 'audience "api", "web"']),
    'routes: 1 changed; jwt providers: 1 changed\n~ route r\n    stage 1  auth idp or partners: audience api → api, web (+web)\n~ jwt idp\n    audience  api → api, web (+web)\n')
  assert.equal(diff(['  audience "api"\n', '']),
    'routes: 1 changed; jwt providers: 1 changed\n~ route r\n    stage 1  auth idp or partners: audience api → none (-api)\n~ jwt idp\n    audience  api → none (-api)\n')
  assert.equal(diff(['leeway 10s', 'leeway 0s']), jwtChanged('leeway  10s → 0ms'))
  assert.equal(diff(['cache 1000', 'cache 0']), jwtChanged('cache  1000 → 0'))
  // a forward is its claim and its header; a new header is a new identity header
  assert.equal(diff(['forward claim sub as X-User', 'forward claim uid as X-User']), jwtChanged('forward  sub as x-user → uid as x-user (+uid as x-user -sub as x-user)'))
  assert.equal(diff(['forward claim sub as X-User', 'forward claim sub as X-Sub']),
    jwtChanged('forward  sub as x-user → sub as x-sub (+sub as x-sub -sub as x-user)').replace('changed\n', 'changed; identity headers changed\n') +
    '~ identity headers: x-consumer, x-user → x-consumer, x-sub (+x-sub -x-user)\n')
  assert.equal(diff(['forward claim sub as X-User', 'forward claim tid as X-Tenant\n  forward claim sub as X-User']),
    'jwt providers: 1 changed; identity headers changed\n~ jwt idp\n    forward  sub as x-user → tid as x-tenant, sub as x-user (+tid as x-tenant)\n' +
    '~ identity headers: x-consumer, x-user → x-consumer, x-tenant, x-user (+x-tenant)\n')
  assert.equal(diff(['  forward claim sub as X-User\n', '']),
    'jwt providers: 1 changed; identity headers changed\n~ jwt idp\n    forward  sub as x-user → none (-sub as x-user)\n~ identity headers: x-consumer, x-user → x-consumer (-x-user)\n')
  // several fields: one row each, in the hook's order, aligned
  assert.equal(diff(['"https://id.example.com/"', '"https://i/"'], ['timeout 2s', 'timeout 3s'], ['cache 1000', 'cache 5'], ['leeway 10s', 'leeway 1m'], ['algorithms RS256 ES256', 'algorithms RS256']),
    jwtChanged('issuer        https://id.example.com/ → https://i/', 'jwks timeout  2s → 3s', 'algorithms    RS256, ES256 → RS256 (-ES256)', 'leeway        10s → 1m', 'cache         1000 → 5'))
  // the same values spelt otherwise, or listed in another order, change nothing
  assert.equal(diff(['algorithms RS256 ES256', 'algorithms ES256, RS256'], ['leeway 10s', 'leeway 10000ms'], ['cache 1000', 'cache 01000'], ['refresh 5m', 'refresh 300s']), 'no behaviour changes\n')
  // a provider added or removed: its issuer
  const idp2: [string, string][] = [['jwt idp {', 'jwt idp2 { issuer "https://x/"; jwks "https://x/k" refresh 1m }\njwt idp {'], ['or partners;', 'or partners or idp2;']]
  assert.equal(diff(...idp2), 'routes: 1 changed; jwt providers: 1 added\n~ route r\n    stage 1  auth idp or partners or idp2: or partners → partners, idp2\n+ jwt idp2  issuer https://x/\n')
  assert.equal(renderDiffText(diffIr(bundle(DIFF_BASE.replace(idp2[0][0], idp2[0][1]).replace(idp2[1][0], idp2[1][1])), diffBase)),
    'routes: 1 changed; jwt providers: 1 removed\n~ route r\n    stage 1  auth idp or partners: or partners, idp2 → partners\n- jwt idp2  issuer https://x/\n')
})

// ── keys ────────────────────────────────────────────────────────────────────────────────────────────

/** Line 1 `keys k {`, then the statements one a line from line 2. */
const keys = (stmts: string[]) => `keys k {\n${stmts.map(s => `  ${s}\n`).join('')}}\n`
const KEY = { kind: 'keys', name: 'k', store: { kind: 'file', path: '/srv/k.txt' }, key: { in: 'header', name: 'x-api-key' }, forwardConsumer: null }
const W0750 = (q: string, line = 3, col = 3, name = 'k') => `warning W0750 ${line}:${col}+5 «query»: keys \`${name}\` reads API keys from the query parameter \`${q}\` | label: URLs end up in access logs, proxies and browser history | hint: prefer a header (\`header X-Api-Key\`); the gateway removes the parameter before proxying, but not from logs before it`

test('keys: every statement read into the IR (the file relative to the declaring file, the default header) and printed canonically', () => {
  const check = (stmts: string[], ir: Record<string, unknown>, identityHeaders: string[] = [], diags: string[] = []) => {
    const r = run(keys(stmts))
    assert.deepEqual({ diags: r.diags, ...declared(r.ir) }, { diags, declarations: [{ ...KEY, ...ir }], identityHeaders }, stmts.join('; '))
  }
  check(['file "/srv/k.txt"'], {})
  check(['file "k.txt"'], { store: { kind: 'file', path: resolve('conf', 'k.txt') } })
  check(['file "../keys/k.txt"'], { store: { kind: 'file', path: resolve('keys', 'k.txt') } })
  check(['redis "gwp:keys:partners"'], { store: { kind: 'redis', hash: 'gwp:keys:partners' } })
  check([`redis "${'h'.repeat(256)}"`], { store: { kind: 'redis', hash: 'h'.repeat(256) } })
  check(['file "/srv/k.txt"', 'header X-Key'], { key: { in: 'header', name: 'x-key' } })
  check(['header "X-Key"', 'file "/srv/k.txt"'], { key: { in: 'header', name: 'x-key' } })
  check(['file "/srv/k.txt"', 'query api_key'], { key: { in: 'query', name: 'api_key' } }, [], [W0750('api_key')])
  check(['file "/srv/k.txt"', 'query "a.b_c~d-E9"'], { key: { in: 'query', name: 'a.b_c~d-E9' } }, [], [W0750('a.b_c~d-E9')])
  check(['file "/srv/k.txt"', `query ${'q'.repeat(64)}`], { key: { in: 'query', name: 'q'.repeat(64) } }, [], [W0750('q'.repeat(64))])
  check(['file "/srv/k.txt"', 'forward consumer as X-Consumer'], { forwardConsumer: 'x-consumer' }, ['x-consumer'])
  // the consumer may be forwarded under the query parameter's name: it is a header, the key is not
  check(['file "/srv/k.txt"', 'query x-c', 'forward consumer as X-C'], { key: { in: 'query', name: 'x-c' }, forwardConsumer: 'x-c' }, ['x-c'], [W0750('x-c')])
  check(['file "/srv/k.txt"', 'header X-Key', 'forward consumer as X-Api-Key'], { key: { in: 'header', name: 'x-key' }, forwardConsumer: 'x-api-key' }, ['x-api-key'])

  assert.equal(fmt('keys   k {  file  "k.txt" ;header   "X-Key"\n   forward   consumer   as  "X-C" }\nkeys l { redis  "h\\u{41}";  query  api_key }\nkeys m { forward consumer as X-M }\n'),
    'keys k {\n  file "k.txt"\n  header "X-Key"\n  forward consumer as "X-C"\n}\n\nkeys l {\n  redis "hA"\n  query api_key\n}\n\nkeys m {\n  forward consumer as X-M\n}\n')
  // the declaration's name in messages: `keys provider`; `keys` and `jwt` share one namespace
  assert.deepEqual(run('keys k { file "/a" }\nkeys k { file "/b" }\njwt k { issuer "https://j/"; jwks "https://j/k" refresh 1m }\n').diags, [
    'error E0101 2:6+1 «k»: keys provider `k` is declared twice | label: declared again here | hint: rename one of them; keys provider names are shared by all files of a policy set | note 1:6+1 «k»: first declared here',
    'error E0101 3:5+1 «k»: jwt provider `k` is declared twice | label: declared again here | hint: rename one of them; jwt provider names are shared by all files of a policy set | note 1:6+1 «k»: first declared here',
  ])
})

test('keys: every diagnostic of the block, whole, and no IR after an error', () => {
  const E0104 = 'error E0104 1:6+1 «k»: keys `k` has no `file` | label: no keys to check requests against | hint: add `file "keys.txt"` and add keys with `gwc keys add keys.txt CONSUMER` (or keep them in Redis: `redis "HASH"`)'
  const noFile = (s: string) => `error E0306 2:8+${s.length} «${s}»: the keys file must be a file name | hint: write the path of the file \`gwc keys add\` writes, e.g. \`file "keys.txt"\``
  const noHash = (s: string) => `error E0306 2:9+${s.length} «${s}»: the Redis hash must be a key name without white space | hint: e.g. \`redis "gwp:keys:partners"\``
  const twice = (what: string, len: number, line = 3) =>
    `error E0102 ${line}:3+${len} «${what}»: \`${what}\` is given twice in keys \`k\` | label: given again here | hint: keep one of them | note ${line - 1}:3+${len} «${what}»: first given here`
  const query = (col: number, q: string) =>
    `error E0306 3:${col}+${q.length} «${q}»: \`${q.replace(/^"|"$/g, '')}\` cannot be a query parameter name here | label: not a plain name | hint: use letters, digits, \`.\`, \`_\`, \`~\` and \`-\``
  const owned = (h: string) => `error E0306 3:23+${h.length} «${h}»: the consumer cannot be forwarded as \`${h}\` | label: the gateway owns this header | hint: forward it as an \`X-…\` header`
  const sameHeader = 'error E0306 1:6+1 «k»: keys `k` forwards the consumer in the header it reads keys from | hint: forward the consumer as another header'
  const cases: [string[], string[]][] = [
    [[], [E0104]],
    [['header X-Key'], [E0104]],
    [['forward consumer as X-C'], [E0104]],
    [['file ""'], [noFile('""')]],
    [['file "a\\nb"'], [noFile('"a\\nb"')]],
    [['file "a\\u{0}b"'], [noFile('"a\\u{0}b"')]],
    [['redis ""'], [noHash('""')]],
    [['redis "a b"'], [noHash('"a b"')]],
    [['redis "a\\tb"'], [noHash('"a\\tb"')]],
    [['redis "a\\u{0}"'], [noHash('"a\\u{0}"')]],
    [[`redis "${'h'.repeat(257)}"`], [noHash(`"${'h'.repeat(257)}"`)]],
    // one store: the second is reported, whichever comes first and also when the first was refused; checking goes on
    [['file "/a"', 'redis "h"', 'header "a b"'], [
      'error E0453 3:3+5 «redis»: keys `k` keeps its keys in both `file` and `redis` | label: a second store | hint: keep one: a keys file for one gateway, a Redis hash for a fleet | note 2:3+4 «file»: first given here',
      'error E0306 4:10+5 «"a b"»: `a b` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)',
    ]],
    [['redis "h"', 'file "/a"'], ['error E0453 3:3+4 «file»: keys `k` keeps its keys in both `redis` and `file` | label: a second store | hint: keep one: a keys file for one gateway, a Redis hash for a fleet | note 2:3+5 «redis»: first given here']],
    [['redis ""', 'file "/a"'], [noHash('""'), 'error E0453 3:3+4 «file»: keys `k` keeps its keys in both `redis` and `file` | label: a second store | hint: keep one: a keys file for one gateway, a Redis hash for a fleet | note 2:3+5 «redis»: first given here']],
    [['file ""', 'redis "h"'], [noFile('""'), 'error E0453 3:3+5 «redis»: keys `k` keeps its keys in both `file` and `redis` | label: a second store | hint: keep one: a keys file for one gateway, a Redis hash for a fleet | note 2:3+4 «file»: first given here']],
    [['file "/a"', 'file ""'], [twice('file', 4)]],
    [['redis "h"', 'redis ""'], [twice('redis', 5)]],
    // one place for the key
    [['file "/a"', 'header X-K', 'query q'], ['error E0450 4:3+5 «query»: keys `k` reads its key from both `header` and `query` | label: a second place for the key | hint: keep one: a request presents its key in one place | note 3:3+6 «header»: first given here']],
    [['file "/a"', 'query q', 'header X-K'], [W0750('q'), 'error E0450 4:3+6 «header»: keys `k` reads its key from both `query` and `header` | label: a second place for the key | hint: keep one: a request presents its key in one place | note 3:3+5 «query»: first given here']],
    [['file "/a"', 'header X-K', 'header X-L'], [twice('header', 6, 4)]],
    [['file "/a"', 'query q', 'query r'], [W0750('q'), twice('query', 5, 4)]],
    [['file "/a"', 'header "a b"'], ['error E0306 3:10+5 «"a b"»: `a b` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)']],
    [['file "/a"', 'header Content-Length'], ['error E0306 3:10+14 «Content-Length»: header `Content-Length` cannot be changed by a policy | label: the gateway manages this header | hint: framing, hop-by-hop, request-id and trace headers are set by the gateway itself']],
    [['file "/a"', 'query "a b"'], [query(9, '"a b"')]],
    [['file "/a"', 'query ""'], [query(9, '""')]],
    [['file "/a"', 'query "a?"'], [query(9, '"a?"')]],
    [['file "/a"', 'query "b a"'], [query(9, '"b a"')]],
    [['file "/a"', `query ${'q'.repeat(65)}`], [query(9, 'q'.repeat(65))]],
    // the consumer's header
    [['file "/a"', 'forward consumer as Authorization'], [owned('Authorization')]],
    [['file "/a"', 'forward consumer as X-Request-Id'], [owned('X-Request-Id')]],
    [['file "/a"', 'forward consumer as "a b"'], ['error E0306 3:23+5 «"a b"»: `a b` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)']],
    [['file "/a"', 'forward consumer as X-C', 'forward consumer as X-D'], [twice('forward', 7, 4)]],
    [['file "/a"', 'forward consumer as X-Api-Key'], [sameHeader]],
    [['file "/a"', 'header X-K', 'forward consumer as x-k'], [sameHeader]],
    [['file "/a"', 'forward consumer as x-k', 'header "X-K"'], [sameHeader]],
  ]
  for (const [stmts, diags] of cases) assert.deepEqual(run(keys(stmts)), { diags, ir: undefined }, stmts.join('; '))
})

test('keys: gwc diff names the store, the key\'s place and the forwarded consumer; a provider added or removed reads as its summary', () => {
  assert.equal(diff(['"/srv/keys.txt"', '"/srv/other.txt"']), keysChanged('store  file /srv/keys.txt → file /srv/other.txt'))
  assert.equal(diff(['file "/srv/keys.txt"', 'redis "gwp:keys"']), keysChanged('store  file /srv/keys.txt → redis hash gwp:keys'))
  assert.equal(diff(['file "/srv/keys.txt"', 'file "/srv/keys.txt"; header X-Key']), keysChanged('key  header x-api-key → header x-key'))
  assert.equal(diff(['file "/srv/keys.txt"', 'file "/srv/keys.txt"; query api_key']), keysChanged('key  header x-api-key → query api_key'))
  assert.equal(diff(['file "/srv/keys.txt"', 'file "/srv/keys.txt"; header x-api-key']), 'no behaviour changes\n')
  assert.equal(diff(['consumer as X-Consumer', 'consumer as X-Partner']),
    'keys providers: 1 changed; identity headers changed\n~ keys partners\n    forward consumer  x-consumer → x-partner\n~ identity headers: x-consumer, x-user → x-partner, x-user (+x-partner -x-consumer)\n')
  assert.equal(diff(['  forward consumer as X-Consumer\n', '']),
    'keys providers: 1 changed; identity headers changed\n~ keys partners\n    forward consumer  x-consumer → none\n~ identity headers: x-consumer, x-user → x-user (-x-consumer)\n')
  assert.equal(diff(['file "/srv/keys.txt"', 'redis "h"; query k'], ['consumer as X-Consumer', 'consumer as X-User']),
    'keys providers: 1 changed; identity headers changed\n~ keys partners\n    store             file /srv/keys.txt → redis hash h\n    key               header x-api-key → query k\n    forward consumer  x-consumer → x-user\n~ identity headers: x-consumer, x-user → x-user (-x-consumer)\n')
  // added, removed, and a name that changed kind (jwt ↔ keys): removed and added
  const p2: [string, string][] = [['keys partners {', 'keys p2 { redis "h"; query k }\nkeys p3 { file "/k"; header X-K }\nkeys partners {'], ['or partners', 'or partners or p2 or p3']]
  const more = DIFF_BASE.replace(p2[0][0], p2[0][1]).replace(p2[1][0], p2[1][1])
  assert.equal(renderDiffText(diffIr(diffBase, bundle(more))),
    'routes: 1 changed; keys providers: 2 added\n~ route r\n    stage 1  auth idp or partners or p2 or p3: or partners → partners, p2, p3\n+ keys p2  query k, redis hash h\n+ keys p3  header x-k, file /k\n')
  assert.equal(renderDiffText(diffIr(bundle(more), diffBase)),
    'routes: 1 changed; keys providers: 2 removed\n~ route r\n    stage 1  auth idp or partners: or partners, p2, p3 → partners\n- keys p2  query k, redis hash h\n- keys p3  header x-k, file /k\n')
  const swapped = bundle(DIFF_BASE.replace('jwt idp {', 'keys idp { file "/srv/i.txt" }\njwt idp0 {').replace('auth idp or', 'auth idp0 or idp or'))
  assert.equal(renderDiffText(diffIr(diffBase, swapped)), [
    'routes: 1 changed; jwt providers: 1 added, 1 removed; keys providers: 1 added',
    '~ route r', '    stage 1 (old)  removed: auth idp or partners', '    stage 1        added: auth idp0 or idp or partners',
    '+ jwt idp0  issuer https://id.example.com/', '- jwt idp  issuer https://id.example.com/', '+ keys idp  header x-api-key, file /srv/i.txt', '',
  ].join('\n'))
})

test('explain: the identity headers both providers make are removed first; a keys provider reads the default header', () => {
  const text = DIFF_BASE.replace('auth idp or partners', 'auth partners') + 'keys dflt { file "k.txt" }\nroute d { match path prefix "/d"; auth dflt; timeout 1s; proxy a }\n'
  const ir = bundle(text)
  assert.deepEqual(ir.identityHeaders, ['x-consumer', 'x-user'])
  const explain = (url: string, headers: string[]) => {
    const req = parseExplainRequest(`GET http://h${url}`, headers)
    assert.ok(typeof req !== 'string', req as string)
    const lines = renderExplainText(explainRequest(ir, req)).split('\n')
    return lines.slice(lines.findIndex(l => l.startsWith('pipeline of')), -1).slice(0, 5)
  }
  assert.deepEqual(explain('/x', ['X-User: u', 'X-Consumer: c', 'X-Api-Key: k']), [
    'pipeline of r:',
    '  1. remove client-sent identity headers x-consumer, x-user',
    '     ↳ this request\'s x-consumer, x-user are dropped',
    '  2. timeout 1s to response headers (then 504); request body at most 16MB (else 413)',
    '  3. auth partners: API key in header x-api-key (SHA-256 hashes in /srv/keys.txt); forwards the consumer as x-consumer; no valid key → 401',
  ])
  assert.deepEqual(explain('/d/x', []), [
    'pipeline of d:',
    '  1. remove client-sent identity headers x-consumer, x-user',
    '  2. timeout 1s to response headers (then 504); request body at most 16MB (else 413)',
    `  3. auth dflt: API key in header x-api-key (SHA-256 hashes in ${resolve('conf', 'k.txt')}); no valid key → 401`,
    '     ↳ this request has no `x-api-key` header: the gateway would answer 401 here',
  ])
})

// ── YAML ────────────────────────────────────────────────────────────────────────────────────────────

test('YAML: `keys:` and `jwt:` convert to the blocks the .gwp writes, with the same IR', () => {
  const yaml = `jwt:
  idp:
    issuer: "https://i/"
    jwks: "https://i/k"
    refresh: 5m
    fetch_timeout: 2s
    max_stale: 20m
    algorithms: [RS256]
    audience: [api, web]
    leeway: 10s
    cache: 100
    forward: { sub: X-User, tid: X-Tenant }
keys:
  a: { file: /srv/k.txt, header: X-K, forward_consumer: X-C }
  b: { redis: "gwp:k", query: api_key }
  c:
    forward_consumer: "X-Partner"
    file: k.txt
  d: { file: 12 }
`
  const gwp = `jwt idp {
  issuer "https://i/"
  jwks "https://i/k" refresh 5m timeout 2s max_stale 20m
  algorithms RS256
  audience "api" "web"
  leeway 10s
  cache 100
  forward claim sub as X-User, claim tid as X-Tenant
}

keys a {
  file "/srv/k.txt"
  header X-K
  forward consumer as X-C
}

keys b {
  redis "gwp:k"
  query api_key
}

keys c {
  file "k.txt"
  forward consumer as X-Partner
}

keys d {
  file "12"
}
`
  assert.deepEqual(convertYaml(yaml, 'p.yaml'), { gwp, diagnostics: [] })
  const y = run(yaml, 'conf/p.yaml'), g = run(gwp)
  assert.deepEqual(y.diags, [W0750('api_key', 15, 24, 'b')])
  assert.deepEqual(g.diags, [W0750('api_key', 19, 3, 'b')])
  assert.deepEqual(declared(y.ir), declared(g.ir))
  assert.deepEqual(declared(g.ir)!.declarations.slice(1).map(d => [d.name, (d as unknown as { store: unknown }).store]),
    [['a', { kind: 'file', path: '/srv/k.txt' }], ['b', { kind: 'redis', hash: 'gwp:k' }], ['c', { kind: 'file', path: resolve('conf', 'k.txt') }], ['d', { kind: 'file', path: resolve('conf', '12') }]])
})

test('YAML: what `keys:` refuses, and where', () => {
  const convert = (yaml: string) => { const r = convertYaml(yaml, 'p.yaml'); return { gwp: r.gwp, diags: r.diagnostics.map(d => show(d, yaml.split('\n'))) } }
  const name = 'error E0306 2:3+5 «"a b"»: `a b` is not a valid keys provider name | label: not a name | hint: names use letters, digits, `_` and `-`, and start with a letter or `_`'
  assert.deepEqual(convert('keys: 3\n'), { gwp: undefined, diags: ['error E0301 1:7+1 «3»: `keys` takes a map, got the number `3` | label: expected a map'] })
  assert.deepEqual(convert('keys:\n  "a b": { file: /k }\n'), { gwp: undefined, diags: [name] })
  assert.deepEqual(convert('keys:\n  a: 3\n'), { gwp: undefined, diags: ['error E0301 2:6+1 «3»: `keys.a` takes a map, got the number `3` | label: expected a map'] })
  assert.deepEqual(convert('keys:\n  "a b": 3\n'), { gwp: undefined, diags: [name, 'error E0301 2:10+1 «3»: `keys.a b` takes a map, got the number `3` | label: expected a map'] })
  assert.deepEqual(convert('keys:\n  a: { flie: /k, file: /k }\n'), { gwp: undefined, diags: ['error E0205 2:8+4 «flie»: unknown key `flie` in `keys.a` | label: not a key here | hint: did you mean `file`?'] })
  const bad = 'keys:\n  a: { file: [1], redis: {x: 1}, header: {a: 1}, query: [q], forward_consumer: {} }\n'
  const shapes = [
    'error E0301 2:14+3 «[1]»: `keys.a.file` takes a file name, got a list | label: expected a file name',
    'error E0301 2:26+6 «{x: 1}»: `keys.a.redis` takes a Redis hash name, got a map | label: expected a Redis hash name',
    'error E0301 2:42+6 «{a: 1}»: `keys.a.header` takes a name, got a map | label: expected a name',
    'error E0301 2:57+3 «[q]»: `keys.a.query` takes a name, got a list | label: expected a name',
    'error E0301 2:80+2 «{}»: `keys.a.forward_consumer` takes a name, got a map | label: expected a name',
  ]
  assert.deepEqual(convert(bad), { gwp: undefined, diags: shapes })
  // `gwc check` goes on to check what was read: none of the five, so no store
  const E0104 = 'error E0104 2:3+1 «a»: keys `a` has no `file` | label: no keys to check requests against | hint: add `file "keys.txt"` and add keys with `gwc keys add keys.txt CONSUMER` (or keep them in Redis: `redis "HASH"`)'
  assert.deepEqual(run(bad, 'conf/p.yaml'), { diags: [E0104, ...shapes], ir: undefined })
  // the checker's diagnostics point into the YAML: a store left out, a bad header name
  assert.deepEqual(run('keys:\n  a: { header: "a b", forward_consumer: X-C }\n', 'conf/p.yaml').diags, [
    E0104,
    'error E0306 2:16+5 «"a b"»: `a b` is not a valid header name | label: header names are tokens | hint: use letters, digits and `-` (e.g. `X-Tenant-Id`)',
  ])
  assert.deepEqual(convert('keys:\n  a: {}\n'), { gwp: 'keys a {}\n', diags: [] })
})
