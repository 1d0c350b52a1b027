// Compile side of the terminal stages: `proxy UP [P%], UP2 P% [fallback respond …]` and `respond STATUS …`.
import type * as A from '../../grammar/ast.js'
import type { ProxyIR, ProxyTargetIR, RespondIR } from '../../config/ir.js'
import { headerValue, unknownName, writableHeader, type CheckContext } from './context.js'
import { spanOf } from './spans.js'
import { readQty } from '../values.js'
import { REDIRECT_STATUSES, readRedirectTarget } from './redirect.js'

const CONTENT_TYPES = { json: 'application/json', text: 'text/plain; charset=utf-8', body: 'text/plain; charset=utf-8' } as const

export function checkRespond(ctx: CheckContext, s: A.RespondStmt): RespondIR | undefined {
  if (s.redirect !== null) return checkRedirect(ctx, s, s.redirect)
  const status = readQty(s.status, 'count', 'the status code', ctx.d, { min: 100, max: 599 })
  for (const extra of s.extraBodies) ctx.d.error('E0102', extra, 'a response has one body', { label: 'second body', hint: 'keep one of them' })
  let body = '', contentType: string = CONTENT_TYPES.text
  if (s.body !== null) {
    body = s.body.value.value
    contentType = CONTENT_TYPES[s.body.as]
    if (s.body.as === 'json') {
      try { JSON.parse(body) } catch {
        ctx.d.error('E0306', s.body.value.span, 'the `json` body is not valid JSON', { label: 'not valid JSON', hint: 'escape inner quotes as `\\"`, or use `text`' })
      }
    }
  }
  const headers: RespondIR['headers'] = []
  for (const h of s.headers) {
    const name = writableHeader(ctx, h.name), value = headerValue(ctx, h.value)
    if (name === undefined || value === undefined) continue
    if (name === 'content-type') { contentType = value; continue }
    headers.push({ name, value })
  }
  if (status !== undefined && (status === 204 || status === 304 || status < 200) && body !== '') {
    ctx.d.error('E0404', s.body!.span, `a ${status} response cannot have a body`, { hint: 'remove the body, or use another status' })
  }
  if (status === undefined) return undefined
  return { kind: 'respond', status, body, contentType, headers, redirect: null, source: spanOf(s.span) }
}

/** `respond redirect STATUS "TARGET"`: a redirect status (E0495) and a target that cannot leave the site (E0496–E0498). */
function checkRedirect(ctx: CheckContext, s: A.RespondStmt, r: { target: A.StrV; span: A.Span }): RespondIR | undefined {
  const status = readQty(s.status, 'count', 'the redirect status', ctx.d, { min: 100, max: 599 })
  if (status !== undefined && !REDIRECT_STATUSES.includes(status)) {
    ctx.d.error('E0495', s.status.span, `\`${status}\` is not a redirect status`, { label: 'not 301, 302, 303, 307 or 308', hint: '308 (permanent) or 307 (temporary) keep the method and body; 301/302 may turn a POST into a GET' })
    return undefined
  }
  const parts = readRedirectTarget(ctx, r.target)
  if (status === undefined || parts === undefined) return undefined
  return { kind: 'respond', status, body: '', contentType: CONTENT_TYPES.text, headers: [], redirect: { target: r.target.value, parts }, source: spanOf(s.span) }
}

export function checkProxy(ctx: CheckContext, s: A.ProxyStmt): ProxyIR | undefined {
  const targets: ProxyTargetIR[] = []
  let ok = true
  const seen = new Map<string, A.Span>()
  for (const t of s.targets) {
    if (!ctx.symbols.upstreams.has(t.upstream.value)) {
      unknownName(ctx, 'E0201', 'upstream', t.upstream, ctx.symbols.upstreams.keys(), 'upstream')
      ok = false
      continue
    }
    ctx.used.add('upstream:' + t.upstream.value)
    const first = seen.get(t.upstream.value)
    if (first !== undefined) { ctx.d.error('E0102', t.upstream.span, `upstream \`${t.upstream.value}\` is listed twice`, { notes: [{ message: 'first listed here', span: first }], hint: 'list each upstream once' }); ok = false; continue }
    seen.set(t.upstream.value, t.upstream.span)
    let weight = s.targets.length === 1 ? 100 : NaN
    if (t.weight !== null) {
      const w = readQty(t.weight, 'percent', 'a proxy weight', ctx.d, { min: 0, max: 1 })
      if (w === undefined) { ok = false; continue }
      weight = w * 100
    } else if (s.targets.length > 1) {
      ctx.d.error('E0308', t.upstream.span, `upstream \`${t.upstream.value}\` has no weight`, { label: 'weight missing', hint: 'give every upstream of a split a percentage, e.g. `proxy a 90%, b 10%`' })
      ok = false
      continue
    }
    targets.push({ upstream: t.upstream.value, weight })
  }
  if (ok && targets.length > 0) {
    const sum = targets.reduce((a, t) => a + t.weight, 0)
    for (const t of targets) t.weight = Math.round(t.weight * 10_000) / 10_000
    if (Math.abs(sum - 100) > 1e-6) {
      ctx.d.error('E0308', s.span, `proxy weights add up to ${+sum.toFixed(4)}%, not 100%`, { label: 'weights do not add up', hint: 'make the percentages sum to 100%' })
      ok = false
    }
  }
  const fallback = s.fallback !== null ? checkRespond(ctx, s.fallback) ?? null : null
  if (!ok || targets.length === 0) return undefined
  return { kind: 'proxy', targets, fallback, source: spanOf(s.span) }
}
