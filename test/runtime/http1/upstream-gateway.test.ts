// test/runtime/http1/upstream-gateway.test.ts: gw on the http1 engine (settings `engine: http1`, whatever
// GW_ENGINE says) proxying through its own upstream pool: the exact bytes an upstream receives for a proxied
// GET, a chunked upload and an HTTP/1.0 request without Host; a malformed upstream answer is a 502; a reset
// after the request was written is retried only for an idempotent request; the connection metrics count the
// pool's connections; a slow client holds the upstream back instead of filling gw's memory.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { maskHead, req, wireExchange } from '../../helpers/wire.js'
import { metricsText } from '../fixtures.js'
import { delay, RawUpstream, waitFor } from './upstream-helpers.js'

let up: RecordingUpstream
let raw: RawUpstream
let gw: TestGateway
let port: number
let bigWritten = 0

const BIG = 32 * 1024 * 1024

before(async () => {
  up = await startRecordingUpstream(2)
  raw = await new RawUpstream((c, request) => {
    const path = request.split(' ')[1]
    if (path === '/raw/bad') c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc')
    else if (path === '/raw/big') {
      c.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${BIG}\r\n\r\n`)
      const block = Buffer.alloc(64 * 1024, 0x62)
      const pump = () => { while (bigWritten < BIG) { bigWritten += block.length; if (!c.socket.write(block)) { c.socket.once('drain', pump); return } } }
      pump()
    } else c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok')
  }).listen()
  gw = await startGateway(`
upstream rec { replicas ${up.addrs}; balance round_robin; health passive eject_after 1000 }
upstream raw { replicas 127.0.0.1:${raw.port} }
route raw { match path prefix "/raw"; timeout 10s; proxy raw }
route retried { match path prefix "/retry"; timeout 5s; retry 1 no_budget; proxy rec }
route rec { match path prefix "/"; timeout 5s; proxy rec }
`, { engine: 'http1' })
  port = gw.running.address.port
})
after(async () => { await gw?.close(); await up?.close(); await raw?.close() })

test('a proxied GET: the bytes the upstream receives', async () => {
  up.reset()
  const r = await wireExchange(port, req('GET /a?x=1 HTTP/1.1', 'Host: shop.test', 'User-Agent: t', 'X-Request-Id: rid-1'))
  assert.equal(r.status, 200, r.head)
  assert.equal(maskHead(up.received[0].rawHead, ['traceparent']), [
    'GET /a?x=1 HTTP/1.1',
    'host: shop.test',
    'connection: keep-alive',
    'User-Agent: t',
    'x-forwarded-for: 127.0.0.1',
    'x-forwarded-proto: http',
    'x-forwarded-host: shop.test',
    'x-request-id: rid-1',
    'traceparent: *',
    'via: 1.1 gwp',
  ].join('\r\n'))
})

test('a chunked upload is sent chunked; a Content-Length one with its length', async () => {
  up.reset()
  const r = await wireExchange(port, [req('POST /up HTTP/1.1', 'Host: shop.test', 'Transfer-Encoding: chunked', 'X-Request-Id: rid-2') + '5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'], { gapMs: 30 })
  assert.equal(r.status, 200, r.head)
  const got = up.received[0]
  assert.equal(got.header('transfer-encoding'), 'chunked')
  assert.equal(got.header('content-length'), undefined)
  assert.equal(got.body.toString(), 'hello world')
  up.reset()
  await wireExchange(port, req('PUT /put HTTP/1.1', 'Host: shop.test', 'Content-Length: 3') + 'abc')
  assert.equal(up.received[0].header('content-length'), '3')
  assert.equal(up.received[0].header('transfer-encoding'), undefined)
  assert.equal(up.received[0].body.toString(), 'abc')
})

test('an HTTP/1.0 request without Host: the replica\'s address is the upstream Host', async () => {
  up.reset()
  const r = await wireExchange(port, 'GET /old HTTP/1.0\r\n\r\n')
  assert.equal(r.status, 200, r.head)
  assert.match(up.received[0].rawHead, /^GET \/old HTTP\/1\.1\r\nhost: 127\.0\.0\.1:\d+\r\nconnection: keep-alive\r\n/)
})

test('a malformed upstream answer is a 502 for the client', async () => {
  const r = await wireExchange(port, req('GET /raw/bad HTTP/1.1', 'Host: shop.test'))
  assert.equal(r.status, 502, r.head)
  assert.match(r.text, /bad_gateway/)
})

test('a reset after the request was written: a GET is retried on the other replica, a POST is not', async () => {
  up.reset()
  up.replicas[0].behave({ kind: 'reset' })
  up.replicas[1].behave({ kind: 'reset' })
  try {
    // one replica resets, the other answers: whichever the GET met first, it ends with an answer
    up.replicas[1].behave({ kind: 'answer' })
    for (let i = 0; i < 2; i++) {
      const g = await wireExchange(port, req('GET /retry/g HTTP/1.1', 'Host: shop.test'))
      assert.equal(g.status, 200, g.head)
    }
    up.reset()
    up.replicas[1].behave({ kind: 'reset' })
    const p = await wireExchange(port, req('POST /retry/p HTTP/1.1', 'Host: shop.test', 'Content-Length: 1') + 'x')
    assert.equal(p.status, 502, p.head)
    assert.equal(up.received.filter(x => x.method === 'POST').length, 1, 'the POST was sent once')
  } finally {
    up.replicas[0].behave({ kind: 'answer' })
    up.replicas[1].behave({ kind: 'answer' })
  }
})

test('the pool\'s connections are counted in gw_upstream_connections_opened_total', async () => {
  const before = up.replicas.reduce((n, r) => n + r.connections, 0)
  for (let i = 0; i < 10; i++) await wireExchange(port, req('GET /count HTTP/1.1', 'Host: shop.test'))
  const text = await metricsText(gw)
  assert.equal(metric(text, 'gw_upstream_connections_opened_total', { upstream: 'rec' }), up.replicas.reduce((n, r) => n + r.connections, 0))
  assert.ok(up.replicas.reduce((n, r) => n + r.connections, 0) - before <= 2, 'ten sequential requests reuse the kept-alive connections')
})

test('a client that stops reading holds the upstream back: gw buffers a bounded amount', async () => {
  bigWritten = 0
  const sock = connect(port, '127.0.0.1')
  await new Promise(r => sock.once('connect', r))
  sock.write(req('GET /raw/big HTTP/1.1', 'Host: shop.test'))
  let got = 0
  sock.on('data', (b: Buffer) => { got += b.length })
  await waitFor(() => got > 0, 3000, 'the first bytes')
  sock.pause()
  await delay(600)
  const held = bigWritten
  await delay(300)
  assert.equal(bigWritten, held, 'the upstream is stalled')
  assert.ok(bigWritten < BIG / 2, `the upstream wrote ${bigWritten} of ${BIG} bytes to a gw whose client does not read`)
  sock.resume()
  await waitFor(() => got >= BIG, 20_000, 'the whole body')
  sock.destroy()
})
