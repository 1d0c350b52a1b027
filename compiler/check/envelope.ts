// The static worst case of each route — what no other gateway tells you before deploy: how many upstream
// attempts one request can cause, how long a client can wait, and the load amplification retries allow.
import type { EnvelopeIR, FailoverIR, RouteIR } from '../../config/ir.js'
import { formatQty } from '../values.js'
import type { CheckContext } from './context.js'
import type { CheckedRoute } from './route.js'

export function envelopeOf(r: Omit<RouteIR, 'envelope'>): EnvelopeIR {
  const retry = r.retry
  const maxAttempts = 1 + (retry?.count ?? 0)
  const tries = retry?.perTryMs != null ? maxAttempts * retry.perTryMs + (maxAttempts - 1) * retry.backoffMs : Infinity
  const amplification = retry === null ? 1 : retry.budget === null ? maxAttempts : Math.min(maxAttempts, 1 + retry.budget)
  const t = r.terminal
  const split = t.kind === 'proxy' && t.targets.length > 1
  const failover: FailoverIR = {
    // the order the runtime fails over in: heaviest first, equal weights in the order written
    upstreams: split ? [...t.targets].sort((a, b) => b.weight - a.weight).map(x => x.upstream) : [],
    retry: t.kind === 'respond' || maxAttempts === 1 ? 'none' : split ? 'split' : 'replica',
  }
  return { maxAttempts, worstLatencyMs: Math.min(r.timeoutMs, tries), amplification: Math.round(amplification * 1000) / 1000, failover }
}

/** E0406: per-try deadlines that cannot all fit in the route's hard timeout. */
export function checkEnvelope(ctx: CheckContext, c: CheckedRoute): void {
  const r = c.ir, retry = r.retry
  if (retry === null || retry.perTryMs === null || c.retryStmt === null) return
  const attempts = 1 + retry.count
  const total = attempts * retry.perTryMs + retry.count * retry.backoffMs
  if (total <= r.timeoutMs) return
  const backoff = retry.backoffMs > 0 ? ` + ${retry.count} × ${formatQty('duration', retry.backoffMs)} backoff` : ''
  ctx.d.error('E0406', c.retryStmt.span, `retries cannot complete within the route timeout: ${attempts} tries × ${formatQty('duration', retry.perTryMs)}${backoff} = ${formatQty('duration', total)} > ${formatQty('duration', r.timeoutMs)}`, {
    label: 'the last tries would be cut off by the timeout',
    hint: `lower \`per_try\` to ${formatQty('duration', Math.floor((r.timeoutMs - retry.count * retry.backoffMs) / attempts))} or less, retry fewer times, or raise \`timeout\``,
  })
}
