// The YAML front end: a policy file in the brief's YAML format (§7) → the same FileAst the .gwp parser
// builds for the equivalent .gwp, with every span pointing into the YAML file, so the checker's diagnostics
// land on YAML lines and columns. docs/yaml.md documents the format; the mapping, in short:
//
//   include: [a.gwp, b.yaml]                 → include "a.gwp" …
//   defaults: { timeout, max_body, retries, lb, health, passive_health, pool, bulkhead, breaker }
//                                            → defaults { … } (same statements as below)
//   jwt: NAME: { issuer, jwks, refresh, refresh_ahead, unknown_kid_cooldown, max_stale, fetch_timeout,
//                algorithms, audience, leeway, cache, forward: { CLAIM: HEADER } }
//                                            → jwt NAME { issuer …; jwks … refresh …; forward claim … as … }
//   upstreams: NAME:
//     replicas: ["h:p", …]                   → replicas h:p …
//     lb: least-conn                         → balance least_conn  (`-` → `_`)
//     health: { path, interval, timeout, unhealthy_after, healthy_after }
//                                            → health active path … every … (interval → every)
//     passive_health: { eject_after, eject_for } → health passive eject_after … for …
//     pool: { connections, idle, connect_timeout, send_timeout }, bulkhead: N | { max_in_flight }
//     breaker: { error_ratio, min_requests, window, open_for, half_open }
//   routes: - name: optional; otherwise the upstream's name, then NAME_2, NAME_3 … (see yaml-routes.ts)
//     match: { host, path, path_exact, exact, methods, header }
//                                            → match host … path prefix "…" method … header …
//                                              (`path` is a prefix; `path_exact:` or `exact: true` exact;
//                                              `match: {}` matches everything: path prefix "/")
//     headers: { request|response: { set: {N: v}, remove: [N] } } → headers request set N "v", remove N
//     ratelimit: { key: user|ip|header:N|claim:N, limit, window, burst, store: local|redis, fail: open|closed }
//                                            → ratelimit by KEY LIMIT per WINDOW [burst N] [redis] [fail_open]
//     auth: { required, provider, aud }      → auth PROVIDER audience "…"; `required: false` → no stage;
//                                              `provider` may be left out when `jwt:` has exactly one
//     timeout, max_body                      → timeout …, max_body …
//     retries: { max, only_idempotent, idempotency_key, all_methods, budget, per_try, backoff }
//                                            → retry MAX idempotent_only (false → all_methods) budget P% …
//                                              (`budget: none` → no_budget)
//     breaker: {…}                           → the `breaker` of the route's upstream (one per upstream)
//     upstream: NAME | upstreams: [{name, weight}]  + fallback: {status, json|text|body, headers}
//                                            → proxy NAME | proxy A 90%, B 10% [fallback respond …]
//     respond: STATUS | { status, json|text|body, headers } → respond STATUS json "…" header N "v"
//   x-anything: ignored at the top level (a home for `&anchors` that `<<: *merge` keys reuse)
//   Route pipelines are ordered cheapest reject first: headers → ratelimit by ip/header → auth →
//   ratelimit by user/claim → proxy/respond (local limiters before redis ones within a group). Ratios (`error_ratio`, `budget`) take a fraction (0.5) or a
//   percentage ("50%"); a weight's bare number is a percentage. Quantities are read as .gwp reads them.
import { LineCounter, Parser, parseDocument } from 'yaml'
import type * as A from '../ast.js'
import { Diagnostics } from '../diagnostic.js'
import { YamlReader, type Entry } from './nodes.js'
import { breakerKey, readRoutes, type RouteScope, type YamlDeclarationMapping, type YamlStageMapping } from './routes.js'
import { readRetry } from './stages.js'
import { UPSTREAM_KEYS, readUpstreams, upstreamStmts } from './upstreams.js'

/** The core's top-level keys; the policies' declarations' keys (`jwt`) go between `defaults` and `upstreams`. */
const topKeys = (declarations: readonly YamlDeclarationMapping[]): string[] => ['include', 'defaults', ...declarations.map(m => m.key), 'upstreams', 'routes']
const DEFAULT_ROUTE_KEYS = ['timeout', 'max_body', 'retries'] as const

/** Every `# comment` of the YAML text, with spans, from the library's concrete syntax tree. */
function yamlComments(text: string, r: YamlReader): A.CommentAst[] {
  const out: A.CommentAst[] = []
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) { x.forEach(walk); return }
    if (x === null || typeof x !== 'object') return
    const t = x as { type?: unknown; offset?: unknown; source?: unknown }
    if (t.type === 'comment' && typeof t.offset === 'number' && typeof t.source === 'string' && t.source.startsWith('#')) {
      out.push({ text: t.source, span: r.spanAt(t.offset, t.offset + t.source.length) })
      return
    }
    for (const v of Object.values(x)) walk(v)
  }
  walk([...new Parser().parse(text)])
  return out.sort((a, b) => a.span.offset - b.span.offset)
}

/** YAML library errors as E0002 (one line, lower-case start, no trailing period, as our messages read). */
export function syntaxMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'a policy file holds one YAML document'
  const line = message.split('\n')[0].replace(/\.$/, '').replace(/ at line \d+, column \d+:?$/, '')
  return line.charAt(0).toLowerCase() + line.slice(1)
}

function readDefaults(r: YamlReader, e: Entry): A.DefaultsDecl | undefined {
  const f = r.fields(e.value, e.path, [...DEFAULT_ROUTE_KEYS, ...UPSTREAM_KEYS], e.keySpan)
  if (f === undefined) return undefined
  const body: (A.RouteStmt | A.UpstreamStmt)[] = []
  for (const k of ['timeout', 'max_body'] as const) {
    const x = f.get(k)
    const q = x && r.qty(x.value, x.path, x.keySpan)
    if (x && q) body.push({ kind: k, value: q, span: x.keySpan })
  }
  const rt = f.get('retries')
  const retry = rt && readRetry(r, rt)
  if (retry) body.push(retry)
  body.push(...upstreamStmts(r, f))
  return { kind: 'defaults', body, span: e.keySpan, endLine: r.endLine(e.value, e.keySpan.line) }
}

/**
 * Parses a YAML policy file into the .gwp AST. Never throws on bad input: YAML syntax errors (E0002),
 * unknown keys (E0205), values of the wrong kind (E0301) and missing keys (E0104) are reported into `d`
 * at YAML positions; the AST holds everything that could be read (nothing after a syntax error). `stages`: the
 * policy kinds' mappings (compiler/front-ends.ts passes the registry's); a route key none of them reads is E0205.
 * `keywords`: the policies' keywords, so a name is read as .gwp would read it. `declarations`: the policies'
 * top-level declarations' mappings (`jwt:`).
 */
export function parseYamlPolicy(text: string, file: string, d: Diagnostics = new Diagnostics(), stages: readonly YamlStageMapping[] = [], keywords: ReadonlySet<string> = new Set(), declarations: readonly YamlDeclarationMapping[] = []): A.FileAst {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: false })
  const r = new YamlReader(file, text, lc, doc, d, keywords)
  const comments = yamlComments(text, r)
  const problems = [...doc.errors, ...doc.warnings]
  for (const e of problems) {
    const [start, end] = e.pos
    d.error('E0002', r.spanAt(Math.min(start, text.length), Math.max(end, start + 1)), syntaxMessage(e.code, e.message), { hint: 'check the indentation, quoting and brackets around here' })
  }
  const ast: A.FileAst = { file, decls: [], comments }
  if (doc.errors.length > 0 || doc.contents === null) return ast
  // Top-level `x-…` keys are ignored (as in Compose files): a place for anchors that other entries merge.
  const top = r.fields(doc.contents, '', topKeys(declarations), r.spanAt(0, 1), k => k.startsWith('x-'))
  if (top === undefined) return ast

  // A section left empty (`routes:` with nothing under it yet) is an empty section, not an error.
  for (const [key, e] of top) if (r.describe(e.value) === 'nothing') top.delete(key)
  const declared = new Map<string, A.Declaration[]>()
  for (const m of declarations) if (top.has(m.key)) declared.set(m.key, m.read(r, top.get(m.key)!))
  const upstreams = top.has('upstreams') ? readUpstreams(r, top.get('upstreams')!) : []
  const names = new Map(declarations.map(m => [m.keyword, (declared.get(m.key) ?? []).map(x => x.name.value)]))
  const scope: RouteScope = { stages, declared: names, upstreams: new Map(upstreams.map(u => [u.name.value, u])), breakers: new Map() }
  for (const u of upstreams) {
    const own = u.body.find((s): s is A.OptionsStmt => s.kind === 'breaker')
    if (own !== undefined) scope.breakers.set(u.name.value, { key: breakerKey(own), span: own.span })
  }
  // Sections keep the order the file gives them; routes are read last because they refer to the others.
  const routes = top.has('routes') ? readRoutes(r, top.get('routes')!, scope) : []
  for (const [key, e] of top) {
    switch (key) {
      case 'include':
        for (const it of r.list(e, 'a file name or a list of them') ?? []) {
          const path = r.str(it.node, it.path, e.keySpan, 'a file name')
          if (path !== undefined) ast.decls.push({ kind: 'include', path, span: path.span, endLine: path.span.line })
        }
        break
      case 'defaults': { const dd = readDefaults(r, e); if (dd) ast.decls.push(dd); break }
      case 'upstreams': ast.decls.push(...upstreams); break
      case 'routes': ast.decls.push(...routes); break
      default: ast.decls.push(...(declared.get(key) ?? []))
    }
  }
  return ast
}
