// The route table, built once per bundle: host → find-my-way path tree → a short candidate list per tree
// node, ordered by precedence. It implements exactly the semantics of config/match.ts (a property test
// checks): the most specific host wins (exact, then longer wildcard, then any), then the path (exact, then
// longer prefix), then a listed method over "any", then more header/query/cookie conditions over fewer, then
// declaration order.
import FindMyWay from 'find-my-way'
import type { MatchIR } from '../config/ir.js'
import { conditionCount, pathRank } from '../config/match.js'
import { cookieMatches, queryMatches } from '../config/conditions.js'

interface Candidate<T> {
  value: T
  methods: ReadonlySet<string> | null
  header: { name: string; value: string | null } | null
  /** Query and cookie conditions (null for none: `find` then never looks at the query or the Cookie header). */
  extra: { query: Cond | null; cookie: Cond | null } | null
  /** [path rank, method rank, condition count, -declaration index] for sorting. */
  order: [number, number, number, number]
}

type Cond = { name: string; value: string | null }

/** Whether a request meets a candidate's query and cookie conditions (config/match.ts semantics). */
function extraHolds(x: NonNullable<Candidate<unknown>['extra']>, query: string, headers: Record<string, string | string[] | undefined>): boolean {
  // queryMatches/cookieMatches compare in place: the reference matcher (config/match.ts) reads the values
  // with queryParam/cookieValue, so the property test also checks that the two agree
  if (x.query !== null && !queryMatches(query, x.query.name, x.query.value)) return false
  if (x.cookie !== null && !cookieMatches(headers.cookie as string | undefined, x.cookie.name, x.cookie.value)) return false
  return true
}

/** One host class's path tree. Each node stores the candidates any path landing on it can match. */
class PathRouter<T> {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false, caseSensitive: true, maxParamLength: 8192 })
  private readonly entries: { match: MatchIR; index: number; value: T }[] = []

  add(match: MatchIR, index: number, value: T): void { this.entries.push({ match, index, value }) }

  /** Registers the tree nodes; call once after every add. */
  seal(): void {
    // Paths go through `tree()` on both sides (see there); a literal `:` is then written `::` so find-my-way
    // does not read it as a parameter.
    const pattern = (p: string) => tree(p).replace(/:/g, '::')
    const nodes = new Map<string, string>() // pattern → a representative request path for the node
    for (const { match: m } of this.entries) {
      const v = m.path.value
      if (m.path.kind === 'exact') nodes.set(pattern(v), v)
      else {
        if (!v.endsWith('/')) nodes.set(pattern(v), v)
        const dir = v.endsWith('/') ? v : v + '/'
        nodes.set(pattern(dir) + '*', dir + '\u0000')
      }
    }
    for (const [pat, probe] of nodes) {
      const group = this.groupFor(probe)
      if (group.length > 0) this.fmw.on('GET', pat, () => undefined, group)
    }
  }

  /** Candidates matching a representative path (NUL stands for "any non-empty rest under this node"). */
  private groupFor(probe: string): Candidate<T>[] {
    const wild = probe.endsWith('\u0000')
    const out: Candidate<T>[] = []
    for (const e of this.entries) {
      const m = e.match
      let rank: number
      if (wild) {
        if (m.path.kind === 'exact') continue
        const dir = probe.slice(0, -1)
        rank = pathRank(m.path, dir + 'x')
        // the rest can be anything: a prefix only qualifies if it is an ancestor of the node's directory
        if (rank >= 0 && m.path.value.length > dir.length) continue
      } else rank = pathRank(m.path, probe)
      if (rank < 0) continue
      out.push({
        value: e.value,
        methods: m.methods.length === 0 ? null : new Set(m.methods),
        header: m.header,
        extra: m.query == null && m.cookie == null ? null : { query: m.query ?? null, cookie: m.cookie ?? null },
        order: [rank, m.methods.length > 0 ? 1 : 0, conditionCount(m), -e.index],
      })
    }
    return out.sort((a, b) => b.order[0] - a.order[0] || b.order[1] - a.order[1] || b.order[2] - a.order[2] || b.order[3] - a.order[3])
  }

  find(path: string, method: string, headers: Record<string, string | string[] | undefined>, query: string): T | undefined { // HOT PATH
    const hit = this.fmw.find('GET', path.indexOf('%') < 0 && path.indexOf('*') < 0 ? path : tree(path))
    if (hit === null) return undefined
    const group = hit.store as Candidate<T>[]
    for (let i = 0; i < group.length; i++) {
      const c = group[i]
      if (c.methods !== null && !c.methods.has(method)) continue
      if (c.header !== null) {
        const v = headers[c.header.name]
        if (v === undefined || (c.header.value !== null && v !== c.header.value)) continue
      }
      // a route without query or cookie conditions pays one null check for them
      if (c.extra !== null && !extraHolds(c.extra, query, headers)) continue
      return c.value
    }
    return undefined
  }
}

/**
 * The path as handed to find-my-way. find-my-way percent-decodes request paths and re-encodes `%` in
 * patterns, and reads `*` in patterns as a wildcard, while gwp matches normalised paths character for
 * character (`/a%3Ab` is not `/a:b`, `*` is an ordinary character). So both sides are mapped the same way
 * before find-my-way sees them: `%` becomes U+0002 and `*` becomes U+0001, control characters no request
 * path can contain (Node refuses them in the request line). The mapping is injective: matching stays exact.
 */
function tree(p: string): string {
  return p.replace(/%/g, '\u0002').replace(/\*/g, '\u0001')
}

export class Router<T> {
  private readonly exact = new Map<string, PathRouter<T>>()
  private readonly wildcards: { suffix: string; router: PathRouter<T> }[] = []
  private any: PathRouter<T> | null = null

  /** Builds the table from matches in declaration order; `values[i]` is returned for `matches[i]`. */
  constructor(matches: readonly MatchIR[], values: readonly T[]) {
    const wild = new Map<string, PathRouter<T>>()
    matches.forEach((m, i) => {
      if (m.hosts.length === 0) { (this.any ??= new PathRouter<T>()).add(m, i, values[i]); return }
      for (const h of m.hosts) {
        const table = h.startsWith('*.') ? wild : this.exact
        const key = h.startsWith('*.') ? h.slice(1) : h
        let r = table.get(key)
        if (r === undefined) { r = new PathRouter<T>(); table.set(key, r) }
        r.add(m, i, values[i])
      }
    })
    for (const r of this.exact.values()) r.seal()
    for (const [suffix, router] of wild) { router.seal(); this.wildcards.push({ suffix, router }) }
    this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length)
    this.any?.seal()
  }

  /**
   * The winning route for a request, or undefined (404). `host` lower-case without port; `path` normalised;
   * `query` the raw query string (`?…` or ''), read only by routes with a query condition.
   */
  find(host: string, path: string, method: string, headers: Record<string, string | string[] | undefined>, query: string): T | undefined { // HOT PATH
    const ex = this.exact.get(host)
    if (ex !== undefined) { const v = ex.find(path, method, headers, query); if (v !== undefined) return v }
    for (let i = 0; i < this.wildcards.length; i++) {
      const w = this.wildcards[i]
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) { const v = w.router.find(path, method, headers, query); if (v !== undefined) return v }
    }
    return this.any?.find(path, method, headers, query)
  }
}

