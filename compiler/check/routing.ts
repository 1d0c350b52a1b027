// Route-table analysis: conflicts (two routes of equal precedence match the same request) and shadowing
// (a route every one of whose requests is won by others). Both are found by probing each route with
// witness requests built from its own match and running the reference matcher (config/match.ts) on them,
// so the analysis uses exactly the semantics the runtime router is tested against.
import type * as A from '../../grammar/ast.js'
import type { MatchIR } from '../../config/ir.js'
import { compareRank, matchRoute, type Rank, type RequestShape } from '../../config/match.js'
import type { CheckContext } from './context.js'

export interface RoutingInput { name: string; match: MatchIR; span: A.Span; decl: A.Span }

/** A method no route lists: stands for "any other method" when a route accepts all. */
const OTHER_METHOD = 'GWP-PROBE'
const PROBE_LABEL = 'gwp-probe-7f3a'

/** Requests that only this match accepts, one per host class × path class × method. */
export function witnesses(m: MatchIR): RequestShape[] {
  const hosts = m.hosts.length === 0 ? [`${PROBE_LABEL}.invalid`] : m.hosts.map(h => (h.startsWith('*.') ? PROBE_LABEL + h.slice(1) : h))
  const v = m.path.value
  const paths = m.path.kind === 'exact' ? [v] : v.endsWith('/') ? [v, v + PROBE_LABEL] : [v, v + '/' + PROBE_LABEL]
  const methods = m.methods.length === 0 ? ['GET', OTHER_METHOD] : m.methods
  const headers: Record<string, string> = {}
  if (m.header !== null) headers[m.header.name] = m.header.value ?? 'x'
  if (m.cookie != null) headers.cookie = `${m.cookie.name}=${m.cookie.value ?? 'x'}`
  const query = m.query != null ? `?${encodeURIComponent(m.query.name)}=${encodeURIComponent(m.query.value ?? 'x')}` : ''
  const out: RequestShape[] = []
  for (const host of hosts) for (const path of paths) for (const method of methods) out.push({ host, path, method, headers, query })
  return out
}

/** "GET requests with header `x: 1` for `api.example.com/orders`" — one witness, in words. */
function describe(w: RequestShape, anyMethod: boolean): string {
  const method = anyMethod || w.method === OTHER_METHOD ? 'requests' : `${w.method} requests`
  const header = Object.entries(w.headers).map(([k, v]) => (k === 'cookie' ? ` with cookie \`${v}\`` : ` with header \`${k}: ${v}\``)).join('')
    + (w.query ? ` with query \`${w.query}\`` : '')
  const path = w.path.includes(PROBE_LABEL) ? w.path.slice(0, w.path.indexOf(PROBE_LABEL)) + '…' : w.path
  const where = w.host.includes(PROBE_LABEL)
    ? (w.host.endsWith('.invalid') ? `\`${path}\` on any host` : `\`*${w.host.slice(PROBE_LABEL.length)}${path}\``)
    : `\`${w.host}${path}\``
  return `${method}${header} for ${where}`
}

/** Path index: routes that can match a path are found without scanning the whole table per witness. */
class PathIndex {
  private exact = new Map<string, number[]>()
  private prefix = new Map<string, number[]>()
  constructor(routes: RoutingInput[]) {
    routes.forEach((r, i) => {
      const map = r.match.path.kind === 'exact' ? this.exact : this.prefix
      const list = map.get(r.match.path.value) ?? []
      list.push(i)
      map.set(r.match.path.value, list)
    })
  }
  candidates(path: string): number[] {
    const out = [...(this.exact.get(path) ?? [])]
    // every prefix of the path at a segment boundary (with and without its trailing slash)
    for (let i = path.length; i > 0; i = path.lastIndexOf('/', i - 1)) {
      const p = path.slice(0, i)
      for (const k of [p, p + '/']) { const l = this.prefix.get(k); if (l) out.push(...l) }
    }
    out.push(...(this.prefix.get('/') ?? []))
    return [...new Set(out)].sort((a, b) => a - b)
  }
}

export function checkRouting(ctx: CheckContext, routes: RoutingInput[]): void {
  const index = new PathIndex(routes)
  const reported = new Set<string>()
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]
    let wins = 0
    const winners = new Set<number>()
    let conflict = false
    for (const w of witnesses(r.match)) {
      let best: Rank | undefined
      let top: number[] = []
      for (const j of index.candidates(w.path)) {
        const res = matchRoute(routes[j].match, w)
        if (!('rank' in res)) continue
        const c = best === undefined ? 1 : compareRank(res.rank, best)
        if (c > 0) { best = res.rank; top = [j] } else if (c === 0) top.push(j)
      }
      if (top.length === 0) continue
      // A witness carries only this route's conditions, so an equal-rank tie is a true ambiguity.
      if (top.length > 1 && top.includes(i)) {
        // Reported once, at the later-declared route of the pair, against the first route it collides with
        // (a route duplicated N times gives N-1 errors, not N²/2).
        conflict = true
        const first = Math.min(...top)
        const later = top.filter(j => j !== first)
        for (const b of later) {
          if (reported.has(String(b))) continue
          reported.add(String(b))
          const bothAny = routes[first].match.methods.length === 0 && routes[b].match.methods.length === 0
          ctx.d.error('E0501', routes[b].span, `routes \`${routes[first].name}\` and \`${routes[b].name}\` both match ${describe(w, bothAny)}`, {
            label: 'same match as an earlier route', notes: [{ message: `\`${routes[first].name}\` is declared here`, span: routes[first].span }],
            hint: 'make the matches differ (host, path, method, header, query or cookie), or merge the two routes',
          })
        }
        continue
      }
      if (top[0] === i) wins++
      else winners.add(top[0])
    }
    if (wins === 0 && !conflict && winners.size > 0) {
      const names = [...winners].map(j => '`' + routes[j].name + '`')
      ctx.d.error('E0502', r.span, `route \`${r.name}\` can never be reached: every request it matches goes to ${names.join(' or ')}`, {
        label: 'shadowed', notes: [...winners].map(j => ({ message: `\`${routes[j].name}\` wins here`, span: routes[j].span })),
        hint: 'narrow the winning routes, or remove this one',
      })
    }
  }
}
