// Compile side of the bulkhead: `bulkhead max_in_flight 256` caps one upstream's in-flight requests.
import type { OptionsStmt } from '../../grammar/ast.js'
import type { CheckContext } from './context.js'
import { optNum, readOptions } from '../values.js'

const SCHEMA = { max_in_flight: { kind: 'count', range: { min: 1, max: 1_000_000 } } } as const

export function checkBulkhead(ctx: CheckContext, s: OptionsStmt): { maxInFlight: number } | null {
  const o = readOptions(s.options, SCHEMA, '`bulkhead`', ctx.d)
  const n = optNum(o, 'max_in_flight')
  if (n === undefined) {
    if (s.options.length === 0) ctx.d.error('E0307', s.span, '`bulkhead` needs `max_in_flight N`', { label: 'no limit given', hint: 'write `bulkhead max_in_flight 256`' })
    return null
  }
  return { maxInFlight: n }
}
