// YAML front end, the bespoke parts of a route: `respond` (and `fallback`) and `retries`, each lowered to the
// .gwp statement that says the same (docs/yaml.md). Policy stages are read by their own mappings
// (policies/<kind>/yaml.ts, passed in by the compiler).
import type * as A from '../ast.js'
import { yamlName as nameOf, type Entry, type YamlReader } from './nodes.js'


/**
 * `respond: 204` or `respond: { status, json|text|body, headers }` (also the shape of `fallback`), or
 * `respond: { status: 308, redirect: "https://{host}{path}?{query}" }` (not for `fallback`).
 */
export function readRespond(r: YamlReader, e: Entry, redirect = false): A.RespondStmt | undefined {
  const respond = (status: A.QtyV): A.RespondStmt => ({ kind: 'respond', status, body: null, headers: [], extraBodies: [], redirect: null, span: e.keySpan })
  if (r.isNumber(e.value)) { const q = r.qty(e.value, e.path, e.keySpan); return q && respond(q) }
  const f = r.fields(e.value, e.path, ['status', 'json', 'text', 'body', 'headers', ...(redirect ? ['redirect'] : [])], e.keySpan)
  if (f === undefined) return undefined
  const rd = f.get('redirect'), st = f.get('status')
  if (rd !== undefined) {
    const other = [...f.values()].find(x => x.key !== 'status' && x.key !== 'redirect')
    if (other !== undefined) r.d.error('E0404', other.keySpan, 'a redirect has no body or headers of its own', { notes: [{ message: 'redirect here', span: rd.keySpan }], hint: 'keep `status` and `redirect`' })
    const target = r.str(rd.value, rd.path, rd.keySpan, 'a redirect target')
    const status = st === undefined ? undefined : r.qty(st.value, st.path, st.keySpan)
    if (st === undefined) r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`status\``, { label: 'status missing', hint: 'write e.g. `{ status: 308, redirect: "https://{host}{path}?{query}" }`' })
    if (target === undefined || status === undefined || other !== undefined) return undefined
    return { kind: 'respond', status, body: null, headers: [], extraBodies: [], redirect: { target, span: rd.keySpan }, span: e.keySpan }
  }
  if (st === undefined) { r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`status\``, { label: 'status missing', hint: 'write e.g. `{ status: 503, json: { error: busy } }`' }); return undefined }
  const status = r.qty(st.value, st.path, st.keySpan)
  if (status === undefined) return undefined
  const resp = respond(status)
  for (const x of f.values()) {
    if (x.key !== 'json' && x.key !== 'text' && x.key !== 'body') continue
    if (resp.body !== null) { r.d.error('E0102', x.keySpan, 'a response has one body', { label: 'second body', notes: [{ message: 'first body', span: resp.body.span }], hint: 'keep one of them' }); continue }
    // A `json` body may be written as YAML (`json: { error: busy }`); it is sent as compact JSON.
    const text = x.key === 'json' && r.scalarText(x.value) === undefined ? JSON.stringify(r.toJS(x.value)) : undefined
    const value = text !== undefined ? { kind: 'str' as const, value: text, span: r.span(x.value, x.keySpan) } : r.str(x.value, x.path, x.keySpan)
    if (value !== undefined) resp.body = { as: x.key, value, span: x.keySpan }
  }
  const hs = f.get('headers')
  for (const h of hs ? r.entries(hs.value, hs.path, hs.keySpan) ?? [] : []) {
    const value = r.str(h.value, h.path, h.keySpan, 'a header value')
    const name = nameOf(h.key, h.keySpan)
    if (value !== undefined) resp.headers.push({ name, value, span: h.keySpan })
  }
  return resp
}

/** `retries: { max, only_idempotent, idempotency_key, all_methods, budget, per_try, backoff }` or `retries: N`. */
export function readRetry(r: YamlReader, e: Entry): A.RetryStmt | undefined {
  if (r.isNumber(e.value)) { const q = r.qty(e.value, e.path, e.keySpan); return q && { kind: 'retry', count: q, options: [], span: e.keySpan } }
  const f = r.fields(e.value, e.path, ['max', 'only_idempotent', 'idempotency_key', 'all_methods', 'budget', 'per_try', 'backoff'], e.keySpan)
  if (f === undefined) return undefined
  const max = f.get('max')
  if (max === undefined) { r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`max\``, { label: 'how many retries?', hint: 'write e.g. `retries: { max: 1, only_idempotent: true }`' }); return undefined }
  const count = r.qty(max.value, max.path, max.keySpan)
  const options: A.OptionAst[] = []
  for (const x of f.values()) {
    switch (x.key) {
      case 'only_idempotent': {
        // `only_idempotent: true` with `idempotency_key: true` reads "idempotent requests only, and a request
        // with an Idempotency-Key counts as one": exactly .gwp's `idempotency_key`.
        const b = r.bool(x.value, x.path, x.keySpan)
        const key = f.get('idempotency_key')
        if (b === true && key !== undefined && r.scalarText(key.value) === 'true') break
        if (b !== undefined) options.push(r.option(b ? 'idempotent_only' : 'all_methods', x.keySpan))
        break
      }
      case 'idempotency_key': case 'all_methods':
        if (r.bool(x.value, x.path, x.keySpan) === true) options.push(r.option(x.key, x.keySpan))
        break
      case 'budget': {
        // `budget: none` (or `false`) lifts the bound: .gwp's `no_budget`.
        const t = r.scalarText(x.value)
        if (t === 'none' || t === 'false') { options.push(r.option('no_budget', x.keySpan)); break }
        const q = r.qty(x.value, x.path, x.keySpan, 'ratio')
        if (q) options.push(r.option('budget', x.keySpan, [q]))
        break
      }
      case 'per_try': case 'backoff': {
        const q = r.qty(x.value, x.path, x.keySpan)
        if (q) options.push(r.option(x.key, x.keySpan, [q]))
        break
      }
    }
  }
  return count && { kind: 'retry', count, options, span: e.keySpan }
}

/**
 * `upgrade: websocket`, `upgrade: [websocket, mqtt]` or `upgrade: { protocols: …, max_open, idle, lifetime }`
 * → `upgrade websocket max_open N idle D lifetime D`. Protocol names are checked by the checker (E0521).
 */
export function readUpgrade(r: YamlReader, e: Entry): A.UpgradeStmt | undefined {
  const readProtocols = (x: Entry): A.WordV[] | undefined => {
    const items = r.list(x, 'a protocol name or a list of them')
    if (items === undefined) return undefined
    const out: A.WordV[] = []
    for (const it of items) {
      const s = r.str(it.node, it.path, x.keySpan, 'a protocol name')
      if (s !== undefined) out.push({ kind: 'word', value: s.value, span: s.span })
    }
    return out
  }
  const v = r.resolve(e.value)
  if (r.scalarText(e.value) !== undefined || r.isList(e.value) || v === undefined || v === null) {
    const protocols = readProtocols(e)
    return protocols && protocols.length > 0 ? { kind: 'upgrade', protocols, options: [], span: e.keySpan } : undefined
  }
  const f = r.fields(e.value, e.path, ['protocols', 'max_open', 'idle', 'lifetime'], e.keySpan)
  if (f === undefined) return undefined
  const p = f.get('protocols')
  if (p === undefined) { r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`protocols\``, { label: 'which upgrades?', hint: 'write e.g. `upgrade: { protocols: [websocket], max_open: 1000 }`' }); return undefined }
  const protocols = readProtocols(p)
  const options: A.OptionAst[] = []
  for (const x of f.values()) {
    if (x.key === 'protocols') continue
    const q = r.qty(x.value, x.path, x.keySpan)
    if (q) options.push(r.option(x.key, x.keySpan, [q]))
  }
  return protocols && protocols.length > 0 ? { kind: 'upgrade', protocols, options, span: e.keySpan } : undefined
}
