// YAML front end, routes: each item of `routes:` becomes `route NAME { … }`. YAML maps have no order a
// pipeline could take, so the order is fixed, cheapest rejects first: match, headers, ratelimit by
// ip/header, auth, ratelimit by user/claim, timeout/max_body/retry, then proxy or respond.
import type * as A from '../grammar/ast.js'
import { closest } from '../grammar/index.js'
import { readBreaker } from './yaml-upstreams.js'
import { isIdentifier, isWord, type Entry, type YNode, type YamlReader } from './yaml-nodes.js'

/** What routes need from the rest of the file. */
export interface RouteScope {
  /** jwt providers declared in this file (`auth.provider` may be left out when there is exactly one). */
  jwtNames: string[]
  /** Upstreams declared in this file: a route's `breaker` is added to its upstream's block. */
  upstreams: Map<string, A.UpstreamDecl>
  /** The first breaker each upstream got, to report a second, different one. */
  breakers: Map<string, { key: string; span: A.Span }>
}

const ROUTE_KEYS = ['name', 'match', 'upstream', 'upstreams', 'fallback', 'respond', 'timeout', 'max_body', 'retries', 'auth', 'ratelimit', 'breaker', 'headers'] as const
const KEY_KINDS = ['user', 'ip', 'header', 'claim'] as const

const word = (value: string, span: A.Span): A.WordV => ({ kind: 'word', value, span })

function readMatch(r: YamlReader, e: Entry): A.MatchStmt | undefined {
  const f = r.fields(e.value, e.path, ['host', 'path', 'path_exact', 'exact', 'methods', 'header'], e.keySpan)
  if (f === undefined) return undefined
  const m: A.MatchStmt = { kind: 'match', hosts: [], hostSpan: null, path: null, methods: [], methodSpan: null, header: null, repeated: [], span: e.keySpan }
  const host = f.get('host')
  if (host !== undefined) {
    m.hosts = (r.list(host, 'a host or a list of hosts') ?? []).map(i => r.str(i.node, i.path, host.keySpan)).filter((v): v is A.StrV => v !== undefined)
    if (m.hosts.length > 0) m.hostSpan = host.keySpan
  }
  const p = f.get('path'), px = f.get('path_exact'), ex = f.get('exact')
  if (p !== undefined && px !== undefined) r.d.error('E0404', px.keySpan, 'give `path` or `path_exact`, not both', { label: 'second path', hint: '`path` matches a prefix; `path_exact` (or `exact: true`) one path only' })
  const exact = ex !== undefined ? r.bool(ex.value, ex.path, ex.keySpan) : undefined
  if (ex !== undefined && p === undefined && px === undefined) r.d.error('E0404', ex.keySpan, '`exact` applies to a `path`, and there is none', { hint: 'add `path: /x`, or remove `exact`' })
  const pe = p ?? px
  if (pe !== undefined) {
    const v = r.str(pe.value, pe.path, pe.keySpan, 'a path')
    if (v !== undefined) m.path = { mode: pe === px || exact === true ? 'exact' : 'prefix', value: v, span: pe.keySpan }
  }
  const ms = f.get('methods')
  if (ms !== undefined) {
    for (const i of r.list(ms, 'a method or a list of methods') ?? []) {
      const s = r.str(i.node, i.path, ms.keySpan, 'a method')
      if (s === undefined) continue
      if (isIdentifier(s.value)) m.methods.push(word(s.value, s.span))
      else r.d.error('E0206', s.span, `unknown method \`${s.value}\``, { label: 'not an HTTP method', hint: 'methods are words such as `GET` or `POST`' })
    }
    if (m.methods.length > 0) m.methodSpan = ms.keySpan
  }
  const h = f.get('header')
  if (h !== undefined) {
    // `header: X-Canary` (present) or `header: { name: X-Canary, value: "1" }` (equal to).
    if (r.scalarText(h.value) !== undefined) {
      const name = r.nameV(h.value, h.path, h.keySpan)
      if (name !== undefined) m.header = { name, value: null, span: h.keySpan }
    } else {
      const hf = r.fields(h.value, h.path, ['name', 'value'], h.keySpan)
      const n = hf?.get('name'), v = hf?.get('value')
      if (hf !== undefined && n === undefined) r.d.error('E0104', h.keySpan, `${'`'}${h.path}${'`'} has no \`name\``, { label: 'which header?', hint: 'write `header: { name: X-Canary, value: "1" }`' })
      const name = n && r.nameV(n.value, n.path, n.keySpan)
      const value = v ? r.str(v.value, v.path, v.keySpan) ?? null : null
      if (name !== undefined) m.header = { name, value, span: h.keySpan }
    }
  }
  // `match: {}` matches everything, which .gwp spells `path prefix "/"` (a match needs one condition).
  if (m.hosts.length === 0 && m.path === null && m.methods.length === 0 && m.header === null && f.size === 0) {
    m.path = { mode: 'prefix', value: { kind: 'str', value: '/', span: e.keySpan }, span: e.keySpan }
  }
  return m
}

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
  const name: A.NameV = isWord(rest) ? word(rest, nameSpan) : { kind: 'str', value: rest, span: nameSpan }
  return { kind: kind as 'header' | 'claim', name, span: s.span }
}

/** `ratelimit:` is one map or a list of them; each becomes `ratelimit by KEY LIMIT per WINDOW …`. */
function readRatelimits(r: YamlReader, e: Entry): A.RatelimitStmt[] {
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
function readAuth(r: YamlReader, e: Entry, scope: RouteScope): A.AuthStmt | undefined {
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
    if (scope.jwtNames.length !== 1) {
      r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`provider\``, {
        label: 'which jwt provider verifies the token?',
        hint: scope.jwtNames.length === 0 ? 'declare one under `jwt:` and name it with `provider: NAME`' : `name one of ${scope.jwtNames.map(n => '`' + n + '`').join(', ')} with \`provider: NAME\``,
      })
      return undefined
    }
    provider = word(scope.jwtNames[0], e.keySpan)
  }
  return { kind: 'auth', provider, options, span: e.keySpan }
}

function setOps(r: YamlReader, x: Entry): A.HeaderOpAst[] {
  const ops: A.HeaderOpAst[] = []
  for (const h of r.entries(x.value, x.path, x.keySpan) ?? []) {
    const name: A.NameV = isWord(h.key) ? word(h.key, h.keySpan) : { kind: 'str', value: h.key, span: h.keySpan }
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
function readHeaders(r: YamlReader, e: Entry): A.HeadersStmt[] {
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
function readRespond(r: YamlReader, e: Entry): A.RespondStmt | undefined {
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
    const name: A.NameV = isWord(h.key) ? word(h.key, h.keySpan) : { kind: 'str', value: h.key, span: h.keySpan }
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

/** `upstream: NAME` or weighted `upstreams: [{ name, weight }]` (a bare number weight is a percentage). */
function readProxy(r: YamlReader, f: Map<string, Entry>): A.ProxyStmt | undefined {
  const up = f.get('upstream'), ups = f.get('upstreams')
  if (up !== undefined && ups !== undefined) {
    const [first, second] = up.keySpan.offset < ups.keySpan.offset ? [up, ups] : [ups, up]
    r.d.error('E0404', second.keySpan, 'give `upstream` or `upstreams`, not both', { notes: [{ message: 'first given here', span: first.keySpan }], hint: '`upstreams: [{ name, weight }]` splits traffic; `upstream: NAME` sends it all to one' })
    return undefined
  }
  const targets: A.ProxyStmt['targets'] = []
  if (up !== undefined) {
    const s = r.str(up.value, up.path, up.keySpan, 'an upstream name')
    const name = s && r.declName(s.value, s.span, 'upstream')
    if (name === undefined) return undefined
    targets.push({ upstream: name, weight: null })
  } else if (ups !== undefined) {
    for (const it of r.list(ups, 'a list of `{ name, weight }`', false) ?? []) {
      const span = r.span(it.node, ups.keySpan)
      let name: A.WordV | undefined, weight: A.QtyV | null = null
      if (r.scalarText(it.node) !== undefined) {
        const s = r.str(it.node, it.path, span)
        name = s && r.declName(s.value, s.span, 'upstream')
      } else {
        const t = r.fields(it.node, it.path, ['name', 'weight'], span)
        if (t === undefined) continue
        const n = t.get('name'), w = t.get('weight')
        if (n === undefined) { r.d.error('E0104', span, `\`${it.path}\` has no \`name\``, { label: 'which upstream?', hint: 'write `{ name: payments, weight: 90% }`' }); continue }
        const s = r.str(n.value, n.path, n.keySpan, 'an upstream name')
        name = s && r.declName(s.value, s.span, 'upstream')
        weight = w ? r.qty(w.value, w.path, w.keySpan, 'percent') ?? null : null
        if (w !== undefined && weight === null) continue
      }
      if (name !== undefined) targets.push({ upstream: name, weight })
    }
    if (targets.length === 0) return undefined
  } else return undefined
  return { kind: 'proxy', targets, fallback: null, span: (up ?? ups)!.keySpan }
}

/** Normal form of a breaker's options, so `error_ratio: 0.5` and `error_ratio: 50%` compare equal. */
export const breakerKey = (b: A.OptionsStmt): string =>
  JSON.stringify(b.options.map(o => [o.name.value, ...o.values.map(v => (v.kind === 'qty' ? `${v.num}${v.unit}` : ''))]).sort())

/** A route's `breaker` sets the breaker of the upstream(s) it proxies to (declared in this file). */
function applyBreaker(r: YamlReader, e: Entry, proxy: A.ProxyStmt | undefined, scope: RouteScope): void {
  const b = readBreaker(r, e)
  if (b === undefined) return
  if (proxy === undefined) { r.d.error('E0404', e.keySpan, 'a `breaker` belongs to an upstream, and this route has none', { hint: 'remove it, or add `upstream: NAME`' }); return }
  const key = breakerKey(b)
  for (const t of proxy.targets) {
    const name = t.upstream.value
    const decl = scope.upstreams.get(name)
    if (decl === undefined) {
      r.d.error('E0404', e.keySpan, `a route's \`breaker\` sets the breaker of upstream \`${name}\`, which is not declared in this file`, { hint: 'declare the breaker where the upstream is declared' })
      continue
    }
    const first = scope.breakers.get(name)
    if (first === undefined) {
      scope.breakers.set(name, { key, span: e.keySpan })
      decl.body.push(b)
    } else if (first.key !== key) {
      r.d.error('E0102', e.keySpan, `upstream \`${name}\` is given a different breaker here`, {
        label: 'differs from the first', notes: [{ message: 'first breaker for this upstream', span: first.span }],
        hint: `an upstream has one breaker, shared by all its routes: give them the same one, or set it once under \`upstreams.${name}.breaker\``,
      })
    }
  }
}

interface ReadRoute { name: A.WordV | undefined; base: string; body: A.RouteStmt[]; span: A.Span; endLine: number }

function readRoute(r: YamlReader, node: YNode, path: string, scope: RouteScope, at: A.Span): ReadRoute | undefined {
  const f = r.fields(node, path, ROUTE_KEYS, at)
  if (f === undefined) return undefined
  const span = [...f.values()][0]?.keySpan ?? r.span(node, at)
  const n = f.get('name')
  const ns = n && r.str(n.value, n.path, n.keySpan, 'a route name')
  const name = ns && r.declName(ns.value, ns.span, 'route')
  if (n !== undefined && name === undefined) return undefined
  const m = f.get('match'), hd = f.get('headers'), rl = f.get('ratelimit'), au = f.get('auth')
  const match = m && readMatch(r, m)
  const headers = hd ? readHeaders(r, hd) : []
  const limits = rl ? readRatelimits(r, rl) : []
  const auth = au && readAuth(r, au, scope)
  const settings: A.RouteStmt[] = []
  const t = f.get('timeout'), mb = f.get('max_body'), rt = f.get('retries')
  const tq = t && r.qty(t.value, t.path, t.keySpan)
  if (t && tq) settings.push({ kind: 'timeout', value: tq, span: t.keySpan })
  const mq = mb && r.qty(mb.value, mb.path, mb.keySpan)
  if (mb && mq) settings.push({ kind: 'max_body', value: mq, span: mb.keySpan })
  const retry = rt && readRetry(r, rt)
  if (retry) settings.push(retry)

  const proxy = readProxy(r, f)
  const rs = f.get('respond'), fb = f.get('fallback')
  let terminal: A.ProxyStmt | A.RespondStmt | undefined = proxy
  if (rs !== undefined) {
    if (proxy !== undefined) r.d.error('E0404', rs.keySpan, 'a route either proxies to its `upstream` or answers with `respond`, not both', { notes: [{ message: 'proxied here', span: proxy.span }], hint: 'for an answer when the upstream is down, use `fallback`' })
    else terminal = readRespond(r, rs)
  }
  if (fb !== undefined) {
    if (proxy === undefined) r.d.error('E0404', fb.keySpan, '`fallback` answers for an upstream, and this route has none', { hint: 'add `upstream: NAME`, or use `respond`' })
    else proxy.fallback = readRespond(r, fb) ?? null
  }
  const br = f.get('breaker')
  if (br !== undefined) applyBreaker(r, br, proxy, scope)

  // Within each group local limiters go before Redis ones (no round trip for what a local one rejects).
  const redis = (l: A.RatelimitStmt): number => (l.options.some(o => o.name.value === 'redis') ? 1 : 0)
  const byCost = (ls: A.RatelimitStmt[]): A.RatelimitStmt[] => [...ls].sort((a, b) => redis(a) - redis(b))
  const early = byCost(limits.filter(l => l.key.kind === 'ip' || l.key.kind === 'header'))
  const late = byCost(limits.filter(l => l.key.kind === 'user' || l.key.kind === 'claim'))
  const body: A.RouteStmt[] = [
    ...(match ? [match] : []), ...headers, ...early, ...(auth ? [auth] : []), ...late, ...settings, ...(terminal ? [terminal] : []),
  ]
  const base = proxy?.targets[0]?.upstream.value ?? (rs !== undefined ? 'respond' : 'route')
  return { name, base, body, span, endLine: r.endLine(node, span.line) }
}

/**
 * `routes: [ … ]` → route declarations. A route without `name:` is named after its upstream: the first
 * route to `payments` is `payments`, the next `payments_2`, and so on (names given with `name:` are
 * skipped), so adding a route to another upstream never renames an existing one.
 */
export function readRoutes(r: YamlReader, e: Entry, scope: RouteScope): A.RouteDecl[] {
  const read = (r.list(e, 'a list of routes', false) ?? []).map(it => readRoute(r, it.node, it.path, scope, e.keySpan))
  const taken = new Set(read.map(x => x?.name?.value).filter((x): x is string => x !== undefined))
  const count = new Map<string, number>()
  const out: A.RouteDecl[] = []
  for (const x of read) {
    if (x === undefined) continue
    let name = x.name
    if (name === undefined) {
      let n = count.get(x.base) ?? 0, candidate: string
      do { n++; candidate = n === 1 ? x.base : `${x.base}_${n}` } while (taken.has(candidate))
      count.set(x.base, n)
      taken.add(candidate)
      name = word(candidate, x.span)
    }
    out.push({ kind: 'route', name, body: x.body, span: x.span, endLine: x.endLine })
  }
  return out
}
