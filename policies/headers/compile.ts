// The compile half of `headers`: `headers [request|response] set NAME "value", remove NAME …`. Checking is
// check.ts, the inline context calls emit.ts, the YAML mapping yaml.ts.
import { printName, quote, valueChange, words, type A, type CompilePolicy } from '../../compiler/policy-api.js'
import { checkHeadersStage } from './check.js'
import { emitHeaders } from './emit.js'
import type { HeaderOpIR, HeadersStageIR } from './check.js'
import { readHeaders } from './yaml.js'

const opText = (o: HeaderOpIR) => (o.op === 'set' ? `set ${o.name} ${JSON.stringify(o.value)}` : `remove ${o.name}`)

export const policy: CompilePolicy<A.HeadersStmt, HeadersStageIR> = {
  kind: 'headers',
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
