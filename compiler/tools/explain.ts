// `gwc explain`: what the gateway would do with one request — the normalised path (or the 400), every route
// that did not match and why, the ones that matched but lost on precedence (and to which), and the stages the
// chosen route runs. config/match.ts and config/path.ts decide; this file only words their answers.
import type { BundleIR, MatchIR, RouteIR, StageIR, UpstreamIR } from '../../config/ir.js'
import { HOST_HEADER } from '../../config/http.js'
import { compareRank, EXACT_HOST_RANK, EXACT_PATH_RANK, matchRoute, selectRoute, type MatchFailure, type Rank, type RequestShape } from '../../config/match.js'
import { normalizePath } from '../../config/path.js'
import { cookieValue, INVALID, NOT_PRESENT, queryParam } from '../../config/conditions.js'
import { buildLocation } from '../../config/location.js'
import { IDEMPOTENT, TOKEN } from '../../config/http.js'
import { formatQty } from '../values.js'
import { loadIr, type CommandOutput } from './diff.js'
import { describeMatch, describeUpgrade } from './routes.js'
import { REGISTRY } from '../policies.js'

export interface ExplainRequest {
  method: string
  /** Lower-case, without port or trailing dot (as the runtime reads Host). */
  host: string
  /** The path as sent, before normalisation. */
  path: string
  /** `?…` or ''. */
  query: string
  /** Lower-case names; repeated headers joined with `, ` (Cookie with `; `). */
  headers: Record<string, string>
}

export interface Candidate {
  route: string
  match: string
  result: 'chosen' | 'lost' | 'no_match'
  /** Every condition this route's match fails on, first the one the matcher stops at. */
  reasons: { condition: MatchFailure; reason: string }[]
  /** For `lost`: the winner and the precedence rule it won on. */
  lostTo: string | null
  lostOn: string | null
}

export interface Step { kind: string; text: string; note: string | null }

export interface Explanation {
  request: ExplainRequest
  normalizedPath: string | null
  outcome: { result: 'routed' | 'not_found' | 'bad_request'; status: number | null; route: string | null; reason: string }
  candidates: Candidate[]
  steps: Step[]
}

const code = (s: string) => '`' + s + '`'

/** Host header values the runtime accepts (runtime/request-head.ts; the compiler may not import runtime/). */
const dur = (ms: number) => formatQty('duration', ms)

/** Why the runtime's normaliser refuses a path (config/path.ts returns only null). */
function refusal(p: string): string {
  if (!p.startsWith('/')) return `the path ${code(p)} does not start with ${code('/')}`
  if (p.includes('\\')) return `the path ${code(p)} contains a raw ${code('\\')}`
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(p)
  if (bad) return `the path ${code(p)} has a malformed percent escape at ${code(p.slice(bad.index, bad.index + 3))}`
  const enc = /%(2f|5c|00)/i.exec(p)
  if (enc) return `the path ${code(p)} encodes ${code(enc[0])} (an encoded ${code(decodeURIComponent(enc[0]).replace('\0', 'NUL'))}), which servers disagree on`
  return `the path ${code(p)} is not valid`
}

function hostReason(m: MatchIR, host: string): string {
  const shown = `host ${code(host)}`
  if (m.hosts.length === 1 && m.hosts[0].startsWith('*.')) return `${shown} is not a subdomain of ${code(m.hosts[0])}`
  return m.hosts.length === 1 ? `${shown} is not ${code(m.hosts[0])}` : `${shown} is none of ${m.hosts.map(code).join(', ')}`
}

function pathReason(m: MatchIR, path: string): string {
  const v = m.path.value
  if (m.path.kind === 'exact') return `exact path ${code(v)} is not ${code(path)}`
  const shown = v === '/' ? '/…' : `${v}${v.endsWith('/') ? '' : '/'}…`
  if (path.startsWith(v)) return `prefix ${code(shown)} does not match ${code(path)} (prefixes match whole segments)`
  return `prefix ${code(shown)} does not match ${code(path)}`
}

function failures(m: MatchIR, req: RequestShape): Candidate['reasons'] {
  // Each condition is tested alone through the reference matcher, with the others widened to "any".
  const only: Record<MatchFailure, MatchIR> = {
    host: { hosts: m.hosts, path: { kind: 'prefix', value: '/' }, methods: [], header: null },
    path: { hosts: [], path: m.path, methods: [], header: null },
    method: { hosts: [], path: { kind: 'prefix', value: '/' }, methods: m.methods, header: null },
    header: { hosts: [], path: { kind: 'prefix', value: '/' }, methods: [], header: m.header },
    query: { hosts: [], path: { kind: 'prefix', value: '/' }, methods: [], header: null, query: m.query },
    cookie: { hosts: [], path: { kind: 'prefix', value: '/' }, methods: [], header: null, cookie: m.cookie },
  }
  // Listed in the order matchRoute tests them, so the first is the one it reports.
  const failed = (Object.keys(only) as MatchFailure[]).filter(c => 'failed' in matchRoute(only[c], req))
  return failed.map(c => {
    switch (c) {
      case 'host': return { condition: c, reason: hostReason(m, req.host) }
      case 'path': return { condition: c, reason: pathReason(m, req.path) }
      case 'method': return { condition: c, reason: `method ${code(req.method)} is not ${m.methods.length === 1 ? code(m.methods[0]) : 'one of ' + m.methods.map(code).join(', ')}` }
      case 'header': {
        const h = m.header!, v = req.headers[h.name]
        return { condition: c, reason: v === undefined ? `header ${code(h.name)} is missing` : `header ${code(h.name)} is ${code(v)}, not ${code(h.value ?? '')}` }
      }
      case 'query': {
        const q = m.query!, v = queryParam(req.query ?? '', q.name)
        return {
          condition: c,
          reason: v === NOT_PRESENT ? `query parameter ${code(q.name)} is missing`
            : v === INVALID ? `query parameter ${code(q.name)} has an invalid percent escape, so it equals nothing`
              : `query parameter ${code(q.name)} is ${code(v)}, not ${code(q.value ?? '')}`,
        }
      }
      case 'cookie': {
        const k = m.cookie!, v = cookieValue(req.headers.cookie, k.name)
        return { condition: c, reason: v === NOT_PRESENT ? `cookie ${code(k.name)} is missing` : `cookie ${code(k.name)} is ${code(v)}, not ${code(k.value ?? '')}` }
      }
    }
  })
}

/** Words for one component of a rank: what made a route more or less specific. */
function rankWords(m: MatchIR, r: Rank, i: number, host: string): string {
  switch (i) {
    case 0: return r[0] === EXACT_HOST_RANK ? `exact host ${code(host)}` : r[0] > 0 ? `wildcard host ${code(m.hosts.find(h => h.startsWith('*.') && host.endsWith(h.slice(1))) ?? '*')}` : 'any host'
    case 1: return r[1] === EXACT_PATH_RANK ? `exact path ${code(m.path.value)}` : `prefix ${code(m.path.value)} (${r[1]} characters)`
    case 2: return r[2] > 0 ? 'a listed method' : 'any method'
    default: return r[3] > 0 ? conditionWords(m) : 'no condition'
  }
}

/** "conditions on header `x-canary` and cookie `beta`" */
function conditionWords(m: MatchIR): string {
  const cs = [
    ...(m.header !== null ? [`header ${code(m.header.name)}`] : []),
    ...(m.query != null ? [`query parameter ${code(m.query.name)}`] : []),
    ...(m.cookie != null ? [`cookie ${code(m.cookie.name)}`] : []),
  ]
  return `${cs.length === 1 ? 'a condition' : `${cs.length} conditions`} on ${cs.join(' and ')}`
}

const RANK_RULE = ['host', 'path', 'method', 'conditions']

function precedence(winner: RouteIR, wr: Rank, loser: RouteIR, lr: Rank, host: string): string {
  for (let i = 0; i < 4; i++) {
    if (wr[i] !== lr[i]) return `${RANK_RULE[i]}: ${rankWords(winner.match, wr, i, host)} beats ${rankWords(loser.match, lr, i, host)}`
  }
  return 'equal precedence: the route declared first wins'
}

// ── the chosen route's pipeline ────────────────────────────────────────────────────────────────────

function stageStep(s: StageIR, ir: BundleIR, req: ExplainRequest, at: { upstreamPath: string }): Step {
  const p = REGISTRY.get(s.kind)
  if (p === undefined) return { kind: s.kind, text: `${s.kind}: a stage this gwc does not know`, note: null }
  const { upstreamPath, ...step } = p.explain(s, { bundle: ir, headers: req.headers, query: req.query, upstreamPath: at.upstreamPath })
  if (upstreamPath !== undefined) at.upstreamPath = upstreamPath
  return { kind: s.kind, ...step }
}

function retryNote(r: RouteIR, req: ExplainRequest): string | null {
  const retry = r.retry
  if (retry === null) return null
  const ok = retry.methods === 'all' || IDEMPOTENT.has(req.method) || (retry.methods === 'idempotency_key' && req.headers['idempotency-key'] !== undefined)
  const where = r.envelope.failover?.retry === 'split' ? 'on the split\'s other upstream, then another replica' : 'on another replica'
  if (ok) return `this ${req.method} may be retried up to ${retry.count} time${retry.count === 1 ? '' : 's'} ${where}`
  return `this ${req.method} is not retried${retry.methods === 'idempotency_key' ? ' (it carries no Idempotency-Key header)' : ' (not idempotent)'}`
}

function upstreamText(u: UpstreamIR | undefined, name: string): string {
  if (u === undefined) return name
  return `${name} [${u.replicas.map(x => `${x.host}:${x.port}`).join(' ')}; ${u.balance}${u.breaker ? '; breaker' : ''}]`
}

/** The protocol a request asks to switch to (its first `Upgrade` token, lower-case, version dropped), or null. */
function upgradeAsked(req: ExplainRequest): string | null {
  const u = req.headers.upgrade
  if (u === undefined || !/(^|,)\s*upgrade\s*(,|$)/i.test(req.headers.connection ?? '')) return null
  const first = u.split(',')[0].trim().toLowerCase()
  const slash = first.indexOf('/')
  return first === '' ? null : slash < 0 ? first : first.slice(0, slash)
}

function steps(r: RouteIR, ir: BundleIR, req: ExplainRequest): Step[] {
  const out: Step[] = []
  if (ir.identityHeaders.length > 0) {
    const sent = ir.identityHeaders.filter(h => req.headers[h] !== undefined)
    out.push({ kind: 'identity', text: `remove client-sent identity headers ${ir.identityHeaders.join(', ')}`, note: sent.length ? `this request's ${sent.join(', ')} ${sent.length === 1 ? 'is' : 'are'} dropped` : null })
  }
  out.push({ kind: 'limits', text: `timeout ${dur(r.timeoutMs)} to response headers (then 504); request body at most ${formatQty('size', r.maxBodyBytes)} (else 413)`, note: null })
  const sent = normalizePath(req.path) + req.query
  const at = { upstreamPath: sent }
  for (const s of r.stages) out.push(stageStep(s, ir, req, at))
  const t = r.terminal
  if (t.kind === 'respond' && t.redirect) {
    const location = buildLocation(t.redirect.parts, req.host, normalizePath(req.path)!, req.query)
    out.push({ kind: 'respond', text: `redirect ${t.status} to ${t.redirect.target}`, note: location === null ? 'the request has no Host: the gateway answers 400' : `Location: ${location}` })
    return out
  }
  if (t.kind === 'respond') {
    const body = t.body.length > 60 ? t.body.slice(0, 57) + '…' : t.body
    out.push({ kind: 'respond', text: `respond ${t.status} ${t.contentType}${body ? ' ' + JSON.stringify(body) : ''}${t.headers.map(h => `; ${h.name}: ${h.value}`).join('')}`, note: null })
    return out
  }
  const targets = t.targets.map(x => `${t.targets.length > 1 ? `${x.weight}% → ` : ''}${upstreamText(ir.upstreams.find(u => u.name === x.upstream), x.upstream)}`).join(', ')
  const retry = r.retry ? `; retry ${r.retry.count} (${r.retry.methods}, budget ${r.retry.budget === null ? 'none' : formatQty('percent', r.retry.budget)}${r.retry.perTryMs !== null ? `, per_try ${dur(r.retry.perTryMs)}` : ''})` : ''
  // Which mechanism answers when, in the order the runtime asks them (docs/operations.md, "Who answers when").
  const split = t.targets.length > 1
  const unavailable = `${split ? 'the next upstream of the split, else ' : ''}${t.fallback ? t.fallback.status : 503}`
  const failed = r.retry === null ? '' : `a retry ${split ? 'on the split\'s other upstream, then another replica' : 'on another replica'} (budget and breaker permitting), else `
  const fallback = `; before sending: no replica in rotation (health), bulkhead full or breaker open → ${unavailable}; after a failed attempt: ${failed}502 (connect error, reset), 504 (timeout) or the upstream's 5xx`
  const path = at.upstreamPath === sent ? '' : ` as ${at.upstreamPath}`
  const asked = upgradeAsked(req)
  if (r.upgrade !== null && r.upgrade !== undefined) {
    const u = r.upgrade
    const note = asked === null ? 'this request asks for no upgrade: proxied as a normal request'
      : u.protocols.includes(asked) ? `this request asks for \`${asked}\`: tunnelled once the upstream answers 101 (503 when ${u.maxOpen} are open)`
      : `this request asks for \`${asked}\`, which the route does not tunnel: 501`
    out.push({ kind: 'upgrade', text: `${describeUpgrade(u)}: a request asking for it becomes a byte tunnel to the upstream after its 101`, note })
  } else if (asked !== null) {
    out.push({ kind: 'upgrade', text: 'no `upgrade` on this route', note: `this request asks for \`${asked}\`: the gateway answers 501` })
  }
  out.push({ kind: 'proxy', text: `proxy${path} ${targets}${retry}${fallback}`, note: retryNote(r, req) })
  return out
}

// ── explain ────────────────────────────────────────────────────────────────────────────────────────

/** Explains one request against an IR. Pure; never throws. */
export function explainRequest(ir: BundleIR, req: ExplainRequest): Explanation {
  const normalizedPath = normalizePath(req.path)
  const hostHeader = req.headers.host
  const refused = hostHeader === undefined ? 'the request has no Host header (HTTP/1.1 requires one)'
    : !HOST_HEADER.test(hostHeader) ? `the Host header ${code(hostHeader)} is not a host name with an optional port`
      : normalizedPath === null ? refusal(req.path) : undefined
  if (refused !== undefined) {
    return { request: req, normalizedPath, outcome: { result: 'bad_request', status: 400, route: null, reason: `${refused}: the gateway answers 400 before routing` }, candidates: [], steps: [] }
  }
  const shape: RequestShape = { host: req.host, path: normalizedPath!, method: req.method, headers: req.headers, query: req.query }
  const win = selectRoute(ir.routes.map(r => r.match), shape)
  const winner = win >= 0 ? ir.routes[win] : undefined
  const wr = winner ? (matchRoute(winner.match, shape) as { rank: Rank }).rank : undefined
  const candidates: Candidate[] = ir.routes.map((r, i) => {
    const m = matchRoute(r.match, shape)
    const base = { route: r.name, match: describeMatch(r.match) }
    if ('failed' in m) return { ...base, result: 'no_match', reasons: failures(r.match, shape), lostTo: null, lostOn: null }
    if (i === win) return { ...base, result: 'chosen', reasons: [], lostTo: null, lostOn: null }
    return { ...base, result: 'lost', reasons: [], lostTo: winner!.name, lostOn: precedence(winner!, wr!, r, m.rank, req.host) }
  })
  const order = { chosen: 0, lost: 1, no_match: 2 }
  candidates.sort((a, b) => order[a.result] - order[b.result])
  if (winner === undefined) {
    const near = candidates.filter(c => c.reasons.length === 1).map(c => `${code(c.route)} (all but its ${c.reasons[0].condition})`)
    const reason = `no route matches: the gateway answers 404 {"error":"no_route"}${near.length ? `; closest: ${near.slice(0, 3).join(', ')}` : ''}`
    return { request: req, normalizedPath, outcome: { result: 'not_found', status: 404, route: null, reason }, candidates, steps: [] }
  }
  const t = winner.terminal
  const reason = t.kind === 'respond' ? `route ${code(winner.name)} answers ${t.status} itself` : `route ${code(winner.name)} forwards to ${t.targets.map(x => x.upstream).join(', ')}`
  return { request: req, normalizedPath, outcome: { result: 'routed', status: t.kind === 'respond' ? t.status : null, route: winner.name, reason }, candidates, steps: steps(winner, ir, req) }
}

// ── input and output ───────────────────────────────────────────────────────────────────────────────

/** The runtime's reading of Host: no port, no trailing dot, lower case (runtime/request-head.ts). */
function hostOnly(h: string): string {
  let host = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host.toLowerCase()
}

/**
 * Reads `--request "[METHOD] URL-or-path"` and `-H "Name: value"` the way curl sends them: an absolute URL
 * gives the Host header unless `-H "Host: …"` overrides it; a path alone takes the host from `-H Host`.
 * The path is kept as typed (the gateway, not the client, normalises it). Returns a usage message on bad input.
 */
export function parseExplainRequest(line: string, headerArgs: string[]): ExplainRequest | string {
  const m = /^\s*(?:(\S+)\s+)?(\S+)\s*$/.exec(line)
  if (m === null) return `cannot read the request ${JSON.stringify(line)}: expected "METHOD URL", e.g. "GET https://api.example.com/v1/items"`
  const method = m[1] ?? 'GET'
  if (!TOKEN.test(method)) return `${JSON.stringify(method)} is not an HTTP method`
  const headers: Record<string, string> = {}
  for (const h of headerArgs) {
    const i = h.indexOf(':')
    const name = i < 0 ? '' : h.slice(0, i).trim().toLowerCase()
    if (!TOKEN.test(name)) return `cannot read the header ${JSON.stringify(h)}: expected "Name: value"`
    const value = h.slice(i + 1).trim()
    // as Node joins repeated lines: Cookie with `; ` (RFC 6265 §5.4), the others with `, `
    headers[name] = headers[name] === undefined ? value : `${headers[name]}${name === 'cookie' ? '; ' : ', '}${value}`
  }
  let target = m[2]
  const abs = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(target)
  if (abs !== null) {
    const authority = abs[2].slice(abs[2].lastIndexOf('@') + 1)
    if (authority === '') return `the URL ${JSON.stringify(target)} has no host`
    headers.host ??= authority
    target = abs[3] === '' || abs[3].startsWith('?') || abs[3].startsWith('#') ? '/' + abs[3] : abs[3]
  } else if (!target.startsWith('/')) {
    return `the request target ${JSON.stringify(target)} is neither a URL (https://host/path) nor a path starting with /`
  }
  target = target.split('#')[0]
  const q = target.indexOf('?')
  return { method, host: headers.host === undefined ? '' : hostOnly(headers.host), path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q), headers }
}

/** The human report: outcome, path, candidates, then the chosen route's stages in order. */
export function renderExplainText(e: Explanation): string {
  const r = e.request
  const out = [`request  ${r.method} ${r.headers.host === undefined ? '(no Host) ' : r.host}${r.path}${r.query}`]
  if (e.normalizedPath !== null) out.push(`path     ${e.normalizedPath === r.path ? `${e.normalizedPath} (already normal)` : `${r.path} is matched as ${e.normalizedPath}`}`)
  const o = e.outcome
  out.push(`result   ${o.result === 'routed' ? `route ${o.route}` : `${o.status}`}: ${o.reason}`)
  if (e.candidates.length > 0) {
    out.push('', `candidates (${e.candidates.length}):`)
    const w = Math.max(...e.candidates.map(c => c.route.length)), mw = Math.max(...e.candidates.map(c => c.match.length))
    for (const c of e.candidates) {
      const why = c.result === 'chosen' ? 'chosen' : c.result === 'lost' ? `matches, but loses to ${c.lostTo} on ${c.lostOn}` : c.reasons.map(x => x.reason).join('; ')
      out.push(`  ${c.result === 'chosen' ? '✓' : c.result === 'lost' ? '~' : '✗'} ${c.route.padEnd(w)}  ${c.match.padEnd(mw)}  ${why}`)
    }
  }
  if (e.steps.length > 0) {
    out.push('', `pipeline of ${o.route}:`)
    e.steps.forEach((s, i) => {
      out.push(`  ${i + 1}. ${s.text}`)
      if (s.note !== null) out.push(`     ↳ ${s.note}`)
    })
  }
  return out.join('\n') + '\n'
}

/** `gwc explain`: exit 0 when a route is chosen, 1 when the gateway would answer 404 (or 400), 2 when the policies do not compile. */
export function runExplain(paths: string[], req: ExplainRequest, format: 'text' | 'json'): CommandOutput {
  const loaded = loadIr(paths)
  if (loaded.ir === undefined) return { code: 2, out: '', err: loaded.err + 'gwc: cannot explain: the policies do not compile\n' }
  const e = explainRequest(loaded.ir, req)
  return { code: e.outcome.result === 'routed' ? 0 : 1, out: format === 'json' ? JSON.stringify(e, null, 2) + '\n' : renderExplainText(e), err: '' }
}
