// bench/runtime/route-conditions.bench.ts: runtime/router.ts with `match query|cookie` conditions (config/
// conditions.ts reads the raw query string and the Cookie header). The same five-route table with and without a
// cookie canary and query routes beside the plain ones, looked up with and without the cookie/parameter; the
// route-lookup bench (bench.gwp, no such conditions) is the proof that tables without them pay nothing.
// Run: npm run build && node --expose-gc dist/bench/runtime/route-conditions.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { Router } from '../../runtime/router.js'
import { createSuite } from './kit/suite.js'

type Headers = Record<string, string | string[] | undefined>

function routerOf(extra: string): Router<string> {
  const text = `upstream web { replicas 10.0.0.1:80 }
route home { match host "shop.bench.test" path "/"; timeout 1s; proxy web }
route cart { match host "shop.bench.test" path prefix "/cart" method GET POST; timeout 1s; proxy web }
route shop { match host "shop.bench.test" path prefix "/shop"; timeout 1s; proxy web }
route beta { match host "shop.bench.test" path prefix "/shop" header X-Beta "1"; timeout 1s; proxy web }
${extra}`
  const r = compile(['t.gwp'], { host: memoryHost({ 't.gwp': text }) })
  if (r.ir === undefined) throw new Error(r.diagnostics.map(d => d.message).join('\n'))
  return new Router(r.ir.routes.map(x => x.match), r.ir.routes.map(x => x.name))
}
const plain = routerOf('')
const conditioned = routerOf(`route canary { match host "shop.bench.test" path prefix "/shop" cookie canary "1"; timeout 1s; proxy web }
route preview { match host "shop.bench.test" path prefix "/shop" query preview; timeout 1s; proxy web }
route v2 { match host "shop.bench.test" path prefix "/shop" query v "2 beta"; timeout 1s; proxy web }`)

const COOKIES = '_ga=GA1.2.1234567890.1234567890; session=0123456789abcdef0123456789abcdef; theme=dark'
const h = (cookie?: string): Headers => (cookie === undefined ? {} : { cookie })
const CASES: [string, Router<string>, string, Headers, string, string, string][] = [
  ['no conditions in the table: /shop/item', plain, '/shop/item', h(COOKIES), '?page=2&sort=price', 'shop', 'the route-lookup figure: find-my-way only'],
  ['conditions in the table, request has neither: /shop/item', conditioned, '/shop/item', h(COOKIES), '?page=2&sort=price', 'shop', 'nothing beyond find-my-way: three scans that find nothing'],
  ['cookie canary=1, last of four cookies', conditioned, '/shop/item', h(COOKIES + '; canary=1'), '', 'canary', 'nothing: the value is compared in place'],
  ['query ?page=2&preview', conditioned, '/shop/item', h(), '?page=2&preview', 'preview', 'nothing'],
  ['query ?v=2+beta (decoded)', conditioned, '/shop/item', h(), '?v=2+beta', 'v2', 'the decoded value: a regex replace and decodeURIComponent'],
  ['query ?v=2beta (plain value, no match)', conditioned, '/shop/item', h(), '?v=2beta', 'shop', 'nothing: compared in place'],
]
const suite = createSuite(import.meta.url, 'Router.find with query and cookie conditions')
for (const [name, router, path, headers, query, want, note] of CASES) {
  assert.equal(router.find('shop.bench.test', path, 'GET', headers, query), want, name)
  suite.add(name, note, () => router.find('shop.bench.test', path, 'GET', headers, query))
}
await suite.run()
