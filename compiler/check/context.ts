// What every check reads and writes while one program is checked: the diagnostics, the symbol tables
// (declarations by name, with where they were declared) and which names were used.
import type * as A from '../../grammar/ast.js'
import { closest, type Diagnostics, type ErrorCode } from '../../grammar/index.js'
import { FIELD_VALUE, GATEWAY_OWNED, TOKEN } from '../../config/http.js'
import type { PolicyRegistry } from '../policies.js'

export interface Symbols {
  upstreams: Map<string, A.UpstreamDecl>
  /** The policies' declarations (`jwt NAME { … }`, `keys NAME { … }`): one namespace. */
  declarations: Map<string, A.Declaration>
  policies: Map<string, A.PolicyDecl>
  routes: Map<string, A.RouteDecl>
}

export interface CheckContext {
  d: Diagnostics
  /** The policy kinds this compilation knows (compiler/policies.ts). */
  policies: PolicyRegistry
  symbols: Symbols
  /** Names referenced somewhere, for the unused-declaration lint. */
  used: Set<string>
  /** Lower-case headers the gateway sets from verified claims (`forward … as`): only `auth` makes them real. */
  identityHeaders: Set<string>
  /** `use` cycles already reported (by member set), so each is reported once. */
  reportedCycles: Set<string>
}

/** Report an unknown name with the closest declared one as a hint. */
export function unknownName(ctx: CheckContext, code: ErrorCode, what: string, ref: A.WordV, known: Iterable<string>, declare: string): void {
  const guess = closest(ref.value, known)
  ctx.d.error(code, ref.span, `unknown ${what} \`${ref.value}\``, {
    label: `no ${what} of this name is declared`,
    hint: guess ? `did you mean \`${guess}\`?` : `declare it with \`${declare} ${ref.value} { … }\``,
  })
}

/** A header name from the policy, lower-cased, or undefined after reporting it. */
export function headerName(ctx: CheckContext, n: A.NameV): string | undefined {
  if (!TOKEN.test(n.value)) {
    ctx.d.error('E0306', n.span, `\`${n.value}\` is not a valid header name`, { label: 'header names are tokens', hint: 'use letters, digits and `-` (e.g. `X-Tenant-Id`)' })
    return undefined
  }
  return n.value.toLowerCase()
}

/** Report the second of two statements that may appear once. */
export function givenTwice(ctx: CheckContext, what: string, again: A.Span, first: A.Span, where: string): void {
  ctx.d.error('E0102', again, `\`${what}\` is given twice in ${where}`, { label: 'given again here', notes: [{ message: 'first given here', span: first }], hint: 'keep one of them' })
}

/** A header a policy may write (`headers`, `respond … header`), lower-cased, or undefined after reporting why not. */
export function writableHeader(ctx: CheckContext, n: A.NameV): string | undefined {
  const h = headerName(ctx, n)
  if (h === undefined) return undefined
  if (GATEWAY_OWNED.has(h)) {
    ctx.d.error('E0306', n.span, `header \`${n.value}\` cannot be changed by a policy`, { label: 'the gateway manages this header', hint: 'framing, hop-by-hop, request-id and trace headers are set by the gateway itself' })
    return undefined
  }
  return h
}

/** A header value a policy may write, or undefined after reporting it (control characters would inject headers). */
export function headerValue(ctx: CheckContext, v: A.StrV): string | undefined {
  if (!FIELD_VALUE.test(v.value)) {
    ctx.d.error('E0306', v.span, 'a header value cannot contain control characters such as newlines', { label: 'not a valid header value', hint: 'remove the line break (header injection is refused)' })
    return undefined
  }
  return v.value
}
