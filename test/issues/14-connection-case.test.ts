// Issue 14, survivor 1: a header named in Connection is hop-by-hop whatever the case of either spelling
// (RFC 9110 §7.6.1: field names are case-insensitive). Pinned on the wire both ways: the exact head the
// upstream received and the exact head the client received.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { maskHead, req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
let gw: TestGateway
let port: number

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream web { replicas ${up.addrs} }
route all { match path prefix "/"; timeout 2s; proxy web }
`)
  port = gw.running.address.port
})
after(async () => { await gw?.close(); await up?.close() })

test('client → upstream: headers the client named in Connection are dropped whatever the case of name and token', async () => {
  up.reset()
  const r = await wireExchange(port, req('GET /a?x=1 HTTP/1.1', 'Host: shop.test', 'Connection: X-Hop, x-other, Keep-Alive',
    'x-hop: 1', 'X-OTHER: 2', 'X-Kept: 3', 'X-Request-Id: rid-1'))
  assert.equal(r.status, 200, r.head)
  assert.equal(up.received.length, 1)
  const got = up.received[0]
  assert.equal(maskHead(got.rawHead, ['traceparent']), [
    'GET /a?x=1 HTTP/1.1',
    'host: shop.test', // undici writes Host first, lower-case
    'connection: keep-alive',
    'X-Kept: 3',
    'x-forwarded-for: 127.0.0.1',
    'x-forwarded-proto: http',
    'x-forwarded-host: shop.test',
    'x-request-id: rid-1',
    'traceparent: *',
    'via: 1.1 gwp',
  ].join('\r\n'))
})

test('upstream → client: headers the upstream named in Connection are dropped whatever the case of name and token', async () => {
  up.reset()
  up.replicas[0].behave({ kind: 'answer', body: 'ok', headers: [['Connection', 'X-Hop, x-other'], ['x-hop', 'a'], ['X-Other', 'b'], ['X-End', 'c'], ['Content-Type', 'text/plain']] })
  try {
    const r = await wireExchange(port, req('GET /b HTTP/1.1', 'Host: shop.test', 'X-Request-Id: rid-2'))
    assert.equal(maskHead(r.head, ['date', 'server-timing']), [
      'HTTP/1.1 200 OK',
      'X-End: c',
      'Content-Type: text/plain',
      'content-length: 2',
      'x-request-id: rid-2',
      'server-timing: *',
      'via: 1.1 gwp',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=30',
    ].join('\r\n'))
    assert.equal(r.text, 'ok')
  } finally { up.replicas[0].behave({ kind: 'answer' }) }
})
