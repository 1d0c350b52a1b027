// test/issues/11-core-names-no-policy.test.ts: the core names no policy kind (issue 11). What the grammar says
// about characters the language has no token for in a policy's statement (`claim sub -> X`, `50/s`) comes from
// that statement's syntax declaration (`lexHints`), so a grammar without the policy gives only the generic advice
// and a policy registered only here gets its own hint.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { Diagnostics } from '../../grammar/index.js'
import { POLICIES, PolicyRegistry, REGISTRY } from '../../compiler/policies.js'
import { string, type CompilePolicy } from '../../compiler/policy-api.js'
import type * as A from '../../grammar/ast.js'

const lexError = (policies: PolicyRegistry, text: string) => {
  const d = new Diagnostics()
  policies.grammar.parseFile(text, 'p.gwp', d)
  return d.sorted().find(x => x.code === 'E0001')
}

const JWT = 'jwt idp {\n  issuer "https://id.example.com/"\n  forward claim sub -> X-User-Id\n}\n'
const RATE = 'route r {\n  match path prefix "/"\n  ratelimit by ip 50/s\n  respond 200\n}\n'

test('the `forward claim` arrow hint is the jwt declaration\'s: without `auth` the grammar gives the generic advice', () => {
  assert.equal(lexError(REGISTRY, JWT)?.hint, 'a claim is forwarded `as` a header: `claim sub as X-User-Id`')
  assert.equal(lexError(new PolicyRegistry(POLICIES.filter(p => p.kind !== 'auth')), JWT)?.hint, 'remove it, or put it inside a string')
})

test('the `50/s` hint is the ratelimit statement\'s: without `ratelimit` the grammar gives the generic advice', () => {
  assert.equal(lexError(REGISTRY, RATE)?.hint, 'a rate is written `N per WINDOW`: `50 per 1s`')
  assert.equal(lexError(new PolicyRegistry(POLICIES.filter(p => p.kind !== 'ratelimit')), RATE)?.hint, 'hosts, paths and URLs are strings: put them in double quotes')
})

interface StampStmt { kind: 'stamp'; value: A.StrV; span: A.Span }
const stamp = {
  ...POLICIES.find(p => p.kind === 'headers')!,
  kind: 'stamp',
  syntax: {
    keyword: 'stamp', pieces: [string('value')], build: (f, span): StampStmt => ({ kind: 'stamp', value: f.value as A.StrV, span }),
    lexHints: [(bad, before) => (bad === '@' && /stamp\s*$/.test(before) ? 'a stamp is a string: `stamp "v1"`' : undefined)],
  },
} as CompilePolicy

test('a policy registered only here gets its own hint for characters its statement has no token for', () => {
  const text = 'route r {\n  match path prefix "/"\n  stamp @v1\n  respond 200\n}\n'
  assert.equal(lexError(new PolicyRegistry([...POLICIES, stamp]), text)?.hint, 'a stamp is a string: `stamp "v1"`')
  assert.equal(lexError(REGISTRY, text)?.hint, 'remove it, or put it inside a string')
})

test('E0202 says "unknown provider": `auth` names `keys` providers as well as `jwt` ones', () => {
  const text = 'keys partners {\n  file "keys.json"\n}\n\nroute r {\n  match path prefix "/"\n  auth partnerz\n  respond 200\n}\n'
  const e = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) }).diagnostics.find(d => d.code === 'E0202')
  assert.deepEqual([e?.message, e?.label, e?.hint], ['unknown provider `partnerz`', 'no provider of this name is declared', 'did you mean `partners`?'])
})
