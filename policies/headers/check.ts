// Compile side of header rewriting: `headers [request|response] set NAME "value", remove NAME …`.
import { headerValue, spanOf, writableHeader, type A, type CheckContext } from '../../compiler/policy-api.js'
import type { HeaderOpIR, StageIR } from '../../config/ir.js'

export type { HeaderOpIR }

export interface HeadersStageIR extends StageIR {
  kind: 'headers'
  target: 'request' | 'response'
  ops: HeaderOpIR[]
}

export function checkHeadersStage(ctx: CheckContext, s: A.HeadersStmt): HeadersStageIR | undefined {
  const ops: HeaderOpIR[] = []
  for (const op of s.ops) {
    for (const n of op.names) {
      const name = writableHeader(ctx, n)
      if (name === undefined) continue
      if (op.op === 'set') {
        const value = headerValue(ctx, op.value!)
        if (value !== undefined) ops.push({ op: 'set', name, value })
      } else ops.push({ op: 'remove', name, value: null })
    }
  }
  if (ops.length === 0) return undefined
  return { kind: 'headers', target: s.target ?? 'request', ops, source: spanOf(s.span) }
}
