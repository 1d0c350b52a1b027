// bench/runtime/route-lookup.bench.ts: runtime/router.ts alone, no I/O — the 64-route table of
// examples/bench.gwp, looked up with the sidecar's sample requests (examples/bench.topology.json): an exact
// path, a prefix, a wildcard host, a route for any host, a header condition, every sample in turn, and misses.
// Run: npm run build && node --expose-gc dist/bench/runtime/route-lookup.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { readFileSync } from 'node:fs'
import { Router } from '../../runtime/router.js'
import { readSidecar } from '../../testkit/topology/sidecar.js'
import { repoFile } from './kit/paths.js'
import { createSuite } from './kit/suite.js'

type Headers = Record<string, string | string[] | undefined>
interface Lookup { host: string; path: string; method: string; headers: Headers }

const sidecar = readSidecar(repoFile('examples/bench.topology.json'))
const compiled = compile(['bench.gwp'], { host: memoryHost({ 'bench.gwp': readFileSync(repoFile('examples/bench.gwp'), 'utf8') }) })
const ir = compiled.ir
if (ir === undefined) throw new Error('examples/bench.gwp does not compile')
// Values are route names: the table is what is timed, not what it stores.
const router = new Router(ir.routes.map(r => r.match), ir.routes.map(r => r.name))

/** Node lower-cases header names; the samples' header objects are used as the router sees them. */
const lookup = (host: string, path: string, method = 'GET', headers: Headers = {}): Lookup => ({ host, path, method, headers })
const sample = (name: string): Lookup => {
  const r = sidecar.routes.find(x => x.name === name)
  if (r === undefined) throw new Error(`sidecar has no route ${name}`)
  const q = r.request
  return lookup(q.host, q.path, q.method, Object.fromEntries(Object.entries(q.headers).map(([k, v]) => [k.toLowerCase(), v])))
}
const find = (l: Lookup): string | undefined => router.find(l.host, l.path, l.method, l.headers, '')

// Every sample request must reach its own route, or the cases below would time the wrong lookups.
const all = sidecar.routes.map(r => ({ route: r.name, l: sample(r.name) }))
for (const { route, l } of all) assert.equal(find(l), route, `sample of ${route}`)
assert.equal(all.length, ir.routes.length)

const suite = createSuite(import.meta.url, `Router.find over the ${ir.routes.length}-route bench topology`)
// What a lookup allocates is find-my-way's: per search, its URL-scan result object and backtracking array,
// and on a hit the match object with params and searchParams objects (~220 B). The router's own code
// allocates nothing; a host miss or a method/header miss means another search.
const FMW = 'find-my-way: URL-scan object, backtrack array, match + params + searchParams'
const CASES: [name: string, l: Lookup, expected: string | undefined, note: string][] = [
  ['static: exact host, exact path (catalog_notes)', sample('catalog_notes'), 'catalog_notes', `one search: ${FMW}`],
  ['static: exact path, method listed (media_feed_create POST)', sample('media_feed_create'), 'media_feed_create', 'one search, as above; the method Set was built at load'],
  ['prefix: /v1/media/files/blob-1 (media_download)', sample('media_download'), 'media_download', 'one search (wildcard node), as above'],
  ['prefix: deep /v1/accounts/lookup-2/1046', sample('accounts_lookup_2'), 'accounts_lookup_2', 'one search, as above (more backtracking)'],
  ['header condition: x-canary: 1 (browse_canary)', sample('browse_canary'), 'browse_canary', 'one search, as above; the header is read per candidate'],
  ['wildcard host: acme.tenants.bench.test (canary_pricing)', sample('canary_pricing'), 'canary_pricing', 'one search after an exact-host Map miss and endsWith per suffix'],
  ['any host: /bench/health (bench_health)', sample('bench_health'), 'bench_health', 'two searches: the api host tree misses, then the any-host tree hits'],
  ['404: known host, unknown path', lookup('api.bench.test', '/v9/nothing/here'), undefined, 'two missing searches (host tree, any-host tree): scan objects + arrays'],
  ['404: unknown host', lookup('unknown.example.com', '/v1/orders/lookup'), undefined, 'one missing search (any-host tree): scan object + array'],
  ['404: method not allowed (DELETE /v1/media/feed)', lookup('api.bench.test', '/v1/media/feed', 'DELETE'), undefined, 'a hit whose candidates all refuse DELETE, then a missing any-host search'],
  ['path with %-escape: /v1/media/files/a%20b', lookup('api.bench.test', '/v1/media/files/a%20b'), 'media_download', 'tree(): two regex-replace copies of the path, then one search'],
]
for (const [name, l, expected, note] of CASES) {
  assert.equal(find(l), expected, name)
  suite.add(name, note, () => find(l))
}
let i = 0
suite.add(`mixed: all ${all.length} samples in turn`, 'one or two searches each, as above', () => find(all[i = (i + 1) % all.length].l))

await suite.run()
