// Compile side of retries: `retry N [idempotent_only|idempotency_key|all_methods] [budget P% | no_budget]
// [per_try D] [backoff D]`. Retries default to idempotent requests and a 20% budget: safe unless told otherwise.
import type * as A from '../../grammar/ast.js'
import type { RetryIR } from '../../config/ir.js'
import type { CheckContext } from './context.js'
import { optFlag, optNum, readOptions, readQty } from '../values.js'

export const RETRY_DEFAULT_BUDGET = 0.2

const SCHEMA = {
  idempotent_only: { kind: 'flag' }, idempotency_key: { kind: 'flag' }, all_methods: { kind: 'flag' },
  budget: { kind: 'percent', range: { min: 0.01, max: 10 } }, no_budget: { kind: 'flag' },
  per_try: { kind: 'duration', range: { min: 1, max: 3_600_000 } },
  backoff: { kind: 'duration', range: { min: 0, max: 60_000 } },
} as const

export function checkRetry(ctx: CheckContext, s: A.RetryStmt): RetryIR | undefined {
  const o = readOptions(s.options, SCHEMA, '`retry`', ctx.d)
  const count = readQty(s.count, 'count', 'the retry count', ctx.d, { min: 0, max: 10 })
  const modes = (['idempotent_only', 'idempotency_key', 'all_methods'] as const).filter(m => optFlag(o, m))
  if (modes.length > 1) {
    ctx.d.error('E0404', o.get(modes[1])!.span, `\`${modes[0]}\` and \`${modes[1]}\` cannot both be given`, { hint: 'choose which requests may be retried' })
  }
  if (optFlag(o, 'no_budget') && o.has('budget')) {
    ctx.d.error('E0404', o.get('no_budget')!.span, '`budget` and `no_budget` cannot both be given', { hint: 'keep one of them' })
  }
  if (count === undefined) return undefined
  const mode = modes[0] ?? 'idempotent_only'
  return {
    count,
    methods: mode === 'all_methods' ? 'all' : mode === 'idempotency_key' ? 'idempotency_key' : 'idempotent',
    budget: optFlag(o, 'no_budget') ? null : optNum(o, 'budget') ?? RETRY_DEFAULT_BUDGET,
    perTryMs: optNum(o, 'per_try') ?? null,
    backoffMs: optNum(o, 'backoff') ?? 0,
  }
}

/** Where `retry` options were written, for lints that point at them. */
export function retryOptionSpan(s: A.RetryStmt, name: string): A.Span {
  return s.options.find(x => x.name.value === name)?.span ?? s.span
}
