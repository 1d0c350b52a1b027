// YAML mapping of `cors`: `cors: { origins: [..], methods: [..], headers: [..], expose: [..], credentials: true,
// max_age: 10m }` → `cors origins "..", .. methods .. headers .. expose .. credentials max_age 10m`.
import { isWord, type A, type YamlEntry, type YamlReader } from '../../compiler/policy-api.js'
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
    else if (word === 'methods') {
      // a method is a .gwp word: any other text would print as other words (or none), so it is refused here,
      // with the checker's code and message for a method that is not a token (policies/cors/check.ts)
      const methods: A.WordV[] = []
      for (const s of strs) {
        if (isWord(s.value)) methods.push({ kind: 'word', value: s.value, span: s.span })
        else r.d.error('E0475', s.span, `\`${s.value}\` is not an HTTP method`, { label: 'a method is a token', hint: 'write e.g. `GET, POST, PUT`' })
      }
      if (methods.length > 0) clauses.push({ word, span, methods })
    } else clauses.push({ word, span, headers: strs.map((s): A.NameV => (isWord(s.value) ? { kind: 'word', value: s.value, span: s.span } : s)) })
  }
  // `cors` with no clause is no .gwp statement (`gwc convert` would print one its parser refuses)
  if (clauses.length === 0) {
    r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`origins\``, { label: 'which origins may call?', hint: 'write e.g. `cors: { origins: ["https://app.example.com"] }`' })
    return []
  }
  return [{ kind: 'cors', clauses, span: e.keySpan }]
}
