// YAML mapping of `headers`: `headers: { request|response: { set: {N: v}, remove: [N] } }` (`set`/`remove` at the
// top mean the request) → `headers [request|response] set N "v", remove N`.
import { yamlName, type A, type YamlEntry, type YamlReader } from '../../compiler/policy-api.js'
import type { HeaderOpAst, HeadersStmt } from './check.js'

function setOps(r: YamlReader, x: YamlEntry): HeaderOpAst[] {
  const ops: HeaderOpAst[] = []
  for (const h of r.entries(x.value, x.path, x.keySpan) ?? []) {
    const name = yamlName(h.key, h.keySpan)
    const value = r.str(h.value, h.path, h.keySpan, 'a header value')
    if (value !== undefined) ops.push({ op: 'set', names: [name], value, span: h.keySpan })
  }
  return ops
}

function removeOp(r: YamlReader, x: YamlEntry): HeaderOpAst[] {
  const names = (r.list(x, 'a header name or a list of them') ?? []).map(i => r.nameV(i.node, i.path, x.keySpan)).filter((v): v is A.NameV => v !== undefined)
  return names.length > 0 ? [{ op: 'remove', names, value: null, span: x.keySpan }] : []
}

/** `headers: { request: { set: {N: v}, remove: [N] }, response: {…} }`; `set`/`remove` at the top mean the request. */
export function readHeaders(r: YamlReader, e: YamlEntry): HeadersStmt[] {
  const f = r.fields(e.value, e.path, ['set', 'remove', 'request', 'response'], e.keySpan)
  if (f === undefined) return []
  const out: HeadersStmt[] = []
  const opsOf = (g: Map<string, YamlEntry>): HeaderOpAst[] => [...g.values()].flatMap(x => (x.key === 'set' ? setOps(r, x) : removeOp(r, x)))
  const bare = new Map([...f].filter(([k]) => k === 'set' || k === 'remove'))
  const ops = opsOf(bare)
  if (ops.length > 0) out.push({ kind: 'headers', target: null, ops, span: e.keySpan })
  for (const target of ['request', 'response'] as const) {
    const t = f.get(target)
    const g = t && r.fields(t.value, t.path, ['set', 'remove'], t.keySpan)
    const tops = g ? opsOf(g) : []
    if (t && tops.length > 0) out.push({ kind: 'headers', target, ops: tops, span: t.keySpan })
  }
  return out
}
