// test/issues/11-policy-registry.test.ts: policy kinds come from the compiler's registry (compiler/policies.ts).
// A stage kind the registry lacks is a compile error wherever it shows up, never skipped (issue 11 item 8), and a
// policy registered only here — a fake `stamp` kind — goes through check, codegen and the tools like a real one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { checkProgram } from '../../compiler/check/program.js'
import { Diagnostics, type Diagnostic } from '../../grammar/index.js'
import { emitModule } from '../../compiler/codegen/module.js'
import { POLICIES, PolicyRegistry, REGISTRY } from '../../compiler/policies.js'
import { string, type CompilePolicy } from '../../compiler/policy-api.js'
import { memoryHost, type FrontEnd } from '../../compiler/sources.js'
import { describeStage } from '../../compiler/tools/routes.js'
import type { StageIR } from '../../config/ir.js'
import { parseYamlPolicy } from '../../grammar/yaml/policy.js'
import type * as A from '../../grammar/ast.js'

const GWP = `
upstream app { replicas 127.0.0.1:9000 }
route r {
  match path prefix "/"
  timeout 1s
  headers response set X-A "1"
  proxy app
}
`

const without = (kind: string) => new PolicyRegistry(POLICIES.filter(p => p.kind !== kind))
const compileWith = (policies: PolicyRegistry, files: Record<string, string>, entry: string, frontEnds: Record<string, FrontEnd> = {}) =>
  compile([entry], { host: memoryHost(files), policies, frontEnds })

/** Parsed with this gwc's grammar, checked against `policies`: a front end and a registry out of step. */
function checkAgainst(policies: PolicyRegistry, text: string): Diagnostic[] {
  const d = new Diagnostics()
  const { ast } = REGISTRY.grammar.parseFile(text, 'p.gwp', d)
  const { ir } = checkProgram([ast], d, policies)
  if (d.errorCount > 0) assert.equal(ir, undefined)
  return d.sorted()
}

test('a stage whose kind is not registered is an error at the statement, and no IR is produced', () => {
  const e = checkAgainst(without('headers'), GWP).filter(d => d.severity === 'error')
  assert.deepEqual(e.map(d => [d.code, d.line, d.col, d.message]), [['E0404', 6, 3, '`headers` is not a stage this gwc compiles']])
})

test('the same statement in a policy no route uses is reported too', () => {
  const text = GWP.replace('  headers response set X-A "1"\n', '') + 'policy unused { headers request remove X-B }\n'
  const e = checkAgainst(without('headers'), text)
  assert.ok(e.some(d => d.code === 'E0404' && d.message === '`headers` is not a stage this gwc compiles (from policy `unused`)'), JSON.stringify(e))
})

test('a grammar built without a kind reads its statement as a syntax error, with did-you-mean from the registry', () => {
  const r = compileWith(without('headers'), { 'p.gwp': GWP }, 'p.gwp')
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => [d.code, d.line, d.message]), [['E0002', 6, 'expected a route statement, found `headers`']])
  const typo = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': GWP.replace('headers response', 'hedaers response') }) })
  assert.equal(typo.diagnostics.find(d => d.code === 'E0002')?.hint, 'did you mean `headers`?')
  const missing = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': GWP.replace('headers response', 'ratelimit by uesr 1 per 1s\n  headers response') }) })
  assert.equal(missing.diagnostics.find(d => d.code === 'E0002')?.hint, 'did you mean `user`?')
})

test('codegen refuses a stage kind it has no policy for instead of leaving it out', () => {
  const ok = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': GWP }) })
  assert.ok(ok.ir)
  assert.throws(() => emitModule(ok.ir!, [], without('headers')), /no policy of kind `headers`/)
})

test('the tools word a stage of a kind this gwc does not know (from another gwc\'s bundle) instead of dropping it', () => {
  const odd: StageIR = { kind: 'waf', source: { file: 'p.gwp', line: 1, col: 1 } }
  assert.equal(describeStage(odd), 'waf (a stage this gwc does not know)')
})

// ── a policy registered only in this test ────────────────────────────────────────────────────────

interface StampStmt { kind: 'stamp'; value: A.StrV; span: A.Span }
interface StampIR extends StageIR { kind: 'stamp'; value: string }

/** `stamp: "v"` in a YAML route: sets X-Stamp on the response (inline, like `headers`). */
const stamp: CompilePolicy<StampStmt, StampIR> = {
  kind: 'stamp',
  syntax: { keyword: 'stamp', pieces: [string('value')], build: (f, span): StampStmt => ({ kind: 'stamp', value: f.value as A.StrV, span }) },
  check: (ctx, s) => {
    if (s.value.value === '') { ctx.d.error('E0306', s.value.span, 'a stamp cannot be empty'); return undefined }
    return { kind: 'stamp', value: s.value.value, source: { file: s.span.file, line: s.span.line, col: s.span.col } }
  },
  emit: s => ({ inline: [{ method: 'setResponseHeader', args: ['x-stamp', s.value] }] }),
  describe: s => `stamp ${s.value}`,
  canWait: () => false,
  diff: { key: () => 'stamp', changes: () => [] },
  explain: s => ({ text: `stamp ${s.value}`, note: null }),
  print: s => `stamp "${s.value.value}"`,
  yaml: {
    key: 'stamp',
    read: (r, e) => { const v = r.str(e.value, e.path, e.keySpan); return v ? [{ kind: 'stamp', value: v, span: e.keySpan }] : [] },
    rank: () => 5,
  },
}

const YAML = `
upstreams:
  app: { replicas: ["127.0.0.1:9000"] }
routes:
  - { name: r, match: { path: / }, timeout: 1s, upstream: app, stamp: "v1" }
`

test('a fake policy registered only here: read by the YAML front end, checked, emitted, shown by gwc routes', () => {
  const policies = new PolicyRegistry([...POLICIES, stamp])
  const yaml: FrontEnd = (text, file, d) => parseYamlPolicy(text, file, d, policies.yamlStages())
  const r = compileWith(policies, { 'p.yaml': YAML }, 'p.yaml', { '.yaml': yaml })
  assert.deepEqual(r.diagnostics, [])
  assert.deepEqual(r.ir!.routes[0].stages.map(s => ({ ...s, source: undefined })), [{ kind: 'stamp', value: 'v1', source: undefined }])
  assert.match(emitModule(r.ir!, [], policies), /ctx\.setResponseHeader\("x-stamp", "v1"\);/)
  // the same file with the stamp policy missing from the registry: the YAML key is unknown (E0205), and a
  // front end that still produces the statement gets it refused by the checker (E0404)
  const plain = compileWith(REGISTRY, { 'p.yaml': YAML }, 'p.yaml', { '.yaml': (t, f, d) => parseYamlPolicy(t, f, d, REGISTRY.yamlStages()) })
  assert.deepEqual(plain.diagnostics.map(d => d.code), ['E0205'])
  const stale = compileWith(REGISTRY, { 'p.yaml': YAML }, 'p.yaml', { '.yaml': yaml })
  assert.deepEqual(stale.diagnostics.map(d => [d.code, d.message]), [['E0404', '`stamp` is not a stage this gwc compiles']])
  assert.equal(stale.ir, undefined)
  // its syntax declaration is all the .gwp grammar needs: the statement parses, checks and emits
  const gwp = compileWith(policies, { 'p.gwp': GWP.replace('headers response set X-A "1"', 'stamp "v2"') }, 'p.gwp')
  assert.deepEqual(gwp.diagnostics, [])
  assert.deepEqual(gwp.ir!.routes[0].stages.map(s => [s.kind, (s as StampIR).value, s.source.line]), [['stamp', 'v2', 6]])
  const empty = compileWith(policies, { 'p.gwp': GWP.replace('headers response set X-A "1"', 'stamp ""') }, 'p.gwp')
  assert.deepEqual(empty.diagnostics.map(d => [d.code, d.line, d.col]), [['E0306', 6, 9]])
  // gwc routes, diff and explain ask this gwc's registry, which has no stamp: they say so rather than drop it
  assert.equal(describeStage(r.ir!.routes[0].stages[0]), 'stamp (a stage this gwc does not know)')
})

test('the registry refuses a kind that cannot be `stages.<kind>`, a core statement word, or the same kind twice', () => {
  assert.throws(() => new PolicyRegistry([{ ...stamp, kind: 'Bad-Kind' }]), /bad kind/)
  assert.throws(() => new PolicyRegistry([{ ...stamp, kind: 'proxy' }]), /bad kind/)
  assert.throws(() => new PolicyRegistry([stamp, stamp]), /registered twice/)
})

// A declaration kind another policy adds (`vault NAME { path "…" }`) shares the policies' one namespace with
// `jwt` and `keys`, but is no provider: `auth` neither takes it nor offers it as a near miss.
interface VaultStmt { kind: 'path'; path: A.StrV; span: A.Span }
const vault: CompilePolicy = {
  ...stamp,
  declarations: [{
    syntax: { keyword: 'vault', what: 'vault', statements: [{ keyword: 'path', pieces: [string('path')], build: (f, span): VaultStmt => ({ kind: 'path', path: f.path as A.StrV, span }) }] },
    check: (_ctx, d) => ({ kind: 'vault', name: d.name.value, source: { file: d.span.file, line: d.span.line, col: d.span.col } }),
    print: s => `path "${(s as VaultStmt).path.value}"`,
    diff: { summary: () => 'vault', changes: () => [] },
  }],
}

test('a declaration kind a fake policy adds is no `auth` provider, and is never offered as one', () => {
  const policies = new PolicyRegistry([...POLICIES, vault])
  const errs = (route: string) => compileWith(policies, { 'p.gwp': `vault v1 { path "/run/v" }\nupstream app { replicas 127.0.0.1:9000 }\n${route}` }, 'p.gwp')
    .diagnostics.filter(d => d.severity === 'error').map(d => [d.code, d.message, d.hint])
  const hint = 'declare it with `jwt v2 { … }`'
  assert.deepEqual(errs('route r { match path "/"; auth v2; timeout 1s; proxy app }'), [['E0202', 'unknown provider `v2`', hint]])
  assert.deepEqual(errs('route r { match path "/"; auth v1; timeout 1s; proxy app }'), [['E0202', 'unknown provider `v1`', 'declare it with `jwt v1 { … }`']])
  assert.deepEqual(errs('route r { match path "/"; timeout 1s; proxy app }'), [], 'the vault itself checks clean')
})
