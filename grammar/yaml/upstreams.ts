// YAML front end, declarations other than routes: `upstreams:`, `defaults:` and `include:`, each
// lowered to the .gwp AST statements that say the same thing (docs/yaml.md has the table).
import type * as A from '../ast.js'
import { tokenOf, type Entry, type YNode, type YamlReader } from './nodes.js'

export const UPSTREAM_KEYS = ['replicas', 'lb', 'health', 'passive_health', 'pool', 'bulkhead', 'breaker'] as const
const HEALTH_KEYS: Record<string, string> = { path: 'path', interval: 'every', timeout: 'timeout', unhealthy_after: 'unhealthy_after', healthy_after: 'healthy_after' }
const PASSIVE_KEYS: Record<string, string> = { eject_after: 'eject_after', eject_for: 'for' }
const POOL_KEYS: Record<string, string> = { connections: 'connections', idle: 'idle', connect_timeout: 'connect_timeout', send_timeout: 'send_timeout' }
const BREAKER_KEYS: Record<string, string> = { error_ratio: 'error_ratio', min_requests: 'min_requests', window: 'window', open_for: 'open_for', half_open: 'half_open' }

/**
 * An option list from a YAML map whose keys translate one to one (`interval` → `every`). Percent-typed
 * options (`error_ratio`) read a bare number as a fraction, as the brief writes `error_ratio: 0.5`.
 */
function optionMap(r: YamlReader, e: Entry, keys: Record<string, string>, ratios: string[] = []): A.OptionAst[] | undefined {
  const f = r.fields(e.value, e.path, Object.keys(keys), e.keySpan)
  if (f === undefined) return undefined
  const out: A.OptionAst[] = []
  for (const x of f.values()) {
    const gwp = keys[x.key]
    const v = gwp === 'path' ? r.str(x.value, x.path, x.keySpan) : r.qty(x.value, x.path, x.keySpan, ratios.includes(x.key) ? 'ratio' : 'plain')
    if (v !== undefined) out.push(r.option(gwp, x.keySpan, [v]))
  }
  return out
}

/** A replica as the .gwp lexer would read the same text: host:port, number, bare name or string. */
function replicas(r: YamlReader, n: YNode, path: string, at: A.Span): A.Value[] {
  const s = r.str(n, path, at, 'a `host:port` string')
  if (s === undefined) return []
  const parts = s.value.split(/[\s,]+/).filter(Boolean)
  if (parts.length <= 1) { const v = replica(s); return v === undefined ? [] : [v] }
  // `replicas: a:1, b:2` is one YAML string, not a list: said once; the addresses are still read, so the
  // upstream is not also reported as having no replicas
  r.d.error('E0305', s.span, `\`${s.value}\` is ${parts.length} replica addresses in one string`, {
    label: 'one string, not a list', hint: `write a YAML list: \`[${parts.map(p => JSON.stringify(p)).join(', ')}]\``,
  })
  return parts.map(p => replica({ ...s, value: p })).filter((v): v is A.Value => v !== undefined)
}

function replica(s: A.StrV): A.Value | undefined {
  switch (tokenOf(s.value)) {
    case 'HostPort': return { kind: 'addr', raw: s.value, span: s.span }
    case 'Identifier': return { kind: 'word', value: s.value, span: s.span }
    case 'Quantity': { const m = /^(\d+(?:\.\d+)?)(.*)$/.exec(s.value)!; return { kind: 'qty', raw: s.value, num: Number(m[1]), unit: m[2], span: s.span } }
    default: return s
  }
}

export function readBreaker(r: YamlReader, e: Entry): A.OptionsStmt | undefined {
  const options = optionMap(r, e, BREAKER_KEYS, ['error_ratio'])
  return options && { kind: 'breaker', options, span: e.keySpan }
}

/** Upstream statements from a map's entries (an `upstreams.NAME` map, or `defaults`), in .gwp's usual order. */
export function upstreamStmts(r: YamlReader, f: Map<string, Entry>): A.UpstreamStmt[] {
  const out: A.UpstreamStmt[] = []
  const rep = f.get('replicas')
  if (rep !== undefined) {
    const items = r.list(rep, 'a list of `host:port` strings')
    const addrs = (items ?? []).flatMap(i => replicas(r, i.node, i.path, rep.keySpan))
    // An empty list is left to the checker, which reports the upstream as having no replicas.
    if (addrs.length > 0) out.push({ kind: 'replicas', addrs, span: rep.keySpan })
  }
  const lb = f.get('lb')
  if (lb !== undefined) {
    const s = r.str(lb.value, lb.path, lb.keySpan, 'a balance policy')
    if (s !== undefined) {
      const word = s.value.replace(/-/g, '_')
      if (r.isIdentifier(word)) out.push({ kind: 'balance', value: { kind: 'word', value: word, span: s.span }, span: lb.keySpan })
      else r.d.error('E0206', s.span, `unknown balance policy \`${s.value}\``, { label: 'not a balance policy', hint: 'choose one of `round-robin`, `least-conn`, `p2c-ewma`, `random`' })
    }
  }
  const health = f.get('health')
  if (health !== undefined) {
    const options = optionMap(r, health, HEALTH_KEYS)
    if (options !== undefined) out.push({ kind: 'health', mode: 'active', options, span: health.keySpan })
  }
  const passive = f.get('passive_health')
  if (passive !== undefined) {
    const options = optionMap(r, passive, PASSIVE_KEYS)
    if (options !== undefined) out.push({ kind: 'health', mode: 'passive', options, span: passive.keySpan })
  }
  const pool = f.get('pool')
  if (pool !== undefined) {
    const options = optionMap(r, pool, POOL_KEYS)
    if (options !== undefined) out.push({ kind: 'pool', options, span: pool.keySpan })
  }
  const bh = f.get('bulkhead')
  if (bh !== undefined) {
    // `bulkhead: 256` is short for `bulkhead: { max_in_flight: 256 }`.
    const options = r.isNumber(bh.value)
      ? [r.qty(bh.value, bh.path, bh.keySpan)].filter(q => q !== undefined).map(q => r.option('max_in_flight', bh.keySpan, [q]))
      : optionMap(r, bh, { max_in_flight: 'max_in_flight' })
    if (options !== undefined) out.push({ kind: 'bulkhead', options, span: bh.keySpan })
  }
  const br = f.get('breaker')
  if (br !== undefined) { const s = readBreaker(r, br); if (s !== undefined) out.push(s) }
  return out
}

/** `upstreams: { NAME: { replicas, lb, … } }` → one `upstream NAME { … }` per entry. */
export function readUpstreams(r: YamlReader, e: Entry): A.UpstreamDecl[] {
  const out: A.UpstreamDecl[] = []
  for (const u of r.entries(e.value, e.path, e.keySpan) ?? []) {
    const name = r.declName(u.key, u.keySpan, 'upstream')
    const f = r.fields(u.value, u.path, UPSTREAM_KEYS, u.keySpan)
    if (name === undefined || f === undefined) continue
    out.push({ kind: 'upstream', name, body: upstreamStmts(r, f), span: u.keySpan, endLine: r.endLine(u.value, u.keySpan.line) })
  }
  return out
}
