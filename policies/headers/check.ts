// Compile side of header rewriting: `headers [request|response] set NAME "value", remove NAME …`.
import type * as A from '../../grammar/ast.js'
import type { HeaderOpIR, HeadersStageIR } from '../../config/ir.js'
import { FIELD_VALUE, GATEWAY_OWNED } from '../../config/http.js'
import { headerName, type CheckContext } from '../../compiler/check/context.js'
import { spanOf } from '../../compiler/check/spans.js'

/** A header a policy may write, lower-cased, or undefined after reporting why not. */
export function writableHeader(ctx: CheckContext, n: A.NameV): string | undefined {
  const h = headerName(ctx, n)
  if (h === undefined) return undefined
  if (GATEWAY_OWNED.has(h)) {
    ctx.d.error('E0306', n.span, `header \`${n.value}\` cannot be changed by a policy`, { label: 'the gateway manages this header', hint: 'framing, hop-by-hop, request-id and trace headers are set by the gateway itself' })
    return undefined
  }
  return h
}

export function headerValue(ctx: CheckContext, v: A.StrV): string | undefined {
  if (!FIELD_VALUE.test(v.value)) {
    ctx.d.error('E0306', v.span, 'a header value cannot contain control characters such as newlines', { label: 'not a valid header value', hint: 'remove the line break (header injection is refused)' })
    return undefined
  }
  return v.value
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
