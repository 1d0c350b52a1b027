// The compile half of `redirect https [STATUS]`: answer a request that did not arrive over HTTPS with a
// redirect to the same URL on https:// (308 by default), and let one that did go on. A stage, not a terminal:
// the route's `proxy` serves the HTTPS requests. (A fixed redirect is the core terminal `respond redirect`.)
import { keyword, optional, quantity, readQty, spanOf, valueChange, words, type A, type CompilePolicy, type StageIR } from '../../compiler/policy-api.js'
import type { RedirectOptions } from './options.js'

export interface RedirectStmt { kind: 'redirect'; status: A.QtyV | null; span: A.Span }
export interface RedirectStageIR extends StageIR { kind: 'redirect'; status: number }

const STATUSES = [301, 302, 303, 307, 308]

export const policy: CompilePolicy<RedirectStmt, RedirectStageIR> = {
  kind: 'redirect',
  syntax: {
    keyword: 'redirect',
    pieces: [keyword('https'), optional(quantity('status'))],
    build: (f, span): RedirectStmt => ({ kind: 'redirect', status: (f.status as A.QtyV | null) ?? null, span }),
  },
  check(ctx, s) {
    let status = 308
    if (s.status !== null) {
      const n = readQty(s.status, 'count', 'the redirect status', ctx.d, { min: 100, max: 599 })
      if (n === undefined) return undefined
      if (!STATUSES.includes(n)) {
        ctx.d.error('E0495', s.status.span, `\`${n}\` is not a redirect status`, { label: 'not 301, 302, 303, 307 or 308', hint: '308 (the default) keeps the method and body' })
        return undefined
      }
      status = n
    }
    return { kind: 'redirect', status, source: spanOf(s.span) }
  },
  // a cheap, local answer: like a rate limit by ip, it belongs before anything that costs
  cost: () => ({ level: 1, paid: 'an HTTPS check' }),
  emit: (s, route) => ({ options: { route, status: s.status } satisfies RedirectOptions }),
  describe: s => `redirect https ${s.status}`,
  canWait: () => false,
  diff: { key: () => 'redirect https', changes: (o, n) => valueChange('redirect.status', o.status, n.status) },
  explain: (s, env) => {
    const proto = env.headers['x-forwarded-proto']
    return {
      text: `redirect https: a request that did not arrive over HTTPS gets ${s.status} to https://{host}{path}?{query}`,
      note: proto === undefined ? 'over plain HTTP (no TLS, no X-Forwarded-Proto) this request is redirected'
        : `X-Forwarded-Proto: ${proto} is believed only from a trusted proxy (--trusted-proxies)`,
    }
  },
  print: s => words('redirect https', s.status?.raw),
  yaml: {
    key: 'redirect_https',
    read: (r, e) => {
      if (r.isNumber(e.value)) { const q = r.qty(e.value, e.path, e.keySpan); return q ? [{ kind: 'redirect', status: q, span: e.keySpan }] : [] }
      return r.bool(e.value, e.path, e.keySpan) === true ? [{ kind: 'redirect', status: null, span: e.keySpan }] : []
    },
    rank: () => 5,
  },
}
