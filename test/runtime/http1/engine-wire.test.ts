// test/runtime/http1/engine-wire.test.ts: the http1 engine (runtime/http1/) puts the same bytes on the wire as
// the node engine (node:http) for the same exchanges: gw answers, proxied answers of known and unknown length
// (chunked framing), HEAD/204/304 without a body, HTTP/1.0 clients, Connection: close, refusals. Both engines run
// side by side in this process (settings `engine`), whatever GW_ENGINE says; variable values are masked.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { maskHead, req, WireConnection, type WireResponse } from '../../helpers/wire.js'

let up: RecordingUpstream
let node: TestGateway
let http1: TestGateway

const MASK = ['x-request-id', 'server-timing', 'date']

before(async () => {
  up = await startRecordingUpstream(1)
  // The upstream's answer is chosen by the request path.
  up.replicas[0].behave(r => {
    switch (r.target) {
      case '/chunked': return { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n' }
      case '/no-content': return { kind: 'answer', status: 204, headers: [['x-up', '1']], body: '' }
      case '/not-modified': return { kind: 'raw', bytes: 'HTTP/1.1 304 Not Modified\r\netag: "a"\r\n\r\n' }
      case '/empty-chunked': return { kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n' }
      default: return { kind: 'answer', headers: [['content-type', 'text/plain'], ['X-Case', 'Kept']], body: 'fixed body' }
    }
  })
  const policy = `
upstream u { replicas ${up.addrs} }
route own { match path "/own"; timeout 2s; respond 201 json "{\\"ok\\":true}" }
route proxied { match path prefix "/"; timeout 2s; proxy u }
`
  node = await startGateway(policy, { engine: 'node' })
  http1 = await startGateway(policy, { engine: 'http1' })
  assert.equal(http1.running.server.constructor.name, 'Http1Server')
  assert.notEqual(node.running.server.constructor.name, 'Http1Server')
})
after(async () => { await node.close(); await http1.close(); await up.close() })

const port = (g: TestGateway): number => g.running.address.port

/** Sends `bytes` on a fresh connection and reads `n` responses; also whether the server closed after them. */
async function exchange(g: TestGateway, bytes: string, n = 1, head = false, halfClose = false): Promise<{ responses: WireResponse[]; closed: boolean }> {
  const c = await WireConnection.open(port(g))
  try {
    await c.write(bytes)
    if (halfClose) c.socket.end()
    const responses: WireResponse[] = []
    for (let i = 0; i < n; i++) responses.push(await c.read({ head }))
    await Promise.race([c.closed, new Promise(r => setTimeout(r, 150))])
    return { responses, closed: c.isClosed }
  } finally { c.close() }
}

const view = (x: { responses: WireResponse[]; closed: boolean }) => ({
  responses: x.responses.map(r => ({ head: maskHead(r.head, MASK), rawBody: r.rawBody.toString('latin1').replace(/"request_id":"[^"]*"/, '"request_id":"*"') })),
  closed: x.closed,
})

async function same(bytes: string, n = 1, head = false, halfClose = false) {
  const a = view(await exchange(node, bytes, n, head, halfClose))
  const b = view(await exchange(http1, bytes, n, head, halfClose))
  assert.deepEqual(b, a, `http1 differs from node for ${JSON.stringify(bytes)}`)
  return b
}

test('gw\'s own answers: same head and body bytes', async () => {
  const r = await same(req('GET /own HTTP/1.1', 'Host: a'))
  assert.match(r.responses[0].head, /^HTTP\/1\.1 201 Created\r\n/)
  await same(req('HEAD /own HTTP/1.1', 'Host: a'), 1, true)
  await same(req('GET /own HTTP/1.1', 'Host: a', 'Connection: close'))
  await same(req('GET /own HTTP/1.0'))
  await same(req('GET /own HTTP/1.0', 'Connection: keep-alive'))
})

test('proxied answers of known length, of unknown length (chunked), 204 and 304: same bytes', async () => {
  await same(req('GET /fixed HTTP/1.1', 'Host: a'))
  const c = await same(req('GET /chunked HTTP/1.1', 'Host: a'))
  assert.match(c.responses[0].head, /\r\nTransfer-Encoding: chunked/)
  assert.match(c.responses[0].rawBody, /0\r\n\r\n$/)
  await same(req('GET /empty-chunked HTTP/1.1', 'Host: a'))
  await same(req('HEAD /chunked HTTP/1.1', 'Host: a'), 1, true)
  await same(req('GET /no-content HTTP/1.1', 'Host: a'))
  await same(req('GET /not-modified HTTP/1.1', 'Host: a'))
  // an HTTP/1.0 client gets a body of unknown length delimited by the close, never chunked
  const ten = await same(req('GET /chunked HTTP/1.0', 'Host: a', 'Connection: keep-alive'))
  assert.equal(ten.closed, true)
  assert.equal(ten.responses[0].rawBody, 'hello world')
})

test('refusals on the bare socket: same bytes, and the connection closes', async () => {
  for (const bytes of [
    'GET /own HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n',
    req('GET /own HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Content-Length: 2'),
    req('GET /own HTTP/1.1', 'Host: a', 'Upgrade: websocket', 'Connection: upgrade'),
    req('GET /own HTTP/1.1', 'Host: a', `X-Big: ${'x'.repeat(20_000)}`),
  ]) {
    const r = await same(bytes)
    assert.equal(r.closed, true)
  }
  // a refusal the gateway makes after parsing (duplicate Host) is a normal answer: same on both engines too
  await same(req('GET /own HTTP/1.1', 'Host: a', 'Host: b'))
})

test('pipelined requests are answered in order, each after the one before, on one connection', async () => {
  const bytes = req('GET /fixed HTTP/1.1', 'Host: a') + req('GET /own HTTP/1.1', 'Host: a') + req('GET /chunked HTTP/1.1', 'Host: a') + req('HEAD /own HTTP/1.1', 'Host: a')
  for (const g of [node, http1]) {
    const c = await WireConnection.open(port(g))
    try {
      await c.write(bytes)
      const a = await c.read(), b = await c.read(), d = await c.read(), e = await c.read({ head: true })
      assert.deepEqual([a.status, b.status, d.status, e.status], [200, 201, 200, 201])
      assert.deepEqual([a.text, b.text, d.text, e.text], ['fixed body', '{"ok":true}', 'hello world', ''])
      assert.equal(c.unread().length, 0)
    } finally { c.close() }
  }
  const r = await same(bytes, 3)
  assert.equal(r.closed, false)
})

test('a client that closes its side in the middle of a head or a body gets the same 400; after a whole request, nothing', async () => {
  for (const bytes of ['GET /own HTTP/1.1\r\nHo', 'POST /fixed HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabcde']) {
    const r = await same(bytes, 1, false, true)
    assert.match(r.responses[0].head, /^HTTP\/1\.1 400 Bad Request\r\n/)
  }
  await same(req('GET /fixed HTTP/1.1', 'Host: a'), 0, false, true)
})
