// YAML front end, routes: each item of `routes:` becomes `route NAME { … }`. YAML maps have no order a
// pipeline could take: match first, then the policy stages by the rank their mappings give them (cheapest
// rejects first: headers, ratelimit by ip/header, auth, ratelimit by user/claim), timeout/max_body/retry, and
// proxy or respond last. The stage mappings come from the policies (compiler/front-ends.ts passes them in).
import type * as A from '../ast.js'
import { readRespond, readRetry, readUpgrade } from './stages.js'
import { readBreaker } from './upstreams.js'
import { type Entry, type YNode, type YamlReader } from './nodes.js'

/**
 * A policy kind's YAML mapping (compiler/policy-api.ts, CompilePolicy.yaml): the route key it reads, the
 * statements it reads from it, and each statement's rank in the pipeline (stable within a rank).
 */
export interface YamlStageMapping {
  key: string
  read(r: YamlReader, e: Entry, scope: { declared: ReadonlyMap<string, string[]> }): A.RouteStmt[]
  rank(s: A.RouteStmt): number
}

/**
 * A policy declaration's YAML mapping (compiler/policy-api.ts, PolicyDeclaration.yaml): the top-level key that
 * holds them (`jwt:`) and the declarations it reads from it (`keyword` is the declaration's .gwp keyword).
 */
export interface YamlDeclarationMapping {
  keyword: string
  key: string
  read(r: YamlReader, e: Entry): A.Declaration[]
}

/** What routes need from the rest of the file. */
export interface RouteScope {
  /** The policy stages a route may hold, with how to read them. */
  stages: readonly YamlStageMapping[]
  /** The policies' declarations in this file by keyword (`auth.provider` may be left out when `jwt:` has exactly one). */
  declared: ReadonlyMap<string, string[]>
  /** Upstreams declared in this file: a route's `breaker` is added to its upstream's block. */
  upstreams: Map<string, A.UpstreamDecl>
  /** The first breaker each upstream got, to report a second, different one. */
  breakers: Map<string, { key: string; span: A.Span }>
}

const ROUTE_KEYS = ['name', 'match', 'upstream', 'upstreams', 'fallback', 'respond', 'timeout', 'max_body', 'retries', 'upgrade', 'breaker'] as const

const word = (value: string, span: A.Span): A.WordV => ({ kind: 'word', value, span })

function readMatch(r: YamlReader, e: Entry): A.MatchStmt | undefined {
  const f = r.fields(e.value, e.path, ['host', 'path', 'path_exact', 'exact', 'methods', 'header', 'query', 'cookie'], e.keySpan)
  if (f === undefined) return undefined
  const m: A.MatchStmt = { kind: 'match', hosts: [], hostSpan: null, path: null, methods: [], methodSpan: null, header: null, query: null, cookie: null, repeated: [], span: e.keySpan }
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
      if (r.isIdentifier(s.value)) m.methods.push(word(s.value, s.span))
      else r.d.error('E0206', s.span, `unknown method \`${s.value}\``, { label: 'not an HTTP method', hint: 'methods are words such as `GET` or `POST`' })
    }
    if (m.methods.length > 0) m.methodSpan = ms.keySpan
  }
  // `header: X-Canary` (present) or `header: { name: X-Canary, value: "1" }` (equal to); `query:` and `cookie:` alike.
  const conditions = [['header', 'header', 'X-Canary'], ['query', 'query parameter', 'version'], ['cookie', 'cookie', 'canary']] as const
  for (const [key, what, example] of conditions) {
    const h = f.get(key)
    if (h === undefined) continue
    let c: NonNullable<A.MatchStmt['header']> | undefined
    if (r.scalarText(h.value) !== undefined) {
      const name = r.nameV(h.value, h.path, h.keySpan)
      if (name !== undefined) c = { name, value: null, span: h.keySpan }
    } else {
      const hf = r.fields(h.value, h.path, ['name', 'value'], h.keySpan)
      const n = hf?.get('name'), v = hf?.get('value')
      if (hf !== undefined && n === undefined) r.d.error('E0104', h.keySpan, `${'`'}${h.path}${'`'} has no \`name\``, { label: `which ${what}?`, hint: `write \`${key}: { name: ${example}, value: "1" }\`` })
      const name = n && r.nameV(n.value, n.path, n.keySpan)
      const value = v ? r.str(v.value, v.path, v.keySpan) ?? null : null
      if (name !== undefined) c = { name, value, span: h.keySpan }
    }
    if (c !== undefined) m[key] = c
  }
  // `match: {}` matches everything, which .gwp spells `path prefix "/"` (a match needs one condition).
  if (m.hosts.length === 0 && m.path === null && m.methods.length === 0 && m.header === null && f.size === 0) {
    m.path = { mode: 'prefix', value: { kind: 'str', value: '/', span: e.keySpan }, span: e.keySpan }
  }
  return m
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
      decl.body.push({ ...b }) // a copy per upstream, so a comment on its line is printed once
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
  const f = r.fields(node, path, [...ROUTE_KEYS, ...scope.stages.map(m => m.key)], at)
  if (f === undefined) return undefined
  const span = [...f.values()][0]?.keySpan ?? r.span(node, at)
  const n = f.get('name')
  const ns = n && r.str(n.value, n.path, n.keySpan, 'a route name')
  const name = ns && r.declName(ns.value, ns.span, 'route')
  if (n !== undefined && name === undefined) return undefined
  const m = f.get('match')
  const match = m && readMatch(r, m)
  const staged: { s: A.RouteStmt; rank: number }[] = []
  for (const mapping of scope.stages) {
    const e = f.get(mapping.key)
    if (e !== undefined) for (const s of mapping.read(r, e, scope)) staged.push({ s, rank: mapping.rank(s) })
  }
  staged.sort((a, b) => a.rank - b.rank)
  const settings: A.RouteStmt[] = []
  const t = f.get('timeout'), mb = f.get('max_body'), rt = f.get('retries')
  const tq = t && r.qty(t.value, t.path, t.keySpan)
  if (t && tq) settings.push({ kind: 'timeout', value: tq, span: t.keySpan })
  const mq = mb && r.qty(mb.value, mb.path, mb.keySpan)
  if (mb && mq) settings.push({ kind: 'max_body', value: mq, span: mb.keySpan })
  const retry = rt && readRetry(r, rt)
  if (retry) settings.push(retry)
  const up = f.get('upgrade')
  const upgrade = up && readUpgrade(r, up)
  if (upgrade) settings.push(upgrade)

  const proxy = readProxy(r, f)
  const rs = f.get('respond'), fb = f.get('fallback')
  let terminal: A.ProxyStmt | A.RespondStmt | undefined = proxy
  if (rs !== undefined) {
    if (proxy !== undefined) r.d.error('E0404', rs.keySpan, 'a route either proxies to its `upstream` or answers with `respond`, not both', { notes: [{ message: 'proxied here', span: proxy.span }], hint: 'for an answer when the upstream is down, use `fallback`' })
    else terminal = readRespond(r, rs, true)
  }
  if (fb !== undefined) {
    if (proxy === undefined) r.d.error('E0404', fb.keySpan, '`fallback` answers for an upstream, and this route has none', { hint: 'add `upstream: NAME`, or use `respond`' })
    else proxy.fallback = readRespond(r, fb) ?? null
  }
  const br = f.get('breaker')
  if (br !== undefined) applyBreaker(r, br, proxy, scope)

  const body: A.RouteStmt[] = [...(match ? [match] : []), ...staged.map(x => x.s), ...settings, ...(terminal ? [terminal] : [])]
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
