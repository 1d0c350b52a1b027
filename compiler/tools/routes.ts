// `gwc routes`: the route table — match, stages in order, upstream, the static worst-case envelope and where
// a request fails over to.
import type { BundleIR, FailoverIR, MatchIR, RouteIR, StageIR, UpgradeIR } from '../../config/ir.js'
import { formatQty } from '../values.js'
import { REGISTRY } from '../policies.js'
import { textTable } from './table.js'

export function describeMatch(m: MatchIR): string {
  const parts = [m.hosts.length === 0 ? '*' : m.hosts.join(',')]
  parts.push(m.path.kind === 'exact' ? m.path.value : m.path.value === '/' ? '/…' : `${m.path.value}${m.path.value.endsWith('/') ? '' : '/'}…`)
  if (m.methods.length > 0) parts.push(m.methods.join(','))
  if (m.header !== null) parts.push(m.header.value === null ? `[${m.header.name}]` : `[${m.header.name}=${m.header.value}]`)
  if (m.query != null) parts.push(m.query.value === null ? `[?${m.query.name}]` : `[?${m.query.name}=${m.query.value}]`)
  if (m.cookie != null) parts.push(m.cookie.value === null ? `[cookie ${m.cookie.name}]` : `[cookie ${m.cookie.name}=${m.cookie.value}]`)
  return parts.join(' ')
}

/** A stage as its policy words it; a kind this gwc does not know (a bundle from another gwc) says so. */
export function describeStage(s: StageIR): string {
  return REGISTRY.get(s.kind)?.describe(s) ?? `${s.kind} (a stage this gwc does not know)`
}

export function describeTerminal(r: RouteIR): string {
  const t = r.terminal
  if (t.kind === 'respond') return t.redirect ? `redirect ${t.status} ${t.redirect.target}` : `respond ${t.status}`
  return 'proxy ' + t.targets.map(x => (t.targets.length > 1 ? `${x.upstream} ${x.weight}%` : x.upstream)).join(', ') + (t.fallback ? ` (fallback ${t.fallback.status})` : '') +
    (r.upgrade ? ` (${describeUpgrade(r.upgrade)})` : '')
}

/** `upgrade websocket max_open 1000 idle 5m lifetime 24h`: the route's tunnels as `gwc routes` and `gwc diff` show them. */
export const describeUpgrade = (u: UpgradeIR): string =>
  `upgrade ${u.protocols.join(' ')} max_open ${u.maxOpen} idle ${formatQty('duration', u.idleMs)} lifetime ${formatQty('duration', u.lifetimeMs)}`

/**
 * Where a request goes when its upstream cannot serve it: `-` nowhere; `replica` a retry tries another
 * replica; `a, b if down` an unavailable upstream of the split hands requests to the next one (heaviest
 * first); `a, b if down or failed, then replica` a retry after a failed attempt also goes to the split's
 * other upstream first. Bundles from before the field existed show `?`.
 */
export function describeFailover(f: FailoverIR | undefined): string {
  if (f === undefined) return '?'
  if (f.upstreams.length === 0) return f.retry === 'none' ? '-' : 'replica'
  return `${f.upstreams.join(', ')} ${f.retry === 'none' ? 'if down' : 'if down or failed, then replica'}`
}

/** Whether a stage can make a request wait (a JWKS fetch, a Redis round trip) rather than decide at once. */
const canWait = (s: StageIR): boolean => REGISTRY.get(s.kind)?.canWait(s) ?? true

/**
 * A `respond` route sends nothing upstream: TRIES and AMPL are `-`, and so is WORST unless a stage before
 * it can wait (then the route timeout still bounds that wait).
 */
export function routeRows(ir: BundleIR): string[][] {
  return ir.routes.map(r => {
    const respond = r.terminal.kind === 'respond'
    return [
      r.name,
      describeMatch(r.match),
      [...r.stages.map(describeStage), describeTerminal(r)].join(' → '),
      respond ? '-' : String(r.envelope.maxAttempts),
      respond && !r.stages.some(canWait) ? '-' : formatQty('duration', r.envelope.worstLatencyMs),
      respond ? '-' : `${r.envelope.amplification}×`,
      describeFailover(r.envelope.failover),
    ]
  })
}

export function renderRoutes(ir: BundleIR): string {
  return textTable(['ROUTE', 'MATCH', 'PIPELINE', 'TRIES', 'WORST', 'AMPL', 'FAILOVER'], routeRows(ir))
}
