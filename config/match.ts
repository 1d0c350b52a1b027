// The reference semantics of route matching: which routes match a request and which one wins. The runtime
// router (find-my-way) must agree with it (a property test checks), and the compiler uses it for conflict
// and shadowing analysis, `gwc explain` and `gwc test`.
import type { MatchIR } from './ir.js'
import { cookieValue, NOT_PRESENT, queryParam } from './conditions.js'

/**
 * A matching route's precedence, compared left to right, highest wins: host (exact > longer wildcard >
 * any), path (exact > longer prefix), method (listed > any), then conditions: how many of the route's
 * header, query-parameter and cookie conditions there are (each kind at most once per route, all must
 * hold), so a route with more conditions beats one with fewer whatever their kinds. Routes equal on all four
 * that can match the same request are a conflict, rejected at compile time; routes with the same number of
 * conditions on different names can both match one request (a request with both cookies), and then the
 * route declared first wins.
 */
export type Rank = [host: number, path: number, method: number, conditions: number]

export const EXACT_HOST_RANK = 1_000_000
export const EXACT_PATH_RANK = 1_000_000

export function hostRank(hosts: readonly string[], host: string): number {
  if (hosts.length === 0) return 0
  let best = -1
  for (const h of hosts) {
    if (h.startsWith('*.')) {
      const suffix = h.slice(1)
      if (host.length > suffix.length && host.endsWith(suffix)) best = Math.max(best, suffix.length)
    } else if (h === host) return EXACT_HOST_RANK
  }
  return best
}

/** Prefixes are segment-aware: `/v1/pay` matches `/v1/pay` and `/v1/pay/…`, never `/v1/payments`. */
export function pathRank(path: MatchIR['path'], p: string): number {
  const v = path.value
  if (path.kind === 'exact') return p === v ? EXACT_PATH_RANK : -1
  if (p === v) return v.length
  if (p.startsWith(v) && (v.endsWith('/') || p.charCodeAt(v.length) === 47)) return v.length
  return -1
}

export interface RequestShape {
  /** Lower-case, without port. */
  host: string
  /** Normalised path, without query. */
  path: string
  method: string
  /** Lower-case header name → value (`cookie`: the Cookie header, repeated lines joined with `; `). */
  headers: Record<string, string | undefined>
  /** The raw query string (`?a=1`, or ''); undefined reads as ''. */
  query?: string
}

export type MatchFailure = 'host' | 'path' | 'method' | 'header' | 'query' | 'cookie'

/** How many conditions beyond host, path and method a match has: the last component of its Rank. */
export const conditionCount = (m: MatchIR): number => (m.header !== null ? 1 : 0) + (m.query != null ? 1 : 0) + (m.cookie != null ? 1 : 0)

/** The rank of a route for a request, or which condition failed first. */
export function matchRoute(m: MatchIR, req: RequestShape): { rank: Rank } | { failed: MatchFailure } {
  const h = hostRank(m.hosts, req.host)
  if (h < 0) return { failed: 'host' }
  const p = pathRank(m.path, req.path)
  if (p < 0) return { failed: 'path' }
  if (m.methods.length > 0 && !m.methods.includes(req.method)) return { failed: 'method' }
  if (m.header !== null) {
    const v = req.headers[m.header.name]
    if (v === undefined || (m.header.value !== null && v !== m.header.value)) return { failed: 'header' }
  }
  if (m.query != null) {
    const v = queryParam(req.query ?? '', m.query.name)
    if (v === NOT_PRESENT || (m.query.value !== null && v !== m.query.value)) return { failed: 'query' }
  }
  if (m.cookie != null) {
    const v = cookieValue(req.headers.cookie, m.cookie.name)
    if (v === NOT_PRESENT || (m.cookie.value !== null && v !== m.cookie.value)) return { failed: 'cookie' }
  }
  return { rank: [h, p, m.methods.length > 0 ? 1 : 0, conditionCount(m)] }
}

export function compareRank(a: Rank, b: Rank): number {
  for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/**
 * The index of the winning route, or -1. Among routes of equal rank (only ones with header, query or cookie
 * conditions can tie after compile-time conflict checks), the first declared wins.
 */
export function selectRoute(matches: readonly MatchIR[], req: RequestShape): number {
  let best = -1
  let bestRank: Rank | undefined
  for (let i = 0; i < matches.length; i++) {
    const r = matchRoute(matches[i], req)
    if (!('rank' in r)) continue
    if (bestRank === undefined || compareRank(r.rank, bestRank) > 0) { best = i; bestRank = r.rank }
  }
  return best
}
