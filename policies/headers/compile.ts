// The compile half of `headers`: `headers [request|response] set NAME "value", remove NAME …`. Checking is
// check.ts, the inline context calls emit.ts, the YAML mapping yaml.ts.
import {
  choice, list, name, optional, printName, quote, repeat, string, valueChange, words, type A, type Choice, type CompilePolicy,
} from '../../compiler/policy-api.js'
import { checkHeadersStage, type HeaderOpAst, type HeadersStmt } from './check.js'
import { emitHeaders } from './emit.js'
import type { HeaderOpIR, HeadersStageIR } from './check.js'
import { readHeaders } from './yaml.js'

const opText = (o: HeaderOpIR) => (o.op === 'set' ? `set ${o.name} ${JSON.stringify(o.value)}` : `remove ${o.name}`)

export const policy: CompilePolicy<HeadersStmt, HeadersStageIR> = {
  kind: 'headers',
  syntax: {
    keyword: 'headers',
    pieces: [
      optional(choice('target', { request: [], response: [] })),
      list('ops', [choice('op', { set: [name('name'), string('value')], remove: [repeat('names', name('name'))] })]),
    ],
    build: (f, span): HeadersStmt => ({
      kind: 'headers',
      target: ((f.target as Choice | null)?.word ?? null) as HeadersStmt['target'],
      ops: (f.ops as { op: Choice & { name?: A.NameV; value?: A.StrV; names?: A.NameV[] } }[]).map(({ op }): HeaderOpAst =>
        op.word === 'set' ? { op: 'set', names: [op.name!], value: op.value!, span: op.span } : { op: 'remove', names: op.names!, value: null, span: op.span }),
      span,
    }),
  },
  check: (ctx, s) => checkHeadersStage(ctx, s),
  emit: s => emitHeaders(s),
  describe: s => `headers ${s.target} ${s.ops.map(o => `${o.op} ${o.name}`).join(', ')}`,
  canWait: () => false,
  diff: {
    key: s => `headers ${s.target}`,
    // header edits with their values, since a diff is about values
    text: s => `headers ${s.target} ${s.ops.map(opText).join(', ')}`,
    changes: (o, n) => valueChange('ops', o.ops.map(opText), n.ops.map(opText)),
  },
  explain: s => ({ text: `headers ${s.target}: ${s.ops.map(o => (o.op === 'set' ? `set ${o.name}: ${o.value}` : `remove ${o.name}`)).join(', ')}`, note: null }),
  print: s => words('headers', s.target ?? '', s.ops.map(op => (op.op === 'set' ? `set ${printName(op.names[0])} ${quote(op.value!.value)}` : words('remove', op.names.map(printName)))).join(', ')),
  yaml: { key: 'headers', read: (r, e) => readHeaders(r, e), rank: () => 10 },
}
