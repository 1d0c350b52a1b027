// Issue 12 item 3 / issue 14 item 2: the cors stage's edges its first mutation run found unpinned
// (policies/cors/stage.ts), through a real gateway and a recording upstream:
// - what makes a preflight: OPTIONS *and* Origin *and* Access-Control-Request-Method. A GET that carries
//   Access-Control-Request-Method is an ordinary request, and so is an OPTIONS without Origin: both go to the
//   upstream, on a route with an origin list and on an `origins "*"` route alike;
// - several exposed headers are one comma-separated list (`a, b`), on both kinds of route.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { call, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'

let up: RecordingUpstream
let gw: TestGateway
const APP = 'https://app.example.com'

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream app { replicas ${up.addrs} }
route listed {
  match path prefix "/listed"
  cors origins "${APP}", "https://*.example.com" methods GET, POST expose x-request-id, etag, x-total
  timeout 2s
  proxy app
}
route any {
  match path prefix "/any"
  cors origins "*" expose x-request-id, etag
  timeout 2s
  proxy app
}
`)
})
after(async () => { await gw.close(); await up.close() })

test('a GET carrying Access-Control-Request-Method is not a preflight: the upstream answers it, with the CORS headers', async () => {
  for (const [path, acao] of [['/listed/a', APP], ['/any/a', '*']] as const) {
    up.reset()
    const r = await call(gw.url + path, { headers: { origin: APP, 'access-control-request-method': 'POST' } })
    assert.equal(r.status, 200, path)
    assert.equal(up.received.length, 1, `${path}: the upstream saw it`)
    assert.equal(up.received[0].method, 'GET')
    assert.equal(r.headers['access-control-allow-origin'], acao, path)
    assert.equal(r.headers['access-control-allow-methods'], undefined, `${path}: not a preflight answer`)
  }
})

test('an OPTIONS without Origin is not a preflight, whatever it asks: the route serves it', async () => {
  for (const path of ['/listed/a', '/any/a']) {
    up.reset()
    const r = await call(gw.url + path, { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } })
    assert.equal(r.status, 200, path)
    assert.equal(up.received.length, 1, `${path}: the upstream saw it`)
    assert.equal(up.received[0].method, 'OPTIONS')
    assert.equal(r.headers['access-control-allow-methods'], undefined, path)
  }
  // with Origin it is one, and never reaches the upstream
  up.reset()
  const p = await call(gw.url + '/listed/a', { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'GET' } })
  assert.equal(p.status, 204)
  assert.equal(p.headers['access-control-allow-methods'], 'GET, POST')
  assert.equal(up.received.length, 0)
})

test('several exposed headers are one comma-separated list, for a listed origin and for any origin', async () => {
  const listed = await call(gw.url + '/listed/a', { headers: { origin: 'https://eu.example.com' } })
  assert.equal(listed.headers['access-control-allow-origin'], 'https://eu.example.com')
  assert.equal(listed.headers['access-control-expose-headers'], 'x-request-id, etag, x-total')
  const any = await call(gw.url + '/any/a', { headers: { origin: 'https://anyone.test' } })
  assert.equal(any.headers['access-control-expose-headers'], 'x-request-id, etag')
})
