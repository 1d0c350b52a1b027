// test/browser/cors.test.ts (issue 12): CORS as a browser enforces it. Debian's Chromium, driven by playwright-core,
// loads a page from one origin (http://127.0.0.1:A) and `fetch`es a gateway on another (http://localhost:B) that
// proxies to a real upstream recording what it receives. Preflights are counted at the gateway
// (gw_cors_preflights_total): the upstream must never see one. Skips only when /usr/bin/chromium is absent
// (.ci/run installs it).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { browserSkip, openBrowser, type Browser } from '../helpers/browser.js'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'

const skip = browserSkip('the CORS browser test')

const seen: { method: string; url: string; trace: string | undefined }[] = []
let upstream: Server, site: Server, gw: TestGateway, browser: Browser, page: Page
let api = ''

const listen = async (s: Server): Promise<number> => { s.listen(0, '127.0.0.1'); await new Promise(r => s.once('listening', r)); return (s.address() as AddressInfo).port }

before(async () => {
  if (skip) return
  upstream = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, trace: req.headers['x-trace'] as string | undefined })
    res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': 'yes' })
    res.end(`upstream saw ${req.method} ${req.url}`)
  })
  site = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>page</title><p>cross-origin caller</p>') })
  const upPort = await listen(upstream)
  const sitePort = await listen(site)
  const page0 = `http://127.0.0.1:${sitePort}`
  gw = await startGateway(`
upstream app { replicas 127.0.0.1:${upPort} }
route api {
  match path prefix "/api" method GET POST PUT
  cors origins "${page0}" methods GET, POST, PUT headers x-trace expose x-upstream credentials max_age 10m
  ratelimit by ip 1000 per 1s
  proxy app
}
route nocache {
  match path prefix "/nocache" method PUT
  cors origins "${page0}" methods PUT headers x-trace max_age 0s
  proxy app
}
route denied {
  match path prefix "/denied" method GET PUT
  cors origins "https://other.example.com" methods GET, PUT headers x-trace
  proxy app
}
`)
  // the gateway on another origin: another host name for the same loopback address
  api = `http://localhost:${gw.running.address.port}`
  browser = await openBrowser(`${page0}/`)
  page = browser.page
})

after(async () => {
  if (skip) return
  await browser?.close()
  await gw?.close()
  upstream?.close(); site?.close()
})

/** A fetch from the page: its status, body and the headers the page may read, or the error the browser raised. */
async function fetchFromPage(url: string, init: Record<string, unknown> = {}): Promise<{ ok: true; status: number; text: string; upstreamHeader: string | null } | { ok: false; error: string }> {
  return page.evaluate(async ([u, i]) => {
    try {
      const r = await fetch(u as string, i as RequestInit)
      return { ok: true as const, status: r.status, text: await r.text(), upstreamHeader: r.headers.get('x-upstream') }
    } catch (e) { return { ok: false as const, error: String(e) } }
  }, [url, init] as const)
}

const preflights = async (route: string, result: 'allowed' | 'refused'): Promise<number> =>
  metric(await (await fetch(gw.adminUrl + '/metrics')).text(), 'gw_cors_preflights_total', { route, result }) ?? 0

test('an allowed simple request: the page reads the answer and the exposed header', { skip }, async () => {
  const r = await fetchFromPage(`${api}/api/simple`)
  assert.ok(r.ok, JSON.stringify(r))
  assert.equal(r.status, 200)
  assert.equal(r.text, 'upstream saw GET /api/simple')
  assert.equal(r.upstreamHeader, 'yes', 'x-upstream is exposed')
  assert.equal(await preflights('api', 'allowed'), 0, 'a simple request needs no preflight')
})

test('an allowed preflighted request with a custom header and credentials: the gateway answers the preflight, the upstream never sees OPTIONS; the second one is served from the preflight cache (max_age)', { skip }, async () => {
  const init = { method: 'PUT', headers: { 'x-trace': 't-1' }, credentials: 'include', body: 'x' }
  const first = await fetchFromPage(`${api}/api/items/1`, init)
  assert.ok(first.ok, JSON.stringify(first))
  assert.equal(first.text, 'upstream saw PUT /api/items/1')
  assert.equal(await preflights('api', 'allowed'), 1, 'one preflight, answered by the gateway')
  // past Chromium's 5 s default: only Access-Control-Max-Age keeps the preflight cached this long
  await new Promise(r => setTimeout(r, 5500))
  const second = await fetchFromPage(`${api}/api/items/1`, init)
  assert.ok(second.ok, JSON.stringify(second))
  assert.equal(await preflights('api', 'allowed'), 1, 'max_age 10m: the browser sent no second preflight')
  const puts = seen.filter(s => s.url === '/api/items/1')
  assert.deepEqual(puts.map(s => [s.method, s.trace]), [['PUT', 't-1'], ['PUT', 't-1']])
  assert.equal(seen.filter(s => s.method === 'OPTIONS').length, 0, 'the upstream never saw a preflight')
})

test('max_age 0s: every preflighted request is preflighted again (the cache above was max_age, not luck)', { skip }, async () => {
  const init = { method: 'PUT', headers: { 'x-trace': 't-2' } }
  for (let i = 1; i <= 2; i++) {
    const r = await fetchFromPage(`${api}/nocache/x`, init)
    assert.ok(r.ok, JSON.stringify(r))
    assert.equal(await preflights('nocache', 'allowed'), i)
  }
})

test('a denied origin: the browser rejects the fetch, simple or preflighted, and a refused preflight never reaches the upstream', { skip }, async () => {
  const simple = await fetchFromPage(`${api}/denied/simple`)
  assert.equal(simple.ok, false)
  assert.match((simple as { error: string }).error, /TypeError/)
  const before = seen.length
  const pre = await fetchFromPage(`${api}/denied/put`, { method: 'PUT', headers: { 'x-trace': 't-3' } })
  assert.equal(pre.ok, false)
  assert.equal(await preflights('denied', 'refused'), 1)
  assert.equal(seen.length, before, 'neither the preflight nor the PUT reached the upstream')
})
