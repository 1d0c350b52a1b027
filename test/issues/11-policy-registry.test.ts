// test/issues/11-policy-registry.test.ts: policy kinds come from the compiler's registry (compiler/policies.ts).
// A stage kind the registry lacks is a compile error wherever it shows up, never skipped (issue 11 item 8), and a
// policy registered only here — a fake `stamp` kind — goes through check, codegen and the tools like a real one.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { emitModule } from '../../compiler/codegen/module.js'
import { POLICIES, PolicyRegistry, REGISTRY } from '../../compiler/policies.js'
import type { CompilePolicy } from '../../compiler/policy-api.js'
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

test('a stage whose kind is not registered is an error at the statement, and no IR is produced', () => {
  const r = compileWith(without('headers'), { 'p.gwp': GWP }, 'p.gwp')
  assert.equal(r.ir, undefined)
  const e = r.diagnostics.filter(d => d.severity === 'error')
  assert.deepEqual(e.map(d => [d.code, d.line, d.col, d.message]), [['E0404', 6, 3, '`headers` is not a stage this gwc compiles']])
})

test('the same statement in a policy no route uses is reported too', () => {
  const text = GWP.replace('  headers response set X-A "1"\n', '') + 'policy unused { headers request remove X-B }\n'
  const r = compileWith(without('headers'), { 'p.gwp': text }, 'p.gwp')
  assert.ok(r.diagnostics.some(d => d.code === 'E0404' && d.message === '`headers` is not a stage this gwc compiles (from policy `unused`)'), JSON.stringify(r.diagnostics))
})

test('codegen refuses a stage kind it has no policy for instead of leaving it out', () => {
  const ok = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': GWP }) })
  assert.ok(ok.ir)
  assert.throws(() => emitModule(ok.ir!, [], without('headers')), /no policy of kind `headers`/)
})

test('the tools word a stage of a kind this gwc does not know (from another gwc\'s bundle) instead of dropping it', () => {
  const odd: StageIR = { kind: 'cors', source: { file: 'p.gwp', line: 1, col: 1 } }
  assert.equal(describeStage(odd), 'cors (a stage this gwc does not know)')
})

// ── a policy registered only in this test ────────────────────────────────────────────────────────

interface StampStmt { kind: 'stamp'; value: A.StrV; span: A.Span }
interface StampIR extends StageIR { kind: 'stamp'; value: string }

/** `stamp: "v"` in a YAML route: sets X-Stamp on the response (inline, like `headers`). */
const stamp: CompilePolicy<StampStmt, StampIR> = {
  kind: 'stamp',
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
  // gwc routes, diff and explain ask this gwc's registry, which has no stamp: they say so rather than drop it
  assert.equal(describeStage(r.ir!.routes[0].stages[0]), 'stamp (a stage this gwc does not know)')
})

test('the registry refuses a kind that cannot be `stages.<kind>`, a core statement word, or the same kind twice', () => {
  assert.throws(() => new PolicyRegistry([{ ...stamp, kind: 'Bad-Kind' }]), /bad kind/)
  assert.throws(() => new PolicyRegistry([{ ...stamp, kind: 'proxy' }]), /bad kind/)
  assert.throws(() => new PolicyRegistry([stamp, stamp]), /registered twice/)
})
