// YAML front end, the stages and settings of a route: `ratelimit`, `auth`, `headers`, `respond` (and
// `fallback`) and `retries`, each lowered to the .gwp statement that says the same (docs/yaml.md).
import type * as A from '../grammar/ast.js'
import { closest } from '../grammar/index.js'
import { isWord, type Entry, type YNode, type YamlReader } from './yaml-nodes.js'

const KEY_KINDS = ['user', 'ip', 'header', 'claim'] as const

const word = (value: string, span: A.Span): A.WordV => ({ kind: 'word', value, span })
/** A header or claim name as the .gwp parser would read it: bare when it lexes as a name, else a string. */
const nameOf = (key: string, span: A.Span): A.NameV => (isWord(key) ? word(key, span) : { kind: 'str', value: key, span })

function readKey(r: YamlReader, n: YNode, path: string, at: A.Span): A.RatelimitStmt['key'] | undefined {
  const s = r.str(n, path, at, '`user`, `ip`, `header:NAME` or `claim:NAME`')
  if (s === undefined) return undefined
  const i = s.value.indexOf(':')
  const kind = (i < 0 ? s.value : s.value.slice(0, i)).trim()
  const rest = i < 0 ? '' : s.value.slice(i + 1).trim()
  if (!(KEY_KINDS as readonly string[]).includes(kind)) {
    const guess = closest(kind, KEY_KINDS)
    r.d.error('E0206', s.span, `unknown rate-limit key \`${s.value}\``, { label: 'not a key', hint: guess ? `did you mean \`${guess}${rest ? ':' + rest : ''}\`?` : 'limit by `user`, `ip`, `header:NAME` or `claim:NAME`' })
    return undefined
  }
  if (kind === 'user' || kind === 'ip') {
    if (rest !== '') { r.d.error('E0306', s.span, `\`${kind}\` takes no name`, { hint: `write \`${kind}\`` }); return undefined }
    return { kind, name: null, span: s.span }
  }
  if (rest === '') { r.d.error('E0104', s.span, `\`${kind}\` needs a name`, { label: 'which one?', hint: `write \`${kind}:NAME\`` }); return undefined }
  const at2 = r.text.indexOf(rest, s.span.offset)
  const nameSpan = at2 >= 0 && at2 < s.span.offset + s.span.len ? r.spanAt(at2, at2 + rest.length) : s.span
  return { kind: kind as 'header' | 'claim', name: nameOf(rest, nameSpan), span: s.span }
}

/** `ratelimit:` is one map or a list of them; each becomes `ratelimit by KEY LIMIT per WINDOW …`. */
export function readRatelimits(r: YamlReader, e: Entry): A.RatelimitStmt[] {
  const list = r.isList(e.value) ? r.list(e, 'a map or a list of maps', false) ?? [] : [{ node: e.value, path: e.path }]
  const out: A.RatelimitStmt[] = []
  for (const it of list) {
    const span = it.path === e.path ? e.keySpan : r.span(it.node, e.keySpan)
    const f = r.fields(it.node, it.path, ['key', 'limit', 'window', 'burst', 'store', 'fail'], span)
    if (f === undefined) continue
    for (const k of ['key', 'limit', 'window'] as const) {
      if (!f.has(k)) r.d.error('E0104', span, `\`${it.path}\` has no \`${k}\``, { label: `\`${k}\` missing`, hint: 'write e.g. `ratelimit: { key: ip, limit: 100, window: 1s }`' })
    }
    const k = f.get('key'), l = f.get('limit'), w = f.get('window')
    const key = k && readKey(r, k.value, k.path, k.keySpan)
    const limit = l && r.qty(l.value, l.path, l.keySpan)
    const window = w && r.qty(w.value, w.path, w.keySpan)
    const options: A.OptionAst[] = []
    for (const x of f.values()) {
      if (x.key === 'burst') { const q = r.qty(x.value, x.path, x.keySpan); if (q) options.push(r.option('burst', x.keySpan, [q])) }
      if (x.key === 'store' || x.key === 'fail') {
        const s = r.str(x.value, x.path, x.keySpan, x.key === 'store' ? '`local` or `redis`' : '`open` or `closed`')
        const allowed = x.key === 'store' ? ['local', 'redis'] : ['open', 'closed']
        if (s === undefined) continue
        if (!allowed.includes(s.value)) { r.d.error('E0206', s.span, `\`${x.path}\` is \`${allowed[0]}\` or \`${allowed[1]}\`, not \`${s.value}\``, { label: 'unknown value' }); continue }
        options.push(r.option(x.key === 'store' ? s.value : `fail_${s.value}`, s.span))
      }
    }
    if (key && limit && window) out.push({ kind: 'ratelimit', key, limit, window, options, span })
  }
  return out
}

/** `auth: { required, provider, aud }` (or `auth: true|false`); `required: false` means no auth stage. */
export function readAuth(r: YamlReader, e: Entry, jwtNames: string[]): A.AuthStmt | undefined {
  let provider: A.WordV | undefined
  const options: A.OptionAst[] = []
  if (r.scalarText(e.value) !== undefined) {
    if (r.bool(e.value, e.path, e.keySpan) !== true) return undefined
  } else {
    const f = r.fields(e.value, e.path, ['required', 'provider', 'aud', 'audience'], e.keySpan)
    if (f === undefined) return undefined
    const req = f.get('required')
    if (req !== undefined && r.bool(req.value, req.path, req.keySpan) !== true) return undefined
    const p = f.get('provider')
    if (p !== undefined) {
      const s = r.str(p.value, p.path, p.keySpan, 'a jwt provider name')
      if (s === undefined) return undefined
      provider = r.declName(s.value, s.span, 'jwt provider')
      if (provider === undefined) return undefined
    }
    const aud = f.get('aud'), audience = f.get('audience')
    if (aud !== undefined && audience !== undefined) r.d.error('E0102', audience.keySpan, 'the audience is given twice', { notes: [{ message: 'first given here', span: aud.keySpan }], hint: '`aud` and `audience` are the same key: keep one' })
    const a = aud ?? audience
    if (a !== undefined) {
      const values = (r.list(a, 'a string or a list of strings') ?? []).map(i => r.str(i.node, i.path, a.keySpan)).filter((v): v is A.StrV => v !== undefined)
      if (values.length > 0) options.push(r.option('audience', a.keySpan, values))
    }
  }
  if (provider === undefined) {
    if (jwtNames.length !== 1) {
      r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`provider\``, {
        label: 'which jwt provider verifies the token?',
        hint: jwtNames.length === 0 ? 'declare one under `jwt:` and name it with `provider: NAME`' : `name one of ${jwtNames.map(n => '`' + n + '`').join(', ')} with \`provider: NAME\``,
      })
      return undefined
    }
    provider = word(jwtNames[0], e.keySpan)
  }
  return { kind: 'auth', provider, options, span: e.keySpan }
}

function setOps(r: YamlReader, x: Entry): A.HeaderOpAst[] {
  const ops: A.HeaderOpAst[] = []
  for (const h of r.entries(x.value, x.path, x.keySpan) ?? []) {
    const name = nameOf(h.key, h.keySpan)
    const value = r.str(h.value, h.path, h.keySpan, 'a header value')
    if (value !== undefined) ops.push({ op: 'set', names: [name], value, span: h.keySpan })
  }
  return ops
}

function removeOp(r: YamlReader, x: Entry): A.HeaderOpAst[] {
  const names = (r.list(x, 'a header name or a list of them') ?? []).map(i => r.nameV(i.node, i.path, x.keySpan)).filter((v): v is A.NameV => v !== undefined)
  return names.length > 0 ? [{ op: 'remove', names, value: null, span: x.keySpan }] : []
}

/** `headers: { request: { set: {N: v}, remove: [N] }, response: {…} }`; `set`/`remove` at the top mean the request. */
export function readHeaders(r: YamlReader, e: Entry): A.HeadersStmt[] {
  const f = r.fields(e.value, e.path, ['set', 'remove', 'request', 'response'], e.keySpan)
  if (f === undefined) return []
  const out: A.HeadersStmt[] = []
  const opsOf = (g: Map<string, Entry>): A.HeaderOpAst[] => [...g.values()].flatMap(x => (x.key === 'set' ? setOps(r, x) : removeOp(r, x)))
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

/** `respond: 204` or `respond: { status, json|text|body, headers }` (also the shape of `fallback`). */
export function readRespond(r: YamlReader, e: Entry): A.RespondStmt | undefined {
  const respond = (status: A.QtyV): A.RespondStmt => ({ kind: 'respond', status, body: null, headers: [], extraBodies: [], span: e.keySpan })
  if (r.isNumber(e.value)) { const q = r.qty(e.value, e.path, e.keySpan); return q && respond(q) }
  const f = r.fields(e.value, e.path, ['status', 'json', 'text', 'body', 'headers'], e.keySpan)
  if (f === undefined) return undefined
  const st = f.get('status')
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
