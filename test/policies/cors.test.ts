// test/policies/cors.test.ts: the `cors` stage through a real gateway, a real upstream and real sockets: preflights
// answered at the edge (never upstream, before the rate limit, on a route whose match lists only GET and POST),
// CORS headers on the upstream's answers and the gateway's own (429, 502), Vary: Origin, and hostile origins.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { call, metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { deadAddress } from '../helpers/dead-address.js'
import { req, wireExchange } from '../helpers/wire.js'

interface Seen { method: string; url: string; headers: Record<string, string | string[] | undefined> }
const seen: Seen[] = []
let upstream: Server
let gw: TestGateway

const APP = 'https://app.example.com'

before(async () => {
  upstream = createServer((r, res) => {
    seen.push({ method: r.method!, url: r.url!, headers: r.headers })
    // an upstream with CORS ideas of its own: the route's policy must win over them
    res.writeHead(200, { vary: 'Accept-Encoding', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', 'x-request-id-up': 'u' })
    res.end('ok')
  }).listen(0, '127.0.0.1')
  await new Promise(r => upstream.once('listening', r))
  const port = (upstream.address() as AddressInfo).port
  gw = await startGateway(`
upstream app { replicas 127.0.0.1:${port} }
upstream dead { replicas ${deadAddress()} }
route api {
  match path prefix "/api" method GET POST
  cors origins "${APP}", "https://*.example.com", "http://127.0.0.1:8080" methods GET, POST, PUT headers x-trace, content-type expose x-request-id credentials max_age 10m
  ratelimit by header x-client 2 per 1m
  proxy app
}
route open {
  match path prefix "/open"
  cors origins "*" expose etag
  proxy app
}
route sandboxed {
  match path prefix "/sandboxed" method GET
  cors origins "null"
  proxy app
}
route down {
  match path prefix "/down" method GET
  cors origins "${APP}"
  timeout 2s
  proxy dead
}
route plain {
  match path prefix "/plain" method GET
  proxy app
}
`)
})

after(async () => { await gw.close(); upstream.close() })

let client = 0
/** A request as its own client (its own rate-limit key), unless the test names one. */
const get = (path: string, o: { method?: string; headers?: Record<string, string> } = {}) =>
  call(gw.url + path, { ...o, headers: { 'x-client': `c${client++}`, ...o.headers } })

const cors = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k.startsWith('access-control-')))
const preflight = (origin: string, method: string, headers?: string) => ({
  method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, ...(headers !== undefined ? { 'access-control-request-headers': headers } : {}) },
})

test('an allowed origin gets its origin echoed, credentials, exposed headers, and Vary: Origin added to the upstream\'s Vary', async () => {
  const r = await get('/api/a', { headers: { origin: APP } })
  assert.equal(r.status, 200)
  assert.deepEqual(cors(r.headers), { 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-request-id' })
  assert.deepEqual(r.headers.vary, ['Accept-Encoding', 'Origin'])
})

test('a preflight is answered by the gateway with 204 and never reaches the upstream, though the route lists only GET and POST', async () => {
  const before = seen.length
  const r = await get('/api/a', preflight('https://eu.shop.example.com', 'PUT', 'X-Trace, Content-Type'))
  assert.equal(r.status, 204)
  assert.deepEqual(cors(r.headers), {
    'access-control-allow-origin': 'https://eu.shop.example.com', 'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, POST, PUT', 'access-control-allow-headers': 'x-trace, content-type', 'access-control-max-age': '600',
  })
  assert.equal(r.headers.vary, 'Origin')
  assert.equal(r.headers['content-length'], undefined, 'a 204 carries no Content-Length')
  assert.equal(r.headers['content-type'], undefined)
  assert.equal(r.text, '')
  assert.equal(seen.length, before, 'the upstream saw nothing')
})

test('a preflight is answered before the rate limit (it carries no credentials and must not use up the client\'s budget)', async () => {
  for (let i = 0; i < 5; i++) assert.equal((await get('/api/a', { method: 'OPTIONS', headers: { ...preflight(APP, 'POST').headers, 'x-client': 'pf' } })).status, 204)
  assert.equal((await get('/api/a', { headers: { 'x-client': 'pf' } })).status, 200, 'the limit of 2 is untouched by five preflights')
})

test('a refused preflight (origin, method or header not allowed) is 403 without CORS headers and never reaches the upstream', async () => {
  const before = seen.length
  for (const p of [
    preflight('https://evil.test', 'GET'),
    preflight(APP, 'DELETE'),
    preflight(APP, 'PUT', 'x-trace, x-admin'),
    preflight(APP, 'put'), // methods are case-sensitive
  ]) {
    const r = await get('/api/a', p)
    assert.equal(r.status, 403, JSON.stringify(p.headers))
    assert.equal(r.json().error, 'forbidden')
    assert.deepEqual(cors(r.headers), {}, JSON.stringify(p.headers))
    assert.equal(r.headers.vary, 'Origin')
  }
  assert.equal(seen.length, before)
  const m = await (await fetch(gw.adminUrl + '/metrics')).text()
  assert.ok(metric(m, 'gw_cors_preflights_total', { route: 'api', result: 'refused' })! >= 4)
  assert.ok(metric(m, 'gw_cors_preflights_total', { route: 'api', result: 'allowed' })! >= 1)
})

test('a disallowed origin gets no CORS headers (the upstream\'s own are removed) and is still served as the route says', async () => {
  const r = await get('/api/a', { headers: { origin: 'https://evil.test' } })
  assert.equal(r.status, 200)
  assert.equal(r.text, 'ok')
  assert.deepEqual(cors(r.headers), {})
  assert.deepEqual(r.headers.vary, ['Accept-Encoding', 'Origin'])
})

test('a request without Origin is served with Vary: Origin and no CORS headers of the gateway\'s making', async () => {
  const r = await get('/api/a')
  assert.equal(r.status, 200)
  assert.deepEqual(r.headers.vary, ['Accept-Encoding', 'Origin'])
  assert.equal(r.headers['access-control-allow-origin'], '*', 'no Origin, no decision: the upstream\'s headers pass (browsers always send Origin cross-origin)')
})

test('look-alike origins never match: suffix tricks, scheme, port, case, empty labels, user info, Origin: null', async () => {
  for (const origin of [
    'https://example.com.evil.test', 'https://evilexample.com', 'https://example.com', 'https://app.example.com.', 'http://app.example.com',
    'https://app.example.com:8443', 'HTTPS://APP.EXAMPLE.COM', 'https://App.example.com', 'https://a..example.com', 'https://a..b.example.com', 'https://.a.example.com', 'https://.example.com',
    'https://app.example.com/', 'https://evil.test/.example.com', 'https://evil.test#.example.com', 'https://u@x.example.com', 'https://x_y.example.com',
    'null', 'http://127.0.0.1:8081', 'http://127.0.0.1', 'https://127.0.0.1:8080', '',
  ]) {
    const r = await get('/api/a', { headers: { origin } })
    assert.equal(r.status, 200, origin)
    assert.deepEqual(cors(r.headers), {}, origin)
    const p = await get('/api/a', preflight(origin, 'GET'))
    assert.equal(p.status, 403, origin)
  }
  for (const origin of ['https://a.b.c.example.com', 'https://xn--bcher-kva.example.com', 'http://127.0.0.1:8080', APP]) {
    const r = await get('/api/a', { headers: { origin } })
    assert.equal(r.headers['access-control-allow-origin'], origin, origin)
  }
})

test('Origin: null matches only where it is listed', async () => {
  const r = await call(gw.url + '/sandboxed', { headers: { origin: 'null' } })
  assert.equal(r.headers['access-control-allow-origin'], 'null')
  assert.equal(r.headers['access-control-allow-credentials'], undefined)
})

test('two Origin headers (joined by the parser) match nothing, even when each alone would', async () => {
  for (const second of [APP, 'https://x.example.com']) {
    const w = await wireExchange(gw.running.address.port, req('GET /api/a HTTP/1.1', 'Host: x', `Origin: ${APP}`, `Origin: ${second}`, 'Connection: close'))
    assert.equal(w.status, 200)
    assert.deepEqual(w.all('access-control-allow-origin'), [])
    const p = await wireExchange(gw.running.address.port, req('OPTIONS /api/a HTTP/1.1', 'Host: x', 'Origin: https://x.example.com', `Origin: ${second}`, 'Access-Control-Request-Method: GET', 'Connection: close'))
    assert.equal(p.status, 403)
  }
  const m = await wireExchange(gw.running.address.port, req('OPTIONS /api/a HTTP/1.1', 'Host: x', `Origin: ${APP}`, 'Access-Control-Request-Method: GET', 'Access-Control-Request-Method: PUT', 'Connection: close'))
  assert.equal(m.status, 403, 'two requested methods: refused')
})

test('answers the gateway makes on a CORS route carry the CORS headers too (a page can read its 429 or 502)', async () => {
  let last = await get('/api/a', { headers: { origin: APP, 'x-client': 'burst' } })
  for (let i = 0; i < 3; i++) last = await get('/api/a', { headers: { origin: APP, 'x-client': 'burst' } })
  assert.equal(last.status, 429)
  assert.equal(last.headers['access-control-allow-origin'], APP)
  assert.equal(last.headers['access-control-allow-credentials'], 'true')
  assert.equal(last.headers.vary, 'Origin')
  const down = await call(gw.url + '/down', { headers: { origin: APP } })
  assert.equal(down.status, 502)
  assert.equal(down.headers['access-control-allow-origin'], APP)
  assert.equal(down.headers.vary, 'Origin')
})

test('a non-preflight OPTIONS on a CORS route is served by the route like its other methods', async () => {
  const before = seen.length
  const r = await get('/api/a', { method: 'OPTIONS', headers: { origin: APP } })
  assert.equal(r.status, 200)
  assert.equal(r.headers['access-control-allow-origin'], APP)
  assert.equal(seen.length, before + 1)
  assert.equal(seen.at(-1)!.method, 'OPTIONS')
})

test('origins "*": Access-Control-Allow-Origin: * on every answer, no Vary, preflights answered with *', async () => {
  const r = await get('/open/x', { headers: { origin: 'https://anyone.test' } })
  // `*` grants nothing to one origin: it sets Allow-Origin and leaves the upstream's other headers be (a browser
  // refuses credentials with `*` whatever they say)
  assert.deepEqual(cors(r.headers), { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'etag', 'access-control-allow-credentials': 'true' })
  assert.equal(r.headers.vary, 'Accept-Encoding')
  const plain = await get('/open/x')
  assert.equal(plain.headers['access-control-allow-origin'], '*')
  const p = await get('/open/x', preflight('https://anyone.test', 'POST'))
  assert.equal(p.status, 204)
  assert.deepEqual(cors(p.headers), { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, POST' })
  assert.equal(p.headers.vary, undefined)
})

test('a route without cors is untouched: no CORS headers, and OPTIONS is still not one of its methods', async () => {
  const r = await call(gw.url + '/plain', { headers: { origin: APP } })
  assert.equal(r.headers.vary, 'Accept-Encoding')
  assert.equal(r.headers['access-control-allow-origin'], '*', 'the upstream\'s own, passed through')
  const p = await call(gw.url + '/plain', preflight(APP, 'GET'))
  assert.equal(p.status, 404)
})
