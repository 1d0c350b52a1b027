// Compile side of rate limiting: `ratelimit by user|consumer|ip|header NAME|claim NAME N per WINDOW [burst N]
// [local|redis] [fail_open|fail_closed]`.
import { headerName, optFlag, optNum, readOptions, readQty, spanOf, type A, type CheckContext } from '../../compiler/policy-api.js'
import type { StageIR } from '../../config/ir.js'
import type { RateLimitKeyIR } from './options.js'
import type { RatelimitOptions } from './options.js'

/** `ratelimit by KEY N per WINDOW [options]`, as the parser (or the YAML front end) reads it. */
export interface RatelimitStmt {
  kind: 'ratelimit'
  key: { kind: 'user' | 'consumer' | 'ip' | 'header' | 'claim'; name: A.NameV | null; span: A.Span }
  limit: A.QtyV
  window: A.QtyV
  options: A.OptionAst[]
  span: A.Span
}

export type { RateLimitKeyIR }

/** A checked `ratelimit` stage: exactly the options its runtime stage is bound with (options.ts), less the route. */
export interface RateLimitStageIR extends StageIR, Omit<RatelimitOptions, 'route'> {
  kind: 'ratelimit'
}

const SCHEMA = {
  burst: { kind: 'count', range: { min: 0, max: 1_000_000_000 } },
  local: { kind: 'flag' }, redis: { kind: 'flag' },
  fail_open: { kind: 'flag' }, fail_closed: { kind: 'flag' },
} as const

/**
 * A limiter's identity, the name of its key space (in memory and in Redis): what it means, not where it stands.
 * The route (or policy), what it counts by, the limit, window and burst: moving the stage, or adding or
 * removing other stages around it, keeps its counters; changing any of these starts them fresh.
 */
export function limiterId(scope: string, key: RateLimitKeyIR, limit: number, windowMs: number, burst: number): string {
  const k = key.kind === 'header' ? `header=${key.header}` : key.kind === 'claim' ? `claim=${key.claim}` : key.kind
  return `${scope}:${k}:${limit}/${windowMs}ms${burst > 0 ? `+${burst}` : ''}`
}

/** `scope` is the route (or, for a policy checked on its own, the policy) the limiter belongs to. */
export function checkRatelimitStage(ctx: CheckContext, s: RatelimitStmt, scope: string): RateLimitStageIR | undefined {
  const o = readOptions(s.options, SCHEMA, '`ratelimit`', ctx.d)
  const limit = readQty(s.limit, 'count', 'the rate limit', ctx.d, { min: 1, max: 1_000_000_000 })
  const windowMs = readQty(s.window, 'duration', 'the rate-limit window', ctx.d, { min: 1, max: 86_400_000 })
  let key: RateLimitKeyIR | undefined
  switch (s.key.kind) {
    case 'user': key = { kind: 'user' }; break
    case 'consumer': key = { kind: 'consumer' }; break
    case 'ip': key = { kind: 'ip' }; break
    case 'claim': key = { kind: 'claim', claim: s.key.name!.value }; break
    case 'header': { const h = headerName(ctx, s.key.name!); if (h !== undefined) key = { kind: 'header', header: h }; break }
  }
  if (optFlag(o, 'local') && optFlag(o, 'redis')) {
    ctx.d.error('E0404', o.get('redis')!.span, 'a rate limit is either `local` or `redis`, not both', { hint: 'keep one of them' })
  }
  if (optFlag(o, 'fail_open') && optFlag(o, 'fail_closed')) {
    ctx.d.error('E0404', o.get('fail_closed')!.span, 'a rate limit either fails open or closed, not both', { hint: 'keep one of them' })
  }
  const store = optFlag(o, 'redis') ? 'redis' : 'local'
  if (store === 'local' && (optFlag(o, 'fail_open') || optFlag(o, 'fail_closed'))) {
    const f = o.get('fail_open') ?? o.get('fail_closed')!
    ctx.d.error('E0404', f.span, 'only a `redis` rate limit can fail: a `local` one always answers', { label: 'no effect on a local limiter', hint: 'add `redis`, or remove this' })
  }
  if (limit === undefined || windowMs === undefined || key === undefined) return undefined
  const burst = optNum(o, 'burst') ?? 0
  return {
    kind: 'ratelimit', key, limit, windowMs, burst, store,
    failOpen: !optFlag(o, 'fail_closed'), id: limiterId(scope, key, limit, windowMs, burst), source: spanOf(s.span),
  }
}
