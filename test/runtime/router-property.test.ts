// test/runtime/router-property.test.ts: the runtime router (find-my-way) and the reference matcher
// (config/match.ts selectRoute) pick the same winner for random route tables and random requests.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { MatchIR } from '../../config/ir.js'
import { selectRoute } from '../../config/match.js'
import { normalizePath } from '../../config/path.js'
import { Router } from '../../runtime/router.js'
import { prng as rng } from '../helpers/prng.js'


interface Alphabet { routeSegs: string[]; requestSegs: string[]; conditions?: boolean }

/** Path segments that share prefixes (api / apix / api2), so prefix routes overlap and segment rules matter. */
const PLAIN: Alphabet = {
  routeSegs: ['api', 'v1', 'v2', 'users', 'u', 'a.b', 'x-y', 'a%20b', '%25'],
  requestSegs: ['api', 'apix', 'api2', 'v1', 'v2', 'users', 'usersx', 'u', '42', 'a.b', 'x-y', 'a%20b', '%25', 'a b'.replace(' ', '%20'), ''],
}

/** Plus reserved characters find-my-way leaves encoded when it decodes a request (`:` `@` `;` `,`), raw and escaped. */
const RESERVED: Alphabet = {
  routeSegs: [...PLAIN.routeSegs, 'x:y', 'x%3Ay', 'a@b', 'a%40b', 'a;b', 'a%3Bb', 'a,b', 'a%2Cb'],
  requestSegs: [...PLAIN.requestSegs, 'x:y', 'x%3Ay', 'a@b', 'a%40b', 'a;b', 'a%3Bb', 'a,b', 'a%2Cb'],
}

/** Plus a literal `*`, which find-my-way reads as a wildcard. */
const STAR: Alphabet = {
  routeSegs: [...PLAIN.routeSegs, 'p*', '*'],
  requestSegs: [...PLAIN.requestSegs, 'p*', '*', 'pq', 'p', 'anything'],
}

const HOSTS = ['a.com', 'b.a.com', '*.a.com', '*.b.a.com', 'c.org', '*.org']
const REQUEST_HOSTS = ['a.com', 'b.a.com', 'x.b.a.com', 'y.a.com', 'c.org', 'z.org', 'other.net', 'b.a.com.evil']
const METHODS = ['GET', 'POST', 'PUT']
const REQUEST_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD']

function pick<T>(r: () => number, xs: readonly T[]): T { return xs[(r() * xs.length) | 0] }

function subset<T>(r: () => number, xs: readonly T[], max: number): T[] {
  const n = (r() * (max + 1)) | 0
  const out: T[] = []
  for (let i = 0; i < n; i++) { const x = pick(r, xs); if (!out.includes(x)) out.push(x) }
  return out
}

function randomPath(r: () => number, segs: readonly string[], maxDepth: number): string {
  const depth = (r() * (maxDepth + 1)) | 0
  let p = ''
  for (let i = 0; i < depth; i++) p += '/' + pick(r, segs)
  if (p === '' || r() < 0.15) p += '/'
  return p
}

function randomTable(r: () => number, a: Alphabet): MatchIR[] {
  const n = 1 + ((r() * 12) | 0)
  const out: MatchIR[] = []
  const seen = new Set<string>()
  while (out.length < n) {
    const hosts = r() < 0.35 ? [] : subset(r, HOSTS, 2).filter((h, i, xs) => xs.indexOf(h) === i)
    let value = randomPath(r, a.routeSegs, 3)
    if (normalizePath(value) !== value) value = normalizePath(value) ?? '/'
    const m: MatchIR = {
      hosts,
      path: { kind: r() < 0.5 ? 'exact' : 'prefix', value },
      methods: subset(r, METHODS, 2),
      header: r() < 0.7 ? null : { name: pick(r, ['x-h', 'x-k']), value: r() < 0.5 ? null : pick(r, ['1', '2']) },
    }
    if (a.conditions === true) {
      if (r() < 0.35) m.query = { name: pick(r, ['v', 'a b']), value: r() < 0.4 ? null : pick(r, ['1', '2', 'x y', 'é']) }
      if (r() < 0.35) m.cookie = { name: pick(r, ['c', 'Canary']), value: r() < 0.4 ? null : pick(r, ['1', '2', '"q"']) }
    }
    // The compiler rejects two routes that tie on every rank and match the same request; keep tables
    // free of duplicates of (hosts, path, methods, conditions) so ties can only come from overlapping lists.
    const key = JSON.stringify([[...m.hosts].sort(), m.path, [...m.methods].sort(), m.header, m.query, m.cookie])
    if (seen.has(key)) continue
    seen.add(key)
    out.push(m)
  }
  return out
}

function randomRequest(r: () => number, a: Alphabet, table: readonly MatchIR[]) {
  // Half the requests aim near a declared route (its path, plus sometimes a few segments), so hits are common.
  let path: string
  if (r() < 0.5) {
    const base = pick(r, table).path.value
    path = base + (r() < 0.5 ? '' : (base.endsWith('/') ? '' : '/') + randomPath(r, a.requestSegs, 2).slice(1))
  } else path = randomPath(r, a.requestSegs, 4)
  const headers: Record<string, string | undefined> = {}
  if (r() < 0.5) headers['x-h'] = pick(r, ['1', '2', '3'])
  if (r() < 0.3) headers['x-k'] = pick(r, ['1', '2'])
  let query = ''
  if (a.conditions === true) {
    // raw query pieces: encoded and plain, repeated names, `+` for a space, a broken escape, a name without `=`
    const pieces = ['v=1', 'v=2', 'v', 'v=', 'a+b=x+y', 'a%20b=x%20y', 'a b=1', 'v=%E9', 'v=%C3%A9', 'v=%zz', '%76=1', 'V=1', 'w=1', '']
    const n = (r() * 4) | 0
    if (n > 0 || r() < 0.3) query = '?' + Array.from({ length: n }, () => pick(r, pieces)).join('&')
    const cookies = ['c=1', 'c=2', 'c= 1 ', 'C=1', 'c', 'Canary=1', 'canary=1', 'c="q"', 'Canary="q"', 'x=1', ' c=2', 'c=1=2']
    const k = (r() * 4) | 0
    if (k > 0) headers.cookie = Array.from({ length: k }, () => pick(r, cookies)).join(pick(r, ['; ', ';', ' ;  ']))
  }
  return { host: pick(r, REQUEST_HOSTS), path, method: pick(r, REQUEST_METHODS), headers, query }
}

/** Requests compared and how many of them some route matched (so a pass is not vacuous). */
const seen = { requests: 0, hits: 0, conditioned: 0 }

/** Runs `tables` random tables × `requests` requests; returns the first disagreement, or null. */
function compare(seed: number, a: Alphabet, tables: number, requests: number): string | null {
  const r = rng(seed)
  for (let t = 0; t < tables; t++) {
    const table = randomTable(r, a)
    let router: Router<number>
    try { router = new Router(table, table.map((_, i) => i)) } catch (e) {
      return `seed ${seed} table ${t}: the router refused a table the compiler accepts: ${(e as Error).message}\n${JSON.stringify(table)}`
    }
    for (let q = 0; q < requests; q++) {
      const req = randomRequest(r, a, table)
      const path = normalizePath(req.path)
      if (path === null) continue // refused with 400 before routing
      const shape = { ...req, path }
      const want = selectRoute(table, shape)
      const got = router.find(shape.host, shape.path, shape.method, shape.headers, shape.query) ?? -1
      seen.requests++
      if (want >= 0) seen.hits++
      if (want >= 0 && (table[want].query != null || table[want].cookie != null)) seen.conditioned++
      if (got !== want) {
        return `seed ${seed} table ${t}: ${shape.method} ${shape.host}${shape.path}${shape.query} ${JSON.stringify(shape.headers)}: ` +
          `router chose ${got}, reference ${want}\n` + table.map((m, i) => `  ${i}: ${JSON.stringify(m)}`).join('\n')
      }
    }
  }
  return null
}

test('router and reference agree on random tables (hosts, exact/prefix paths, methods, header conditions)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const bad = compare(seed, PLAIN, 150, 60)
    assert.equal(bad, null, bad ?? '')
  }
  assert.ok(seen.hits > seen.requests * 0.25, `only ${seen.hits} of ${seen.requests} random requests matched a route`)
})

test('router and reference agree on random tables with query and cookie conditions (issue 12)', () => {
  const before = { ...seen }
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    const bad = compare(seed, { ...PLAIN, conditions: true }, 150, 60)
    assert.equal(bad, null, bad ?? '')
  }
  const requests = seen.requests - before.requests, hits = seen.hits - before.hits, conditioned = seen.conditioned - before.conditioned
  assert.ok(hits > requests * 0.15, `only ${hits} of ${requests} random requests matched a route`)
  assert.ok(conditioned > requests * 0.03, `only ${conditioned} of ${requests} random requests went to a route with a query or cookie condition`)
})

test('router and reference agree on hand-picked precedence cases', () => {
  const t: MatchIR[] = [
    { hosts: [], path: { kind: 'prefix', value: '/' }, methods: [], header: null },
    { hosts: [], path: { kind: 'prefix', value: '/api' }, methods: [], header: null },
    { hosts: ['*.example.com'], path: { kind: 'prefix', value: '/api' }, methods: [], header: null },
    { hosts: ['*.eu.example.com'], path: { kind: 'prefix', value: '/api' }, methods: [], header: null },
    { hosts: ['api.example.com'], path: { kind: 'prefix', value: '/api' }, methods: [], header: null },
    { hosts: ['api.example.com'], path: { kind: 'exact', value: '/api' }, methods: [], header: null },
    { hosts: ['api.example.com'], path: { kind: 'prefix', value: '/api/users' }, methods: [], header: null },
    { hosts: ['api.example.com'], path: { kind: 'prefix', value: '/api/users' }, methods: ['POST', 'PUT'], header: null },
    { hosts: ['api.example.com'], path: { kind: 'prefix', value: '/api/users' }, methods: [], header: { name: 'x-canary', value: null } },
  ]
  const router = new Router(t, t.map((_, i) => i))
  const cases: [string, string, string, Record<string, string>, number][] = [
    ['api.example.com', '/api', 'GET', {}, 5],
    ['api.example.com', '/api/', 'GET', {}, 4],
    ['api.example.com', '/api/users/1', 'GET', {}, 6],
    ['api.example.com', '/api/users/1', 'POST', { 'x-canary': '1' }, 7],
    ['api.example.com', '/api/users/1', 'GET', { 'x-canary': '1' }, 8],
    ['api.example.com', '/api/usersx', 'GET', {}, 4],
    ['x.eu.example.com', '/api/z', 'GET', {}, 3],
    ['x.example.com', '/api/z', 'GET', {}, 2],
    ['example.com', '/api/z', 'GET', {}, 1],
    ['other', '/apix', 'GET', {}, 0],
  ]
  for (const [host, path, method, headers, want] of cases) {
    assert.equal(selectRoute(t, { host, path, method, headers }), want, `reference: ${method} ${host}${path}`)
    assert.equal(router.find(host, path, method, headers, ''), want, `router: ${method} ${host}${path}`)
  }
})

test('router and reference agree when paths hold reserved characters raw or percent-encoded (`:` `@` `;` `,`)',
  () => {
    for (const seed of [11, 12, 13, 14]) {
      const bad = compare(seed, RESERVED, 150, 60)
      assert.equal(bad, null, bad ?? '')
    }
  })

test('router and reference agree when paths hold a literal `*`',
  () => {
    for (const seed of [21, 22, 23, 24]) {
      const bad = compare(seed, STAR, 150, 60)
      assert.equal(bad, null, bad ?? '')
    }
  })
