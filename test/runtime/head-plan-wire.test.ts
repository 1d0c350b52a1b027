// test/runtime/head-plan-wire.test.ts: routes whose `headers` stages are compiled to head plans (issue 13 item 2),
// through real sockets on both engines side by side (settings `engine`, whatever GW_ENGINE says): a raw upstream
// records the exact request head gw sends, a raw client reads the exact response head gw writes. The bytes are
// pinned (variable values masked), so the plan path (http1: rendered lines; node: pairs) cannot drift from the
// meaning of the edits, including a `cors` stage's and a `rewrite host`'s per-request edits around the route's
// own, and an upstream Connection header naming another (the http1 engine's pairs fallback).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { maskHead, req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
const gws: Record<'node' | 'http1', TestGateway> = {} as never

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave(r => {
    if (r.target === '/edits/conn') return { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Frame-Options: SAMEORIGIN\r\nContent-Length: 2\r\n\r\nok' }
    return { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\nServer: nginx\r\nX-Frame-Options: SAMEORIGIN\r\nVary: Accept-Encoding\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\n\r\nok' }
  })
  const policy = `
upstream u { replicas ${up.addrs} }
route edits {
  match path prefix "/edits"
  timeout 2s
  headers request set X-Env "prod", remove X-Debug, set Via "edge"
  headers response set X-Frame-Options "DENY", remove Server
  headers request set x-env "prod; v=2", set X-Added "a\tb"
  proxy u
}
route cors_around {
  match path prefix "/cors"
  timeout 2s
  cors origins "https://app.test"
  headers response set X-Before "1", remove Vary
  headers response set Access-Control-Allow-Origin "https://static.test"
  proxy u
}
route host_static_then_rewrite {
  match path prefix "/host-a"
  timeout 2s
  headers request set Host "static.internal"
  rewrite host "dynamic.internal"
  proxy u
}
route host_after_suffix {
  match path prefix "/host-c"
  timeout 2s
  headers request set X-Host "v.internal", set X-Mid "1", set Host "v.internal"
  proxy u
}
route rewrite_then_host_static {
  match path prefix "/host-b"
  timeout 2s
  rewrite host "dynamic.internal"
  headers request set Host "static.internal"
  proxy u
}
`
  gws.node = await startGateway(policy, { engine: 'node' })
  gws.http1 = await startGateway(policy, { engine: 'http1' })
})
after(async () => { await gws.node.close(); await gws.http1.close(); await up.close() })

const MASK = ['x-request-id', 'traceparent', 'server-timing', 'date', 'x-forwarded-for']

/** One request through `engine`: the head the upstream received and the head the client got, masked. */
async function through(engine: 'node' | 'http1', request: string): Promise<{ upstream: string; client: string; body: string }> {
  up.reset()
  const r = await wireExchange(gws[engine].running.address.port, request)
  assert.equal(up.received.length, 1)
  return { upstream: maskHead(up.received[0].rawHead, MASK), client: maskHead(r.head, MASK), body: r.text }
}

for (const engine of ['node', 'http1'] as const) {
  test(`${engine}: a route's request and response plans, exact bytes both ways`, async () => {
    const r = await through(engine, req('GET /edits/x HTTP/1.1', 'Host: shop.test', 'X-Debug: 1', 'X-ENV: client', 'Via: 1.1 proxy-a', 'Accept: */*'))
    assert.equal(r.upstream, [
      'GET /edits/x HTTP/1.1',
      'host: shop.test',
      'connection: keep-alive',
      'Accept: */*',
      'x-forwarded-for: *',
      'x-forwarded-proto: http',
      'x-forwarded-host: shop.test',
      'x-request-id: *',
      'traceparent: *',
      'via: edge',
      'x-env: prod; v=2',
      'x-added: a\tb',
    ].join('\r\n'))
    assert.equal(r.client, [
      'HTTP/1.1 200 OK',
      'Vary: Accept-Encoding',
      'Access-Control-Allow-Origin: *',
      'Content-Length: 2',
      'x-request-id: *',
      'server-timing: *',
      'via: 1.1 gwp',
      'x-frame-options: DENY',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=30',
    ].join('\r\n'))
    assert.equal(r.body, 'ok')
  })

  test(`${engine}: an upstream Connection naming a header: it goes, the plan still applies`, async () => {
    const r = await through(engine, req('GET /edits/conn HTTP/1.1', 'Host: shop.test'))
    assert.equal(r.client, [
      'HTTP/1.1 200 OK',
      'Content-Length: 2',
      'x-request-id: *',
      'server-timing: *',
      'via: 1.1 gwp',
      'x-frame-options: DENY',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=30',
    ].join('\r\n'))
  })

  test(`${engine}: cors then two response plans: the later stages' edits win over its per-request ones`, async () => {
    const r = await through(engine, req('GET /cors HTTP/1.1', 'Host: shop.test', 'Origin: https://app.test'))
    assert.equal(r.client, [
      'HTTP/1.1 200 OK',
      'Server: nginx',
      'X-Frame-Options: SAMEORIGIN',
      'Content-Length: 2',
      'x-request-id: *',
      'server-timing: *',
      'via: 1.1 gwp',
      'x-before: 1',
      'access-control-allow-origin: https://static.test',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=30',
    ].join('\r\n'))
  })

  test(`${engine}: a static Host and rewrite host: whichever stage comes later`, async () => {
    const a = await through(engine, req('GET /host-a HTTP/1.1', 'Host: shop.test'))
    assert.deepEqual(a.upstream.split('\r\n').filter(l => /^host:/i.test(l)), ['host: dynamic.internal'])
    const b = await through(engine, req('GET /host-b HTTP/1.1', 'Host: shop.test'))
    assert.deepEqual(b.upstream.split('\r\n').filter(l => /^host:/i.test(l)), ['host: static.internal'])
  })

  test(`${engine}: a static Host whose line ends another added line (x-host with the same value): each line sent once, whole`, async () => {
    const c = await through(engine, req('GET /host-c HTTP/1.1', 'Host: shop.test'))
    const lines = c.upstream.split('\r\n')
    assert.deepEqual(lines.filter(l => /^(host|x-host|x-mid):/i.test(l)), ['host: v.internal', 'x-host: v.internal', 'x-mid: 1'])
  })
}
