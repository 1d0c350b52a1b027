// Checks a `cors` statement: origins (exact, `https://*.example.com` wildcards, `*`), methods, allowed and exposed
// headers, credentials and max_age, into the stage IR. Every refusal has its own code (E0470–E0479, W0760–W0762).
import { isIPv6 } from 'node:net'
import { headerName, readQty, spanOf, type A, type CheckContext, type StageIR } from '../../compiler/policy-api.js'
import { matchesWildcard, splitWildcard, type CorsOptions } from './options.js'

/** One clause of the statement, as written: `origins "a", "b"`, `methods GET, POST`, `credentials`, `max_age 10m`. */
export interface CorsClause {
  word: 'origins' | 'methods' | 'headers' | 'expose' | 'credentials' | 'max_age'
  span: A.Span
  origins?: A.StrV[]
  methods?: A.WordV[]
  headers?: A.NameV[]
  value?: A.QtyV
}
export interface CorsStmt { kind: 'cors'; clauses: CorsClause[]; span: A.Span }

/** The stage's IR is its options (options.ts, where each field is described) less the route. */
export interface CorsStageIR extends StageIR, Omit<CorsOptions, 'route'> {
  kind: 'cors'
}

/** Methods a preflight may ask for when the statement names none: the CORS-safelisted ones. */
export const DEFAULT_METHODS = ['GET', 'HEAD', 'POST']
/** Chromium keeps a preflight at most this long (Firefox 24 h): a longer max_age is not honoured. */
const BROWSER_CAP_S = 7200
const MAX_AGE_S = 86_400
const DEFAULT_PORT: Record<string, string> = { http: '80', https: '443' }
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/

/** An origin as a browser serialises it, or undefined after reporting why it is not one. `*` and `null` pass as is. */
export function readOrigin(ctx: CheckContext, v: A.StrV): { origin: string; wildcard: boolean } | undefined {
  const text = v.value
  if (text === '*' || text === 'null') return { origin: text, wildcard: false }
  const bad = (label: string, hint: string) => { ctx.d.error('E0470', v.span, `\`${text}\` is not an origin`, { label, hint }); return undefined }
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(text)
  if (m === null) {
    // `https://` in front makes an origin of `app.example.com[:8080]`, not of `https:/x` or `1http://x`
    const rest = text.replace(/^\/*/, '')
    return bad('an origin starts with a scheme', /^[^/:]+(:\d+)?$/.test(rest) ? `write \`https://${rest}\`` : 'write it as `scheme://host[:port]`, e.g. `https://app.example.com`')
  }
  const scheme = m[1].toLowerCase()
  if (m[3] !== '') {
    const bare = `${scheme}://${m[2]}`
    return bad(m[3] === '/' ? 'an origin has no trailing `/`' : 'an origin has no path, query or fragment', `write \`${bare}\`: an origin is scheme, host and port`)
  }
  if (m[2].includes('@')) return bad('an origin has no user name or password', 'remove the part before `@`')
  const hp = /^(\[[0-9A-Fa-f:.]+\]|[^:]*)(?::([^:]*))?$/.exec(m[2])
  if (hp === null || hp[1] === '') return bad('no host', `write e.g. \`${scheme}://app.example.com\``)
  let port: string | undefined = hp[2]
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535 || (port.length > 1 && port.startsWith('0'))) return bad('bad port', 'a port is a number from 1 to 65535')
    if (port === DEFAULT_PORT[scheme]) port = undefined // browsers leave the default port out of an origin
  }
  const host = hp[1].toLowerCase()
  if (host.startsWith('[') && !isIPv6(host.slice(1, -1))) return bad('not an IPv6 address', 'write an IPv6 address in brackets, as in `http://[::1]:8080`')
  const labels = host.startsWith('[') ? [host] : host.split('.')
  const wildcard = host.includes('*')
  if (wildcard) {
    if (labels[0] !== '*' || labels.slice(1).some(l => l.includes('*'))) {
      ctx.d.error('E0471', v.span, `\`${text}\`: \`*\` can only stand for whole labels at the start of the host`, {
        label: 'the `*` is inside a label, or not first', hint: `write \`${scheme}://*.${labels.filter(l => !l.includes('*')).join('.') || 'example.com'}\``,
      })
      return undefined
    }
    if (labels.length < 3) {
      ctx.d.error('E0471', v.span, `\`${text}\` is too broad: it would allow ${labels.length > 1 ? `every site under \`.${labels.slice(1).join('.')}\`` : 'every site'}`, {
        label: 'a wildcard needs a domain of at least two labels after it', hint: `name the domain: \`${scheme}://*.example.${labels[1] ?? 'com'}\``,
      })
      return undefined
    }
  }
  if (!host.startsWith('[') && labels.slice(wildcard ? 1 : 0).some(l => !LABEL.test(l))) {
    return bad('not a host name', 'a host is labels of letters, digits and `-` separated by `.`')
  }
  return { origin: `${scheme}://${host}${port === undefined ? '' : ':' + port}`, wildcard }
}

function clause(s: CorsStmt, ctx: CheckContext, word: CorsClause['word']): CorsClause | undefined {
  const all = s.clauses.filter(c => c.word === word)
  for (const again of all.slice(1)) {
    ctx.d.error('E0103', again.span, `\`${word}\` is given twice in \`cors\``, { label: 'given again here', notes: [{ message: 'first given here', span: all[0].span }], hint: 'list every value in one clause' })
  }
  return all[0]
}

/** Reports the second of two equal values in one list. */
function twice(ctx: CheckContext, what: string, value: string, span: A.Span, first: A.Span): void {
  ctx.d.error('E0473', span, `${what} \`${value}\` is listed twice`, { label: 'listed again here', notes: [{ message: 'first listed here', span: first }], hint: 'remove one of them' })
}

function readHeaders(ctx: CheckContext, c: CorsClause | undefined, what: string): string[] | undefined {
  if (c === undefined) return []
  const out: string[] = []
  const seen = new Map<string, A.Span>()
  let ok = true
  for (const n of c.headers ?? []) {
    if (n.value === '*') {
      ctx.d.error('E0476', n.span, `\`*\` in \`${c.word}\` is not supported`, { label: 'name each header', hint: `list the headers the page ${c.word === 'headers' ? 'sends' : 'reads'}: a wildcard never covers \`Authorization\` and means nothing with credentials` })
      ok = false
      continue
    }
    const h = headerName(ctx, n)
    if (h === undefined) { ok = false; continue }
    const first = seen.get(h)
    if (first !== undefined) { twice(ctx, what, h, n.span, first); ok = false; continue }
    seen.set(h, n.span)
    out.push(h)
  }
  return ok ? out : undefined
}

export function checkCorsStage(ctx: CheckContext, s: CorsStmt): CorsStageIR | undefined {
  let ok = true
  const originsC = clause(s, ctx, 'origins'), methodsC = clause(s, ctx, 'methods'), headersC = clause(s, ctx, 'headers')
  const exposeC = clause(s, ctx, 'expose'), credentialsC = clause(s, ctx, 'credentials'), maxAgeC = clause(s, ctx, 'max_age')
  if (s.clauses.some((c, i) => s.clauses.findIndex(x => x.word === c.word) !== i)) ok = false

  // origins
  const origins: string[] = [], wildcards: string[] = []
  const seen = new Map<string, A.Span>()
  let anySpan: A.Span | undefined
  if (originsC === undefined) {
    ctx.d.error('E0478', s.span, '`cors` names no origins', { label: 'which pages may call this route?', hint: 'add e.g. `origins "https://app.example.com"`' })
    ok = false
  }
  for (const v of originsC?.origins ?? []) {
    const o = readOrigin(ctx, v)
    if (o === undefined) { ok = false; continue }
    const first = seen.get(o.origin)
    if (first !== undefined) { twice(ctx, 'origin', o.origin, v.span, first); ok = false; continue }
    seen.set(o.origin, v.span)
    if (o.origin === '*') anySpan = v.span
    if (o.origin === 'null') {
      ctx.d.warn('W0760', v.span, 'origin `null` is listed', {
        label: 'sandboxed iframes, `file:` pages and redirects of any site send `Origin: null`', hint: 'serve the page from a real origin and list that instead',
      })
    }
    ;(o.wildcard ? wildcards : origins).push(o.origin)
  }
  if (anySpan !== undefined && seen.size > 1) {
    ctx.d.error('E0479', anySpan, '`*` allows every origin, so the other origins listed mean nothing', { label: 'any origin', hint: 'keep `"*"` alone, or list the origins without it' })
    ok = false
  }
  // an exact origin a wildcard already covers
  for (const o of origins) {
    const w = wildcards.find(x => matchesWildcard(o, splitWildcard(x)))
    if (w !== undefined) {
      ctx.d.warn('W0762', seen.get(o)!, `origin \`${o}\` is already covered by \`${w}\``, { label: 'never needed', notes: [{ message: 'the wildcard', span: seen.get(w)! }], hint: 'remove it, or the wildcard if it is too broad' })
    }
  }

  // methods
  const methods: string[] = []
  const seenM = new Map<string, A.Span>()
  for (const w of methodsC?.methods ?? []) {
    const m = w.value
    if (!TOKEN.test(m) || m !== m.toUpperCase()) {
      ctx.d.error('E0475', w.span, `\`${m}\` is not an HTTP method`, {
        label: TOKEN.test(m) ? 'methods are case-sensitive' : 'a method is a token', hint: TOKEN.test(m) ? `write \`${m.toUpperCase()}\`` : 'write e.g. `GET, POST, PUT`',
      })
      ok = false
      continue
    }
    const first = seenM.get(m)
    if (first !== undefined) { twice(ctx, 'method', m, w.span, first); ok = false; continue }
    seenM.set(m, w.span)
    methods.push(m)
  }

  const headers = readHeaders(ctx, headersC, 'header')
  const expose = readHeaders(ctx, exposeC, 'exposed header')
  if (headers === undefined || expose === undefined) ok = false

  const credentials = credentialsC !== undefined
  if (credentials && anySpan !== undefined) {
    ctx.d.error('E0472', credentialsC!.span, '`credentials` with origin `*`: browsers refuse `Access-Control-Allow-Origin: *` on a request with credentials', {
      label: 'credentials', notes: [{ message: 'any origin', span: anySpan }], hint: 'list the origins that may send credentials (the gateway echoes the one that matched)',
    })
    ok = false
  }

  let maxAgeS: number | null = null
  if (maxAgeC?.value !== undefined) {
    const ms = readQty(maxAgeC.value, 'duration', '`max_age`', ctx.d)
    if (ms === undefined) ok = false
    else if (ms % 1000 !== 0 || ms > MAX_AGE_S * 1000) {
      ctx.d.error('E0474', maxAgeC.value.span, `\`max_age\` must be whole seconds from 0s to 24h, got \`${maxAgeC.value.raw}\``, {
        label: ms % 1000 !== 0 ? 'Access-Control-Max-Age counts whole seconds' : 'longer than any browser keeps a preflight', hint: 'write e.g. `max_age 10m`',
      })
      ok = false
    } else {
      maxAgeS = ms / 1000
      if (maxAgeS > BROWSER_CAP_S) {
        ctx.d.warn('W0761', maxAgeC.value.span, `Chromium keeps a preflight at most 2h, not \`${maxAgeC.value.raw}\``, { label: 'longer than browsers honour', hint: 'write `max_age 2h` or less' })
      }
    }
  }
  if (!ok) return undefined
  return {
    kind: 'cors', origins, wildcards, methods: methodsC === undefined ? [...DEFAULT_METHODS] : methods,
    headers: headers!, expose: expose!, credentials, maxAgeS, source: spanOf(s.span),
  }
}
