// YAML mapping of `cors`: `cors: { origins: [..], methods: [..], headers: [..], expose: [..], credentials: true,
// max_age: 10m }` → `cors origins "..", .. methods .. headers .. expose .. credentials max_age 10m`.
import { type A, type YamlEntry, type YamlReader } from '../../compiler/policy-api.js'
import type { CorsClause, CorsStmt } from './check.js'

const KEYS = ['origins', 'methods', 'headers', 'expose', 'credentials', 'max_age'] as const

export function readCors(r: YamlReader, e: YamlEntry): CorsStmt[] {
  const f = r.fields(e.value, e.path, KEYS, e.keySpan)
  if (f === undefined) return []
  const clauses: CorsClause[] = []
  for (const x of f.values()) {
    const span = x.keySpan
    const word = x.key as CorsClause['word']
    if (word === 'credentials') { if (r.bool(x.value, x.path, span) === true) clauses.push({ word, span }); continue }
    if (word === 'max_age') { const q = r.qty(x.value, x.path, span); if (q) clauses.push({ word, span, value: q }); continue }
    const items = r.list(x, 'a list of strings') ?? []
    const strs = items.map(i => r.str(i.node, i.path, span)).filter((v): v is A.StrV => v !== undefined)
    if (strs.length === 0) continue
    if (word === 'origins') clauses.push({ word, span, origins: strs })
    else if (word === 'methods') clauses.push({ word, span, methods: strs.map(s => ({ kind: 'word', value: s.value, span: s.span })) })
    else clauses.push({ word, span, headers: items.map(i => r.nameV(i.node, i.path, span)).filter((v): v is A.NameV => v !== undefined) })
  }
  return [{ kind: 'cors', clauses, span: e.keySpan }]
}
