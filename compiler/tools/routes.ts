// `gwc routes`: the route table — match, stages in order, upstream and the static worst-case envelope.
import type { BundleIR, MatchIR, RouteIR, StageIR } from '../../config/ir.js'
import { formatQty } from '../values.js'
import { textTable } from './table.js'

export function describeMatch(m: MatchIR): string {
  const parts = [m.hosts.length === 0 ? '*' : m.hosts.join(',')]
  parts.push(m.path.kind === 'exact' ? m.path.value : m.path.value === '/' ? '/…' : `${m.path.value}${m.path.value.endsWith('/') ? '' : '/'}…`)
  if (m.methods.length > 0) parts.push(m.methods.join(','))
  if (m.header !== null) parts.push(m.header.value === null ? `[${m.header.name}]` : `[${m.header.name}=${m.header.value}]`)
  return parts.join(' ')
}

export function describeStage(s: StageIR): string {
  switch (s.kind) {
    case 'auth': return `auth ${s.provider}`
    case 'ratelimit': {
      const key = s.key.kind === 'header' ? `header ${s.key.header}` : s.key.kind === 'claim' ? `claim ${s.key.claim}` : s.key.kind
      return `ratelimit ${key} ${s.limit}/${formatQty('duration', s.windowMs)}${s.store === 'redis' ? ` redis ${s.failOpen ? 'fail_open' : 'fail_closed'}` : ''}`
    }
    case 'headers': return `headers ${s.target} ${s.ops.map(o => `${o.op} ${o.name}`).join(', ')}`
  }
}

export function describeTerminal(r: RouteIR): string {
  const t = r.terminal
  if (t.kind === 'respond') return `respond ${t.status}`
  return 'proxy ' + t.targets.map(x => (t.targets.length > 1 ? `${x.upstream} ${x.weight}%` : x.upstream)).join(', ') + (t.fallback ? ` (fallback ${t.fallback.status})` : '')
}

export function routeRows(ir: BundleIR): string[][] {
  return ir.routes.map(r => [
    r.name,
    describeMatch(r.match),
    [...r.stages.map(describeStage), describeTerminal(r)].join(' → '),
    String(r.envelope.maxAttempts),
    formatQty('duration', r.envelope.worstLatencyMs),
    `${r.envelope.amplification}×`,
  ])
}

export function renderRoutes(ir: BundleIR): string {
  return textTable(['ROUTE', 'MATCH', 'PIPELINE', 'TRIES', 'WORST', 'AMPL'], routeRows(ir))
}
