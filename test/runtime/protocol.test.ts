// test/runtime/protocol.test.ts: HTTP/1.1 message semantics the proxy must get right: HEAD, 204 and 304 carry
// no body (and leave the connection usable), Expect: 100-continue, upgrades refused with 501, CONNECT
// refused, HTTP/1.0 clients.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { connect } from 'node:net'
import { rawRequest, replicaAddrs, startRig, type Echo, type Rig } from './fixtures.js'

let rig: Rig

before(async () => {
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
route all { match path prefix "/"; timeout 3s; proxy web }
route refuse { match host "refuse.test" path prefix "/"; timeout 1s; respond 403 json "{\\"error\\":\\"no\\"}" }
`)
})
after(async () => { await rig.close() })

/** Every HTTP response status line in a raw byte stream. */
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map(m => Number(m[1]))

test('HEAD gets the GET headers and no body, and the connection carries the next request', async () => {
  const r = await rawRequest(rig.port, 'HEAD /bytes/1000 HTTP/1.1\r\nHost: x\r\n\r\nGET /bytes/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
  assert.equal(r.status, 200)
  assert.equal(r.headers['content-length'], '1000')
  assert.deepEqual(statuses(r.text), [200, 200], 'the second response must follow the first head directly')
  const second = r.text.slice(r.text.indexOf('HTTP/1.1', 10))
  assert.match(second, /content-length: 10\r\n/i)
  assert.equal(second.slice(second.indexOf('\r\n\r\n') + 4).length, 10)
})

for (const code of [204, 304]) {
  test(`${code} has no body and the connection carries the next request`, async () => {
    const r = await rawRequest(rig.port, `GET /status/${code} HTTP/1.1\r\nHost: x\r\n\r\nGET /status/201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
    assert.deepEqual(statuses(r.text), [code, 201])
    const first = r.text.slice(0, r.text.indexOf('HTTP/1.1 201'))
    assert.ok(first.endsWith('\r\n\r\n'), `no body bytes after the ${code} head: ${JSON.stringify(first)}`)
    assert.doesNotMatch(first, /transfer-encoding/i)
  })
}

test('Expect: 100-continue gets 100 before the body is sent, and the upstream gets the body but not the Expect', async () => {
  const body = 'x'.repeat(5000)
  const sock = connect(rig.port, '127.0.0.1')
  let text = ''
  sock.on('data', d => { text += d.toString('latin1') })
  await new Promise(r => sock.once('connect', r))
  sock.write(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`)
  const t0 = Date.now()
  while (!text.includes('\r\n\r\n') && Date.now() - t0 < 3000) await new Promise(r => setTimeout(r, 10))
  assert.match(text, /^HTTP\/1\.1 100 Continue\r\n/, 'an interim 100 before any body byte was sent')
  sock.write(body)
  await new Promise(r => sock.once('close', r))
  const final = text.slice(text.indexOf('\r\n\r\n') + 4)
  assert.match(final, /^HTTP\/1\.1 200 /)
  const e = JSON.parse(final.slice(final.indexOf('\r\n\r\n') + 4)) as Echo
  assert.equal(e.bodyBytes, body.length)
  assert.ok(!e.rawHeaders.some(h => h.toLowerCase() === 'expect'), 'Expect is hop-by-hop here: the gateway answered it')
})

test('Expect: 100-continue on a request the gateway answers itself gets the final status at once, no 100', async () => {
  rig.stub.reset()
  const r = await rawRequest(rig.port, 'POST /x HTTP/1.1\r\nHost: refuse.test\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n', { waitMs: 3000 })
  assert.equal(r.status, 403, 'the final answer without waiting for the body')
  assert.doesNotMatch(r.text, /^HTTP\/1\.1 100/)
  // the unread body would otherwise be parsed as the next request
  assert.equal(r.headers.connection, 'close')
  assert.equal(rig.stub.stats().requests, 0)
})

test('a WebSocket upgrade is refused with 501 and never reaches the upstream', async () => {
  rig.stub.reset()
  const r = await rawRequest(rig.port, 'GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
  assert.equal(r.status, 501)
  assert.equal(JSON.parse(r.body).error, 'upgrade_not_supported')
  assert.equal(rig.stub.stats().requests, 0)
})

test('CONNECT is refused and never reaches the upstream', async () => {
  rig.stub.reset()
  const r = await rawRequest(rig.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')
  assert.equal(r.status, 405)
  assert.equal(rig.stub.stats().requests, 0)
})

test('an HTTP/1.0 request is proxied and answered in a form the client can read', async () => {
  const r = await rawRequest(rig.port, 'GET /echo HTTP/1.0\r\nHost: x\r\n\r\n')
  assert.equal(r.status, 200)
  assert.match(r.text, /^HTTP\/1\.[01] 200/)
  assert.doesNotMatch(r.text.slice(0, r.text.indexOf('\r\n\r\n')), /transfer-encoding: chunked/i, 'no chunked framing to an HTTP/1.0 client')
  assert.ok(r.closed || r.headers['content-length'] !== undefined)
})
