// Compile side of `rewrite`: `rewrite strip "/api"`, `rewrite prefix "/api/v1" "/v1"`,
// `rewrite regex "^/users/([0-9]+)$" "/u/$1"` and `rewrite host client|replica|"host.example"`.
import { closest, inString, spanOf, type A, type CheckContext, type StageIR } from '../../compiler/policy-api.js'
import { HOST_HEADER } from '../../config/http.js'
import { normalizePath } from '../../config/path.js'
import { checkRegex, isProblem } from './regex.js'
import { PATH_TEXT, isTemplateProblem, readTemplate } from './template.js'

/** `rewrite OP …` as the parser (or the YAML front end) reads it. */
export type RewriteStmt = { kind: 'rewrite'; span: A.Span } & (
  | { op: 'strip'; from: A.StrV }
  | { op: 'prefix'; from: A.StrV; to: A.StrV }
  | { op: 'regex'; pattern: A.StrV; replacement: A.StrV }
  | { op: 'host'; host: A.NameV }
)

export interface RewriteStageIR extends StageIR {
  kind: 'rewrite'
  op: 'strip' | 'prefix' | 'regex' | 'host'
  /** strip, prefix: the prefix replaced, in normal form without a trailing `/`. */
  from: string | null
  /** prefix: what replaces it (`''` for strip). */
  to: string | null
  /** regex: the pattern (checked against the subset) and the replacement as written. */
  pattern: string | null
  replacement: string | null
  /** host: `client` (the client's Host, the default), `replica` (the replica's host:port), or `fixed`. */
  hostMode: 'client' | 'replica' | 'fixed' | null
  /** host fixed: the Host value. */
  host: string | null
}

/** A prefix of `strip`/`prefix`: in normal form, without a trailing `/`; '' for the root. Reports E0490. */
function prefixPath(ctx: CheckContext, v: A.StrV, what: string): string | undefined {
  const p = v.value
  const bad = (message: string, hint: string): undefined => { ctx.d.error('E0490', v.span, message, { label: `not a path prefix`, hint }); return undefined }
  if (!p.startsWith('/')) return bad(`the ${what} \`${p}\` does not start with \`/\``, `write it as \`/${p}\``)
  if (!PATH_TEXT.test(p) || p.includes('?') || p.includes('#')) return bad(`the ${what} \`${p}\` has a character a path cannot hold as is`, 'percent-encode it with upper-case hex (`%20`); a prefix has no `?` or `#`')
  const n = normalizePath(p)
  if (n !== p) return bad(`the ${what} \`${p}\` is not in normal form`, n === null ? 'an encoded `/`, `\\` or NUL never reaches a route' : `requests are matched and rewritten in normal form: write \`${n}\``)
  if (p.length > 1 && p.endsWith('/')) return bad(`the ${what} \`${p}\` ends with \`/\``, `write \`${p.slice(0, -1)}\`: a prefix covers the path itself and everything below it`)
  return p === '/' ? '' : p
}

/** W0770: the route also matches paths the prefix does not cover (they go upstream unchanged). */
function coverage(ctx: CheckContext, s: A.Span, from: string, scope: string): void {
  const route = ctx.symbols.routes.get(scope)
  const m = route?.body.find((x): x is A.MatchStmt => x.kind === 'match')
  if (m === undefined) return
  const path = m.path?.value.value ?? '/'
  const mode = m.path === null ? 'prefix' : m.path.mode ?? 'exact'
  const under = (p: string): boolean => from === '' || p === from || p.startsWith(from + '/')
  if (under(path)) return
  const never = mode === 'exact' || !(from.startsWith(path === '/' ? '/' : path + '/'))
  ctx.d.warn('W0770', s, never ? `\`rewrite\` never applies: route \`${scope}\` matches \`${path}\`, outside \`${from || '/'}\``
    : `route \`${scope}\` matches paths outside \`${from}\`, which go upstream unchanged`, {
    label: never ? 'this prefix is never seen' : 'only part of the route is rewritten',
    hint: never ? `rewrite a prefix of \`${path}\`` : `match \`path prefix "${from}"\` if only those paths belong to this route`,
  })
}

const HOST_MODES = ['client', 'replica']

export function checkRewrite(ctx: CheckContext, s: RewriteStmt, scope: string): RewriteStageIR | undefined {
  const base = { kind: 'rewrite' as const, op: s.op, from: null, to: null, pattern: null, replacement: null, hostMode: null, host: null, source: spanOf(s.span) }
  if (s.op === 'strip' || s.op === 'prefix') {
    const from = prefixPath(ctx, s.from, 'prefix')
    if (s.op === 'strip' && from === '') { ctx.d.error('E0490', s.from.span, '`rewrite strip "/"` removes nothing', { label: 'the root is every path\'s prefix', hint: 'strip a longer prefix, e.g. `"/api"`' }); return undefined }
    const to = s.op === 'prefix' ? prefixPath(ctx, s.to, 'replacement') : ''
    if (from === undefined || to === undefined) return undefined
    coverage(ctx, s.from.span, from, scope)
    return { ...base, from, to }
  }
  if (s.op === 'regex') {
    const info = checkRegex(s.pattern.value)
    if (isProblem(info)) {
      ctx.d.error(info.refused ? 'E0492' : 'E0491', inString(s.pattern, info.at, info.len), info.refused ? `pattern refused: ${info.message}` : `bad pattern: ${info.message}`, {
        label: info.refused ? 'not in the safe subset' : 'here', hint: info.hint,
      })
      return undefined
    }
    const t = readTemplate(s.replacement.value, info.groups)
    if (isTemplateProblem(t)) { ctx.d.error('E0493', inString(s.replacement, t.at, t.len), t.message, { label: 'here', hint: t.hint }); return undefined }
    return { ...base, pattern: s.pattern.value, replacement: s.replacement.value }
  }
  const h = s.host
  if (h.kind === 'word') {
    if (!HOST_MODES.includes(h.value)) {
      const guess = closest(h.value, HOST_MODES)
      ctx.d.error('E0494', h.span, `\`${h.value}\` is not an upstream Host`, { label: 'expected `client`, `replica` or a quoted host', hint: guess ? `did you mean \`${guess}\`?` : 'write `client`, `replica`, or a host in quotes: `"api.internal"`' })
      return undefined
    }
    return { ...base, hostMode: h.value as 'client' | 'replica' }
  }
  if (!HOST_HEADER.test(h.value)) {
    ctx.d.error('E0494', h.span, `\`${h.value}\` is not a valid Host`, { label: 'not a host[:port]', hint: 'write a DNS name, IPv4 or [IPv6] address, with an optional `:port`' })
    return undefined
  }
  return { ...base, hostMode: 'fixed', host: h.value.toLowerCase() }
}
