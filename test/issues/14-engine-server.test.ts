// test/issues/14-engine-server.test.ts: the http1 engine's client listener (runtime/http1/server.ts and the
// connection's timing state in connection.ts), pinned on the wire for the mutation area `engine` (issue 14):
// an expectation other than 100-continue (the gateway's 417, on both engines), the header timeout of a first and of
// a later head on a kept-alive connection, the request timeout of a body that stops, the keep-alive timeout of
// an idle connection, and a CONNECT refused on the bare socket.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { bound, maskHead, req, sleep, WireConnection } from '../helpers/wire.js'

const policy = (addrs: string): string => `
upstream u { replicas ${addrs} }
route up { match path prefix "/up"; timeout 5s; proxy u }
route own { match path prefix "/"; timeout 5s; respond 200 text "ok" }
`
let up: RecordingUpstream
const TIMEOUTS = { headersTimeoutMs: 400, requestTimeoutMs: 900, keepAliveTimeoutMs: 1500 }
const MASK = ['x-request-id', 'server-timing', 'date']
let http1: TestGateway
let node: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  http1 = await startGateway(policy(up.addrs), { engine: 'http1', ...TIMEOUTS })
  node = await startGateway(policy(up.addrs), { engine: 'node', ...TIMEOUTS })
  assert.equal(http1.running.server.constructor.name, 'Http1Server')
})
after(async () => { await http1.close(); await node.close(); await up.close() })

const port = (g: TestGateway): number => g.running.address.port

/** Sends `bytes`, waits `ms`, returns what came back (masked) and whether the server closed. */
async function after_(g: TestGateway, bytes: string, ms: number): Promise<{ text: string; closed: boolean }> {
  const c = await WireConnection.open(port(g))
  try {
    if (bytes !== '') await c.write(bytes)
    await Promise.race([c.closed, bound(ms)])
    await sleep(50)
    return { text: c.unread().toString('latin1'), closed: c.isClosed }
  } finally { c.close() }
}

test('an Expect other than exactly 100-continue from an HTTP/1.1 client gets the gateway\'s 417, alike on both engines; from HTTP/1.0 it is ignored', async () => {
  // node:http hands `100-continue, x` to checkContinue (its test is a word match) and the rest to
  // checkExpectation; the http1 engine hands all to the gateway: readHead refuses every one of them
  const refused = [['Expect: something-else'], ['Expect: 100-continue, foo'], ['Expect: foo;100-continue'], ['Expect: 100-continue', 'Expect: 100-continue'], ['Expect:']]
  const seen = up.replicas[0].received.length
  const heads: string[][] = [[], []]
  for (const [i, g] of [node, http1].entries()) {
    const engine = g === node ? 'node' : 'http1'
    for (const expect of refused) {
      const c = await WireConnection.open(port(g))
      try {
        const r = await c.send(req('GET /up/a HTTP/1.1', 'Host: a', ...expect, 'X-Request-Id: rid-417'))
        assert.deepEqual([r.status, r.interim], [417, []], `${engine} ${expect.join(' + ')}`)
        assert.equal(JSON.parse(r.text).error, 'expectation_failed', engine)
        assert.equal(r.header('connection'), 'close', engine)
        heads[i].push(maskHead(r.head, MASK))
        await Promise.race([c.closed, bound(2000)])
        assert.equal(c.isClosed, true, `${engine}: closed after the 417`)
      } finally { c.close() }
    }
    const c = await WireConnection.open(port(g))
    try {
      const ten = await c.send(req('GET /c HTTP/1.0', 'Host: a', 'Connection: keep-alive', 'Expect: something-else'))
      assert.deepEqual([ten.status, ten.text], [200, 'ok'], engine)
      const exact = await c.send(req('GET /d HTTP/1.1', 'Host: a', 'Expect: 100-CONTINUE'))
      assert.deepEqual([exact.status, exact.text], [200, 'ok'], `${engine}: 100-continue in any case is met`)
    } finally { c.close() }
  }
  assert.deepEqual(heads[1], heads[0], 'the same bytes from both engines')
  assert.equal(up.replicas[0].received.length, seen, 'no refused request reached the upstream')
})

test('a head not finished within headersTimeout gets 408, on a new connection and on a kept-alive one', async () => {
  const first = await after_(http1, 'GET / HTTP/1.1\r\nHost: a\r\n', 3000)
  assert.match(first.text, /^HTTP\/1\.1 408 Request Timeout\r\n/)
  assert.match(first.text, /"error":"request_timeout"/)
  assert.equal(first.closed, true)
  // the second head on a connection: its clock starts with its first byte, not at the end of the first response
  const c = await WireConnection.open(port(http1))
  try {
    const ok = await c.send(req('GET / HTTP/1.1', 'Host: a'))
    assert.equal(ok.status, 200)
    await sleep(200)
    const t0 = Date.now()
    await c.write('GET / HTTP/1.1\r\nHo')
    const r = await c.read({ timeoutMs: 3000 })
    assert.equal(r.status, 408)
    // well before the keep-alive timeout (1.5 s), and not before its own 400 ms
    const waited = Date.now() - t0
    assert.ok(waited >= 350 && waited < 1400, `408 after ${waited} ms`)
  } finally { c.close() }
})

test('a connection that never sends a byte gets 408 after headersTimeout, as with node:http', async () => {
  const a = await after_(node, '', 3000)
  const b = await after_(http1, '', 3000)
  assert.equal(b.closed, a.closed)
  assert.equal(maskHead(b.text.replace(/"request_id":"[^"]*"/, ''), MASK).split('\r\n')[0], maskHead(a.text.replace(/"request_id":"[^"]*"/, ''), MASK).split('\r\n')[0])
})

test('a body that stops arriving gets 408 after requestTimeout, Content-Length or chunked', async () => {
  for (const bytes of ['POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc', 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n']) {
    const c = await WireConnection.open(port(http1))
    try {
      const t0 = Date.now()
      await c.write(bytes)
      const r = await c.read({ timeoutMs: 4000 })
      const waited = Date.now() - t0
      assert.equal(r.status, 408, bytes)
      assert.match(r.text, /"error":"request_timeout"/)
      assert.ok(waited >= 800 && waited < 3500, `408 after ${waited} ms`)
      await Promise.race([c.closed, bound(1000)])
      assert.equal(c.isClosed, true)
    } finally { c.close() }
  }
})

test('an idle kept-alive connection is closed after keepAliveTimeout without a byte, and not before', async () => {
  const c = await WireConnection.open(port(http1))
  try {
    const r = await c.send(req('GET / HTTP/1.1', 'Host: a'))
    assert.equal(r.header('keep-alive'), 'timeout=1')
    const t0 = Date.now()
    await sleep(700)
    assert.equal(c.isClosed, false)
    await Promise.race([c.closed, bound(4000)])
    const waited = Date.now() - t0
    assert.equal(c.isClosed, true)
    assert.equal(c.unread().length, 0)
    assert.ok(waited >= 1400 && waited < 3900, `closed after ${waited} ms`)
  } finally { c.close() }
})

test('CONNECT is refused on the bare socket with 405 and the connection closed, as with node:http', async () => {
  const texts = []
  for (const g of [node, http1]) {
    const r = await after_(g, req('CONNECT a.test:443 HTTP/1.1', 'Host: a.test:443'), 1000)
    assert.equal(r.closed, true)
    texts.push(maskHead(r.text.replace(/"request_id":"[^"]*"/, ''), MASK))
  }
  assert.match(texts[1], /^HTTP\/1\.1 405 /)
  assert.equal(texts[1], texts[0])
})

test('an HTTP/2.0 or HTTP/0.9 request line gets 400 on both engines and is never forwarded (llhttp takes both; node:http used to proxy them)', async () => {
  const seen = up.replicas[0].received.length
  for (const g of [node, http1]) {
    const engine = g === node ? 'node' : 'http1'
    for (const line of ['GET /up/v HTTP/2.0\r\nHost: a\r\n\r\n', 'GET /up/v\r\n\r\n']) {
      const r = await after_(g, line, 3000)
      assert.match(r.text, /^HTTP\/1\.1 400 /, `${engine} ${JSON.stringify(line)}: ${JSON.stringify(r.text.slice(0, 80))}`)
      assert.match(r.text, /"error":"bad_request"/, engine)
    }
  }
  await sleep(50)
  assert.equal(up.replicas[0].received.length, seen, 'nothing reached the upstream')
})
