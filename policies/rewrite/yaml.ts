// YAML mapping of `rewrite`: `rewrite: { strip: /api }`, `{ prefix: { from: /api/v1, to: /v1 } }`,
// `{ regex: { pattern: "^/u/([0-9]+)$", replacement: /users/$1 } }`, each with an optional `host: client|replica|NAME`.
import type { A, YamlEntry, YamlReader } from '../../compiler/policy-api.js'
import type { RewriteStmt } from './check.js'

export function readRewrite(r: YamlReader, e: YamlEntry): RewriteStmt[] {
  const f = r.fields(e.value, e.path, ['strip', 'prefix', 'regex', 'host'], e.keySpan)
  if (f === undefined) return []
  const out: RewriteStmt[] = []
  const base = { kind: 'rewrite' as const, span: e.keySpan }
  const pair = (x: YamlEntry, a: string, b: string): [A.StrV, A.StrV] | undefined => {
    const g = r.fields(x.value, x.path, [a, b], x.keySpan)
    const ea = g?.get(a), eb = g?.get(b)
    if (g === undefined) return undefined
    if (ea === undefined || eb === undefined) {
      r.d.error('E0104', x.keySpan, `\`${x.path}\` needs \`${a}\` and \`${b}\``, { hint: `write \`${x.key}: { ${a}: …, ${b}: … }\`` })
      return undefined
    }
    const va = r.str(ea.value, ea.path, ea.keySpan), vb = r.str(eb.value, eb.path, eb.keySpan)
    return va && vb ? [va, vb] : undefined
  }
  // the path rewrites in the order written: a second one is reported where it is, and the first is read
  const [path, second] = [...f.values()].filter(x => x.key === 'strip' || x.key === 'prefix' || x.key === 'regex')
  if (second !== undefined) {
    r.d.error('E0102', second.keySpan, `\`${e.path}\` rewrites the path twice`, { notes: [{ message: 'first here', span: path.keySpan }], hint: 'keep one of `strip`, `prefix` and `regex`' })
  }
  if (path?.key === 'strip') {
    const v = r.str(path.value, path.path, path.keySpan, 'a path prefix')
    if (v !== undefined) out.push({ ...base, op: 'strip', from: v })
  }
  if (path?.key === 'prefix') {
    const p = pair(path, 'from', 'to')
    if (p) out.push({ ...base, op: 'prefix', from: p[0], to: p[1] })
  }
  if (path?.key === 'regex') {
    const p = pair(path, 'pattern', 'replacement')
    if (p) out.push({ ...base, op: 'regex', pattern: p[0], replacement: p[1] })
  }
  const host = f.get('host')
  if (host !== undefined) {
    const v = r.str(host.value, host.path, host.keySpan, '`client`, `replica` or a host')
    if (v !== undefined) {
      const name: A.NameV = v.value === 'client' || v.value === 'replica' ? { kind: 'word', value: v.value, span: v.span } : v
      out.push({ ...base, op: 'host', host: name })
    }
  }
  return out
}
