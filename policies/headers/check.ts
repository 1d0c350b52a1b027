// Compile side of header rewriting: `headers [request|response] set NAME "value", remove NAME …`.
import { headerValue, spanOf, writableHeader, type A, type CheckContext } from '../../compiler/policy-api.js'
import type { StageIR } from '../../config/ir.js'
import type { HeaderOpIR } from './options.js'

/** One edit of a `headers` statement: `set NAME "v"` or `remove NAME …`. */
export interface HeaderOpAst { op: 'set' | 'remove'; names: A.NameV[]; value: A.StrV | null; span: A.Span }
/** `headers [request|response] OP, OP …`, as the parser (or the YAML front end) reads it. */
export interface HeadersStmt { kind: 'headers'; target: 'request' | 'response' | null; ops: HeaderOpAst[]; span: A.Span }

export type { HeaderOpIR }

export interface HeadersStageIR extends StageIR {
  kind: 'headers'
  target: 'request' | 'response'
  ops: HeaderOpIR[]
}

export function checkHeadersStage(ctx: CheckContext, s: HeadersStmt): HeadersStageIR | undefined {
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
