// `gwc diff`: per-route behaviour changes between two IRs — routes added, removed, renamed (same match, new
// name) and changed stage by stage — plus upstream, policy declaration (jwt provider, …) and identity-header changes. Source spans
// and derived ids are never compared: moving a declaration within or between files changes no behaviour.
import type {
  BundleIR, DeclarationIR, MatchIR, ProxyIR, RespondIR, RetryIR, RouteIR, StageIR, UpstreamIR,
} from '../../config/ir.js'
import { isBundleDir, readBundle } from '../../config/bundle-io.js'
import { renderText } from '../diagnostics/render.js'
import { compile } from '../compile.js'
import { FRONT_ENDS } from '../front-ends.js'
import { REGISTRY } from '../policies.js'
import { change, dur, fields, optional, pct, setChange, size, valueChange, type Change } from './diff-values.js'
export type { Change } from './diff-values.js'
import { describeFailover, describeMatch, describeStage, describeTerminal, describeUpgrade } from './routes.js'


export interface StageChange {
  change: 'added' | 'removed' | 'moved' | 'changed'
  /** The stage as `gwc routes` shows it (the new one, or the old one when removed). */
  stage: string
  /** 1-based positions in the old and new pipelines; null where the stage is absent. */
  from: number | null
  to: number | null
  changes: Change[]
}

export interface RouteDiff {
  change: 'added' | 'removed' | 'renamed' | 'changed'
  name: string
  /** The old name of a renamed route. */
  oldName: string | null
  /** Match and pipeline of an added or removed route. */
  summary: string | null
  match: Change[]
  stages: StageChange[]
  /** timeout, max_body, retry, upgrade. */
  settings: Change[]
  terminal: Change[]
  envelope: Change[]
}

export interface NamedDiff { change: 'added' | 'removed' | 'changed'; name: string; summary: string | null; changes: Change[] }

export interface IrDiff {
  identical: boolean
  routes: RouteDiff[]
  upstreams: NamedDiff[]
  /** The policies' declarations (`jwt`, `keys`, …): `kind` is the declaration's keyword. */
  declarations: (NamedDiff & { kind: string })[]
  identityHeaders: Change[]
}

// ── routes ─────────────────────────────────────────────────────────────────────────────────────────

const pathText = (p: MatchIR['path']) => `${p.kind} ${p.value}`
const headerText = (h: MatchIR['header']) => (h === null ? 'none' : h.value === null ? `${h.name} (present)` : `${h.name}=${h.value}`)
const retryText = (r: RetryIR) => `${r.count} ${r.methods}, budget ${pct(r.budget)}, per_try ${dur(r.perTryMs)}, backoff ${dur(r.backoffMs)}`
const respondText = (r: Omit<RespondIR, 'kind' | 'source'>) => `respond ${r.status} ${r.contentType}${r.body ? ' ' + JSON.stringify(r.body) : ''}`

function matchChanges(o: MatchIR, n: MatchIR): Change[] {
  return [
    ...setChange('match.hosts', o.hosts, n.hosts, 'any host'),
    ...valueChange('match.path', o.path, n.path, pathText),
    ...setChange('match.methods', o.methods, n.methods, 'any method'),
    ...valueChange('match.header', o.header, n.header, headerText),
    ...valueChange('match.query', o.query ?? null, n.query ?? null, headerText),
    ...valueChange('match.cookie', o.cookie ?? null, n.cookie ?? null, headerText),
  ]
}

/** A stage as its policy shows it in a diff (`gwc routes`'s words, with values where they matter). */
const stageText = (s: StageIR): string => { const p = REGISTRY.get(s.kind); return p?.diff.text?.(s) ?? describeStage(s) }

/** What makes two stages "the same stage" (kind, provider / limiter key / header target): the policy says. */
const stageKey = (s: StageIR): string => REGISTRY.get(s.kind)?.diff.key(s) ?? `${s.kind} ${JSON.stringify({ ...s, source: undefined })}`

/** The fields that differ between two stages of one key (so of one kind). */
const stageFieldChanges = (o: StageIR, n: StageIR): Change[] => REGISTRY.get(n.kind)?.diff.changes(o, n) ?? []

/** Indices of a longest increasing subsequence of xs: the stages that kept their relative order. */
function inOrder(xs: number[]): Set<number> {
  const tails: number[] = [], prev: number[] = new Array(xs.length).fill(-1)
  xs.forEach((x, i) => {
    let lo = 0, hi = tails.length
    while (lo < hi) { const mid = (lo + hi) >> 1; if (xs[tails[mid]] < x) lo = mid + 1; else hi = mid }
    if (lo > 0) prev[i] = tails[lo - 1]
    tails[lo] = i
  })
  const keep = new Set<number>()
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) keep.add(i)
  return keep
}

/** Pairs the k-th stage of each key in the old pipeline with the k-th of that key in the new one. */
function stageChanges(os: StageIR[], ns: StageIR[]): StageChange[] {
  const pool = new Map<string, number[]>()
  os.forEach((s, i) => { const k = stageKey(s); pool.set(k, [...(pool.get(k) ?? []), i]) })
  const pairs: [number, number][] = []
  const out: StageChange[] = []
  ns.forEach((s, j) => {
    const i = pool.get(stageKey(s))?.shift()
    if (i === undefined) out.push({ change: 'added', stage: stageText(s), from: null, to: j + 1, changes: [] })
    else pairs.push([i, j])
  })
  const paired = new Set(pairs.map(p => p[0]))
  os.forEach((s, i) => { if (!paired.has(i)) out.push({ change: 'removed', stage: stageText(s), from: i + 1, to: null, changes: [] }) })
  const kept = inOrder(pairs.map(p => p[0]))
  pairs.forEach(([i, j], x) => {
    const changes = stageFieldChanges(os[i], ns[j])
    const moved = !kept.has(x)
    if (moved || changes.length > 0) out.push({ change: moved ? 'moved' : 'changed', stage: stageText(ns[j]), from: i + 1, to: j + 1, changes })
  })
  return out.sort((a, b) => (a.to ?? a.from!) - (b.to ?? b.from!) || (a.to === null ? -1 : 1))
}

function terminalChanges(o: RouteIR, n: RouteIR): Change[] {
  const a = o.terminal, b = n.terminal
  if (a.kind !== b.kind) return [change('terminal', a, b, `${describeTerminal(o)} → ${describeTerminal(n)}`)]
  if (a.kind === 'proxy') {
    const bp = b as ProxyIR
    const targets = (p: ProxyIR) => p.targets.map(t => `${t.upstream} ${t.weight}%`)
    const strip = (r: RespondIR | null) => (r === null ? null : { status: r.status, body: r.body, contentType: r.contentType, headers: r.headers })
    return [...valueChange('proxy.targets', targets(a), targets(bp)), ...valueChange('proxy.fallback', strip(a.fallback), strip(bp.fallback), v => (v === null ? 'none' : respondText(v)))]
  }
  const br = b as RespondIR
  return [
    ...fields('respond.', a, br, [['status', 'status'], ['contentType', 'content_type'], ['body', 'body', v => JSON.stringify(v)]]),
    ...valueChange('respond.headers', a.headers.map(h => `${h.name}: ${h.value}`), br.headers.map(h => `${h.name}: ${h.value}`)),
    ...valueChange('respond.redirect', a.redirect?.target ?? null, br.redirect?.target ?? null, v => (v === null ? 'none' : String(v))),
  ]
}

function routeChanges(o: RouteIR, n: RouteIR, renamed: boolean): RouteDiff | undefined {
  const d: RouteDiff = {
    change: renamed ? 'renamed' : 'changed', name: n.name, oldName: renamed ? o.name : null, summary: null,
    match: matchChanges(o.match, n.match),
    stages: stageChanges(o.stages, n.stages),
    settings: [
      ...valueChange('timeout', o.timeoutMs, n.timeoutMs, dur),
      ...valueChange('max_body', o.maxBodyBytes, n.maxBodyBytes, size),
      ...optional('retry', o.retry, n.retry, [['count', 'count'], ['methods', 'methods'], ['budget', 'budget', pct], ['perTryMs', 'per_try', dur], ['backoffMs', 'backoff', dur]], retryText),
      ...optional('upgrade', o.upgrade ?? null, n.upgrade ?? null, [['protocols', 'protocols', v => (v as string[]).join(' ')], ['maxOpen', 'max_open'], ['idleMs', 'idle', dur], ['lifetimeMs', 'lifetime', dur]], describeUpgrade),
    ],
    terminal: terminalChanges(o, n),
    envelope: [
      ...fields('envelope.', o.envelope, n.envelope, [['maxAttempts', 'tries'], ['worstLatencyMs', 'worst', dur], ['amplification', 'amplification', v => `${v}×`]]),
      ...valueChange('envelope.failover', describeFailover(o.envelope.failover), describeFailover(n.envelope.failover), v => v),
    ],
  }
  const changed = d.match.length + d.stages.length + d.settings.length + d.terminal.length + d.envelope.length > 0
  return renamed || changed ? d : undefined
}

const routeSummary = (r: RouteIR) => `${describeMatch(r.match)}: ${[...r.stages.map(describeStage), describeTerminal(r)].join(' → ')}`
const matchKey = (m: MatchIR) => JSON.stringify([[...m.hosts].sort(), m.path, [...m.methods].sort(), m.header, m.query ?? null, m.cookie ?? null])
const bare = (name: string, change: 'added' | 'removed', summary: string): RouteDiff =>
  ({ change, name, oldName: null, summary, match: [], stages: [], settings: [], terminal: [], envelope: [] })

function diffRoutes(old: RouteIR[], next: RouteIR[]): RouteDiff[] {
  const oldBy = new Map(old.map(r => [r.name, r])), newBy = new Map(next.map(r => [r.name, r]))
  const gone = old.filter(r => !newBy.has(r.name))
  const goneByMatch = new Map<string, RouteIR>()
  for (const r of gone) if (!goneByMatch.has(matchKey(r.match))) goneByMatch.set(matchKey(r.match), r)
  const out: RouteDiff[] = []
  const renamedFrom = new Set<string>()
  for (const n of next) {
    const o = oldBy.get(n.name)
    if (o !== undefined) { const d = routeChanges(o, n, false); if (d) out.push(d); continue }
    const was = goneByMatch.get(matchKey(n.match))
    if (was !== undefined && !renamedFrom.has(was.name)) { renamedFrom.add(was.name); out.push(routeChanges(was, n, true)!); continue }
    out.push(bare(n.name, 'added', routeSummary(n)))
  }
  for (const o of gone) if (!renamedFrom.has(o.name)) out.push(bare(o.name, 'removed', routeSummary(o)))
  return out
}

// ── upstreams and jwt providers ────────────────────────────────────────────────────────────────────

function diffNamed<T extends { name: string }>(old: T[], next: T[], summary: (x: T) => string, changes: (o: T, n: T) => Change[]): NamedDiff[] {
  const oldBy = new Map(old.map(x => [x.name, x])), newNames = new Set(next.map(x => x.name))
  const out: NamedDiff[] = []
  for (const n of next) {
    const o = oldBy.get(n.name)
    if (o === undefined) { out.push({ change: 'added', name: n.name, summary: summary(n), changes: [] }); continue }
    const c = changes(o, n)
    if (c.length > 0) out.push({ change: 'changed', name: n.name, summary: null, changes: c })
  }
  for (const o of old) if (!newNames.has(o.name)) out.push({ change: 'removed', name: o.name, summary: summary(o), changes: [] })
  return out
}

const addr = (r: { host: string; port: number }) => (r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`)

function upstreamChanges(o: UpstreamIR, n: UpstreamIR): Change[] {
  return [
    ...setChange('replicas', o.replicas.map(addr), n.replicas.map(addr)),
    ...valueChange('balance', o.balance, n.balance),
    ...fields('pool.', o.pool, n.pool, [['connections', 'connections'], ['idleMs', 'idle', dur], ['connectTimeoutMs', 'connect_timeout', dur], ['sendTimeoutMs', 'send_timeout', dur]]),
    ...optional('bulkhead', o.bulkhead, n.bulkhead, [['maxInFlight', 'max_in_flight']], b => `max_in_flight ${b.maxInFlight}`),
    ...optional('breaker', o.breaker, n.breaker, [['errorRatio', 'error_ratio', pct], ['minRequests', 'min_requests'], ['windowMs', 'window', dur], ['openMs', 'open_for', dur], ['halfOpenProbes', 'half_open']],
      b => `error_ratio ${pct(b.errorRatio)} min_requests ${b.minRequests} window ${dur(b.windowMs)} open_for ${dur(b.openMs)}`),
    ...optional('health.active', o.health.active, n.health.active, [['path', 'path'], ['intervalMs', 'every', dur], ['timeoutMs', 'timeout', dur], ['unhealthyAfter', 'unhealthy_after'], ['healthyAfter', 'healthy_after']],
      h => `${h.path} every ${dur(h.intervalMs)}`),
    ...optional('health.passive', o.health.passive, n.health.passive, [['ejectAfter', 'eject_after'], ['ejectMs', 'for', dur]], h => `eject_after ${h.ejectAfter} for ${dur(h.ejectMs)}`),
  ]
}

/**
 * The policies' declarations (one namespace): each compared by its declaration's `diff`; one whose kind changed
 * under the same name is the old one removed and a new one added.
 */
function diffDeclarations(old: DeclarationIR[], next: DeclarationIR[]): IrDiff['declarations'] {
  const kinds = [...new Set([...old, ...next].map(x => x.kind))]
  return kinds.flatMap(kind => {
    const d = REGISTRY.declaration(kind).diff
    const o = old.filter(x => x.kind === kind), n = next.filter(x => x.kind === kind)
    return diffNamed(o, n, x => d.summary(x), (a, b) => d.changes(a, b)).map(x => ({ kind, ...x }))
  })
}

/** Compares two checked IRs. Pure; never throws on valid IR. */
export function diffIr(old: BundleIR, next: BundleIR): IrDiff {
  const routes = diffRoutes(old.routes, next.routes)
  const upstreams = diffNamed(old.upstreams, next.upstreams, u => `${u.replicas.map(addr).join(' ')}, ${u.balance}`, upstreamChanges)
  const declarations = diffDeclarations(old.declarations, next.declarations)
  const identityHeaders = setChange('identity headers', old.identityHeaders, next.identityHeaders)
  return { identical: routes.length + upstreams.length + declarations.length + identityHeaders.length === 0, routes, upstreams, declarations, identityHeaders }
}

// ── output ─────────────────────────────────────────────────────────────────────────────────────────

function counts(xs: { change: string }[]): Record<string, number> {
  const c: Record<string, number> = {}
  for (const x of xs) c[x.change] = (c[x.change] ?? 0) + 1
  return c
}

function summaryLine(d: IrDiff): string {
  const part = (what: string, xs: { change: string }[]) => (xs.length === 0 ? [] : [`${what}: ${Object.entries(counts(xs)).map(([k, n]) => `${n} ${k}`).join(', ')}`])
  const kinds = [...new Set(d.declarations.map(x => x.kind))]
  const decls = kinds.flatMap(k => part(`${REGISTRY.declaration(k).syntax.what}s`, d.declarations.filter(x => x.kind === k)))
  return [...part('routes', d.routes), ...part('upstreams', d.upstreams), ...decls, ...(d.identityHeaders.length ? ['identity headers changed'] : [])].join('; ')
}

function block(head: string, rows: [string, string][]): string[] {
  const w = Math.max(0, ...rows.map(r => r[0].length))
  return [head, ...rows.map(([a, b]) => `    ${a.padEnd(w)}  ${b}`)]
}

const rowsOf = (cs: Change[]): [string, string][] => cs.map(c => [c.field, c.text])

function stageRow(s: StageChange): [string, string] {
  const detail = s.changes.length ? ': ' + s.changes.map(c => `${c.field} ${c.text}`).join('; ') : ''
  switch (s.change) {
    case 'added': return [`stage ${s.to}`, `added: ${s.stage}`]
    case 'removed': return [`stage ${s.from} (old)`, `removed: ${s.stage}`]
    case 'moved': return [`stage ${s.from} → ${s.to}`, `moved: ${s.stage}${detail}`]
    case 'changed': return [`stage ${s.to}`, `${s.stage}${detail}`]
  }
}

const SIGN = { added: '+', removed: '-', renamed: '~', changed: '~' } as const

/** Human-readable report: one summary line, then one block per changed route, upstream and provider. */
export function renderDiffText(d: IrDiff): string {
  if (d.identical) return 'no behaviour changes\n'
  const out = [summaryLine(d)]
  for (const r of d.routes) {
    if (r.summary !== null) { out.push(`${SIGN[r.change]} route ${r.name}  ${r.summary}`); continue }
    out.push(...block(`~ route ${r.name}${r.oldName !== null ? ` (renamed from ${r.oldName})` : ''}`,
      [...rowsOf(r.match), ...r.stages.map(stageRow), ...rowsOf(r.settings), ...rowsOf(r.terminal), ...rowsOf(r.envelope)]))
  }
  for (const x of [...d.upstreams.map(u => ({ kind: 'upstream', ...u })), ...d.declarations]) {
    out.push(...(x.summary !== null ? [`${SIGN[x.change]} ${x.kind} ${x.name}  ${x.summary}`] : block(`~ ${x.kind} ${x.name}`, rowsOf(x.changes))))
  }
  for (const c of d.identityHeaders) out.push(`~ ${c.field}: ${c.text}`)
  return out.join('\n') + '\n'
}

/** The JSON report: the IrDiff plus per-section counts. */
export function renderDiffJson(d: IrDiff): string {
  const { identical, ...rest } = d
  return JSON.stringify({ identical, counts: { routes: counts(d.routes), upstreams: counts(d.upstreams), declarations: counts(d.declarations) }, ...rest }, null, 2) + '\n'
}

// ── the command ────────────────────────────────────────────────────────────────────────────────────

/** What a gwc subcommand prints and its exit status; bin/gwc writes it out. */
export interface CommandOutput { code: number; out: string; err: string }

/**
 * The IR of a bundle directory (one path) or of policy sources, checked. On failure `err` holds the rendered
 * errors (warnings are left out: they do not stop a diff or an explain). Never throws.
 */
export function loadIr(paths: string[]): { ir: BundleIR; err: '' } | { ir: undefined; err: string } {
  if (paths.length === 1 && isBundleDir(paths[0])) {
    try { return { ir: readBundle(paths[0]).manifest.ir, err: '' } } catch (e) { return { ir: undefined, err: `${paths[0]}: ${(e as Error).message}\n` } }
  }
  const r = compile(paths, { frontEnds: FRONT_ENDS })
  if (r.ir !== undefined) return { ir: r.ir, err: '' }
  const errors = r.diagnostics.filter(x => x.severity === 'error')
  return { ir: undefined, err: renderText(errors, new Map(r.sources.map(s => [s.display, s.text]))) + `${paths.join(' ')}: ${errors.length} error${errors.length === 1 ? '' : 's'}\n` }
}

/**
 * The two sides of `gwc diff`, from its arguments: `OLD NEW` (each a bundle directory or one policy file or
 * directory), `OLD… -- NEW…`, or `--old A… --new B…`. Returns a usage message instead when they do not say.
 */
export function parseDiffSides(positionals: string[], afterDashes: string[] | null, old: string[] | undefined, next: string[] | undefined): { old: string[]; new: string[] } | string {
  if (old !== undefined || next !== undefined) {
    if (old === undefined || next === undefined) return 'diff needs both --old and --new'
    if (positionals.length > 0 || afterDashes !== null) return 'give the sides either with --old/--new or as positional paths, not both'
    return { old, new: next }
  }
  if (afterDashes !== null) {
    if (positionals.length === 0 || afterDashes.length === 0) return 'diff needs policy paths on both sides of `--`'
    return { old: positionals, new: afterDashes }
  }
  if (positionals.length !== 2) return 'diff needs OLD and NEW (bundle directories or policy paths; several files per side: OLD… -- NEW…)'
  return { old: [positionals[0]], new: [positionals[1]] }
}

/** `gwc diff`: exit 0 identical, 1 different, 2 when a side cannot be read or has errors. */
export function runDiff(sides: { old: string[]; new: string[] }, format: 'text' | 'json'): CommandOutput {
  const a = loadIr(sides.old), b = loadIr(sides.new)
  if (a.ir === undefined || b.ir === undefined) {
    const which = a.ir === undefined && b.ir === undefined ? 'either side' : a.ir === undefined ? 'the old side' : 'the new side'
    return { code: 2, out: '', err: a.err + b.err + `gwc: cannot diff: ${which} does not compile\n` }
  }
  const d = diffIr(a.ir, b.ir)
  return { code: d.identical ? 0 : 1, out: format === 'json' ? renderDiffJson(d) : renderDiffText(d), err: '' }
}

/** The `--format` of `diff` and `explain`: text (default) or json; undefined for anything else. */
export function outputFormat(v: unknown): 'text' | 'json' | undefined {
  return v === undefined || v === 'text' ? 'text' : v === 'json' ? 'json' : undefined
}
