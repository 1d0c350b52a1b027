// Checks a route's `match` line and lowers it to MatchIR: hosts lower-cased and validated, the path in
// normal form (a path the runtime's normaliser would rewrite can never match), methods upper-case.
import type * as A from '../../grammar/ast.js'
import { closest } from '../../grammar/index.js'
import type { MatchIR } from '../../config/ir.js'
import { FIELD_VALUE, HOSTNAME, METHODS, TOKEN } from '../../config/http.js'
import { normalizePath } from '../../config/path.js'
import { COOKIE_NAME, COOKIE_VALUE } from '../../config/conditions.js'
import { givenTwice, headerName, type CheckContext } from './context.js'

function host(ctx: CheckContext, s: A.StrV): string | undefined {
  const raw = s.value
  if (/:\d*$/.test(raw) && !raw.startsWith('[')) {
    ctx.d.error('E0306', s.span, `host \`${raw}\` must not carry a port`, { label: 'port in a host match', hint: 'the port is ignored when matching: write the bare host name' })
    return undefined
  }
  const lower = raw.toLowerCase().replace(/\.$/, '')
  const name = lower.startsWith('*.') ? lower.slice(2) : lower
  if (!HOSTNAME.test(name)) {
    const why = raw.includes('*') ? 'a wildcard is only allowed as the whole first label, as in `*.example.com`' : 'use a DNS name such as `api.example.com`'
    ctx.d.error('E0306', s.span, `\`${raw}\` is not a valid host`, { label: 'not a host name', hint: why })
    return undefined
  }
  if (lower !== raw) ctx.d.warn('W0711', s.span, `host \`${raw}\` is matched as \`${lower}\``, { label: 'host names are case-insensitive', hint: `write \`${lower}\`` })
  return lower
}

/**
 * E0309: a path written as a router pattern (`/x/*`, `/users/:id`, `/items/{id}`). Paths are literal, so
 * such a route would only match a request for that very text: every real request would get 404.
 */
function pattern(ctx: CheckContext, p: NonNullable<A.MatchStmt['path']>, v: string): boolean {
  const segs = v.split('/')
  // `*` is an ordinary path character (RFC 3986 sub-delim): only a segment of stars, or a path ending in
  // one (`/x*`), reads as a wildcard
  const star = (s: string, i: number) => /^\*+$/.test(s) || (i === segs.length - 1 && s.endsWith('*'))
  const at = segs.findIndex((s, i) => star(s, i) || /^:[A-Za-z_]/.test(s) || /^\{[^}]*\}$/.test(s))
  if (at < 0) return false
  const seg = segs[at]
  const partial = /[^*]\*+$/.test(seg) ? seg.replace(/\*+$/, '') : undefined // `/files*`: the prefix is `/files`
  const prefix = [...segs.slice(0, at), ...(partial !== undefined && !/[:{]/.test(partial[0]) ? [partial] : [])].join('/').replace(/\/$/, '') || '/'
  const isStar = star(seg, at)
  const what = isStar ? 'wildcards' : 'parameters'
  ctx.d.error('E0309', p.value.span, `path \`${v}\` is matched literally: paths have no ${what}`, {
    label: isStar ? '`*` is not a wildcard here' : `\`${seg}\` is not a parameter here`,
    hint: `to match everything under \`${prefix}\`, write \`path prefix "${prefix}"\``,
  })
  return true
}

function path(ctx: CheckContext, p: NonNullable<A.MatchStmt['path']>): MatchIR['path'] | undefined {
  const v = p.value.value
  if (!v.startsWith('/')) {
    ctx.d.error('E0306', p.value.span, `path \`${v}\` must start with \`/\``, { label: 'not an absolute path', hint: `write \`/${v}\`` })
    return undefined
  }
  if (v.includes('?') || v.includes('#')) {
    ctx.d.error('E0306', p.value.span, `path \`${v}\` contains a query or fragment`, { label: 'routes match the path only', hint: 'remove everything from `?` or `#` on' })
    return undefined
  }
  if (/[^\x21-\x7e]/.test(v)) {
    const enc = v.replace(/[^\x21-\x7e]/gu, c => [...Buffer.from(c)].map(b => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''))
    ctx.d.error('E0503', p.value.span, `path \`${v}\` can never match: requests carry spaces and non-ASCII characters percent-encoded`, {
      label: 'no request path looks like this', hint: `write \`${enc}\``,
    })
    return undefined
  }
  if (pattern(ctx, p, v)) return undefined
  const norm = normalizePath(v)
  if (norm !== v) {
    ctx.d.error('E0503', p.value.span, `path \`${v}\` can never match: requests are normalised before matching`, {
      label: norm === null ? 'requests with this path are refused with 400' : `requests for it are matched as \`${norm}\``,
      hint: norm === null ? 'encoded `/`, `\\` and malformed escapes are rejected' : `write \`${norm}\``,
    })
    return undefined
  }
  return { kind: p.mode ?? 'exact', value: v }
}

function methods(ctx: CheckContext, ws: A.WordV[]): string[] {
  const out: string[] = []
  for (const w of ws) {
    const m = w.value
    const known = METHODS.includes(m)
    const guess = known ? undefined : closest(m, METHODS)
    if (!known && (m !== m.toUpperCase() || guess !== undefined || !TOKEN.test(m))) {
      ctx.d.error('E0206', w.span, `unknown method \`${m}\``, {
        label: m !== m.toUpperCase() ? 'methods are case-sensitive' : 'not an HTTP method',
        hint: guess ? `did you mean \`${guess}\`?` : m !== m.toUpperCase() ? `write \`${m.toUpperCase()}\`` : `methods are ${METHODS.join(', ')}`,
      })
      continue
    }
    if (out.includes(m)) { ctx.d.error('E0102', w.span, `method \`${m}\` is listed twice`, { hint: 'list each method once' }); continue }
    out.push(m)
  }
  return out
}

/** MatchIR for a route, or undefined when something in it is broken (already reported). */
export function checkMatch(ctx: CheckContext, m: A.MatchStmt): MatchIR | undefined {
  for (const r of m.repeated) givenTwice(ctx, r.what, r.span, r.first, 'one `match`')
  let ok = true
  const hosts: string[] = []
  for (const h of m.hosts) {
    const v = host(ctx, h)
    if (v === undefined) { ok = false; continue }
    if (hosts.includes(v)) { ctx.d.error('E0102', h.span, `host \`${v}\` is listed twice`, { hint: 'list each host once' }); continue }
    hosts.push(v)
  }
  const p = m.path === null ? { kind: 'prefix' as const, value: '/' } : path(ctx, m.path)
  if (p === undefined) ok = false
  const ms = methods(ctx, m.methods)
  if (ms.length < m.methods.length) ok = false
  let header: MatchIR['header'] = null
  if (m.header !== null) {
    const name = headerName(ctx, m.header.name)
    const value = m.header.value?.value ?? null
    if (value !== null && !FIELD_VALUE.test(value)) {
      ctx.d.error('E0306', m.header.value!.span, 'a header value cannot contain control characters such as newlines', { label: 'no request can carry this value' })
      ok = false
    }
    if (name === undefined) ok = false
    else header = { name, value }
  }
  const query = m.query != null ? queryCondition(ctx, m.query) : null
  const cookie = m.cookie != null ? cookieCondition(ctx, m.cookie) : null
  if (query === undefined || cookie === undefined) ok = false
  if (!ok || p === undefined) return undefined
  const ir: MatchIR = { hosts, path: p, methods: ms, header }
  // written only when given, so the IR of a route without them is what it always was
  if (query !== null && query !== undefined) ir.query = query
  if (cookie !== null && cookie !== undefined) ir.cookie = cookie
  return ir
}

type Cond = NonNullable<A.MatchStmt['query']>

/** `query NAME ["value"]`: the name and value as the decoded text a request's parameter is compared with. */
function queryCondition(ctx: CheckContext, q: Cond): { name: string; value: string | null } | undefined {
  if (q.name.value === '') {
    ctx.d.error('E0306', q.name.span, 'a query parameter name cannot be empty', { label: 'no parameter has this name', hint: 'name the parameter, as in `query version "2"`' })
    return undefined
  }
  return { name: q.name.value, value: q.value?.value ?? null }
}

/** `cookie NAME ["value"]`: a name and value a Cookie header can carry (config/conditions.ts reads them). */
function cookieCondition(ctx: CheckContext, c: Cond): { name: string; value: string | null } | undefined {
  let ok = true
  if (!COOKIE_NAME.test(c.name.value)) {
    ctx.d.error('E0503', c.name.span, `cookie name \`${c.name.value}\` can never match`, {
      label: 'no Cookie header carries this name', hint: 'a cookie name is not empty and has no `=`, `;`, control characters or surrounding spaces',
    })
    ok = false
  }
  const value = c.value?.value ?? null
  if (value !== null && !COOKIE_VALUE.test(value)) {
    ctx.d.error('E0503', c.value!.span, `cookie value \`${value}\` can never match`, {
      label: 'no Cookie header carries this value', hint: 'cookie values are compared as sent: no `;`, control characters or surrounding spaces (percent-encode them as the client does)',
    })
    ok = false
  }
  return ok ? { name: c.name.value, value } : undefined
}
