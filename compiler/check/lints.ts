// Semantic lint rules with stable W07xx codes: legal policies that are very likely mistakes. Each rule is
// documented with an example in docs/language.md.
import type * as A from '../../grammar/ast.js'
import { IDEMPOTENT } from '../../config/http.js'
import type { UpstreamIR } from '../../config/ir.js'
import { formatQty } from '../values.js'
import type { CheckContext } from './context.js'
import type { CheckedRoute } from './route.js'
import type { PipelineView } from '../policy-api.js'
import { retryOptionSpan } from './upstream-retry.js'

export function lintRoute(ctx: CheckContext, c: CheckedRoute, upstreams: Map<string, UpstreamIR>): void {
  const r = c.ir
  const where = `route \`${r.name}\``
  const methods = r.match.methods
  const retry = r.retry
  if (!c.timeoutGiven) {
    ctx.d.warn('W0704', c.decl.name.span, `${where} has no timeout`, { label: `the default ${formatQty('duration', r.timeoutMs)} applies`, hint: 'say how long clients may wait: `timeout 2s` (or set one in `defaults`)' })
  }
  // A retry that can never fire here (only non-idempotent methods, idempotent requests retried): W0703 when
  // the route asked for it; when it comes from `defaults` it simply does not apply, which is not this
  // route's mistake, so none of the retry lints speak for this route.
  const neverFires = retry !== null && retry.methods === 'idempotent' && methods.length > 0 && methods.every(m => !IDEMPOTENT.has(m))
  if (retry !== null && c.retryStmt !== null && !(neverFires && c.retryFromDefaults)) {
    const s = c.retryStmt
    const unsafe = methods.length === 0 ? ['any method'] : methods.filter(m => !IDEMPOTENT.has(m))
    if (retry.methods === 'all' && unsafe.length > 0) {
      ctx.d.warn('W0702', retryOptionSpan(s, 'all_methods'), `${where} retries non-idempotent requests (${unsafe.map(m => m === 'any method' ? m : '`' + m + '`').join(', ')})`, {
        label: 'a retried POST can charge a card twice', hint: 'use `idempotent_only`, or `idempotency_key` if clients send an Idempotency-Key',
      })
    }
    if (neverFires) {
      ctx.d.warn('W0703', s.span, `\`retry\` never fires: ${where} only accepts ${methods.map(m => '`' + m + '`').join(', ')}, and only idempotent requests are retried`, {
        hint: 'add `idempotency_key` to retry requests that carry an Idempotency-Key, or remove `retry`',
      })
    }
    if (retry.budget === null) {
      ctx.d.warn('W0707', retryOptionSpan(s, 'no_budget'), `retries of ${where} have no budget: a failing upstream can get ${1 + retry.count}× its normal load`, {
        hint: 'bound retries with `budget 20%`',
      })
    }
    // `per_try` written but invalid (`per_try 150`) is reported once, as the bad value, not also as missing
    if (retry.perTryMs === null && !s.options.some(o => o.name.value === 'per_try')) {
      ctx.d.warn('W0710', s.span, `retries of ${where} have no \`per_try\` timeout`, {
        label: 'a slow first attempt can use the whole route timeout', hint: `add \`per_try ${formatQty('duration', Math.max(1, Math.floor(r.timeoutMs / (2 + retry.count))))}\` so a retry can still happen in time`,
      })
    }
    if (r.terminal.kind === 'proxy') {
      for (const t of r.terminal.targets) {
        if (upstreams.get(t.upstream)?.breaker === null) {
          ctx.d.warn('W0708', s.span, `${where} retries into upstream \`${t.upstream}\`, which has no breaker`, {
            label: 'nothing stops retries when it is down', hint: `add \`breaker error_ratio 50% min_requests 20 window 10s open_for 5s\` to \`${t.upstream}\``,
          })
        }
      }
    }
  }
  // the policies' own lints (W0706 `ratelimit by header` on an authenticated route, …)
  const pipeline: PipelineView = { stages: r.stages, provides: fact => r.stages.some(s => ctx.policies.establishes(s).includes(fact)) }
  r.stages.forEach((s, i) => ctx.policies.of(s.kind).lint?.(ctx, s, c.stageStmts[i], pipeline))
}

/** W0709: declarations no route refers to. */
export function lintUnused(ctx: CheckContext, kind: string, name: A.WordV): void {
  if (ctx.used.has(`${kind}:${name.value}`)) return
  ctx.d.warn('W0709', name.span, `${kind} \`${name.value}\` is never used`, { label: 'no route refers to it', hint: 'remove it, or refer to it from a route' })
}
