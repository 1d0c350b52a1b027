// test/issues/14-mutation-edge.test.ts: edge behaviour the mutation run (lab/mutation, area edge) found
// untested: the 408 for a client that stalls in its request head, and which timeout bounds that wait; the
// header-count limit at exactly MAX_HEADERS fields; which client headers feed X-Forwarded-Host and Via.
// Raw sockets: no well-behaved client sends these.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, test } from 'node:test'
import { MAX_HEADERS } from '../../runtime/request-head.js'
import { metric } from '../helpers/gateway.js'
import { echoed, metricsText, rawRequest, replicaAddrs, startRig, type Echo, type Rig } from '../runtime/fixtures.js'

const rigs: Rig[] = []
after(async () => { await Promise.all(rigs.map(r => r.close())) })

async function rig(settings: Record<string, unknown> = {}): Promise<Rig> {
  const r = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
route all { match path prefix "/"; timeout 3s; proxy web }
`, { drainTimeoutMs: 500, ...settings })
  rigs.push(r)
  return r
}

/** Opens a connection, sends half a request head and reports what the gateway answers and when. */
async function stallInHead(port: number, waitMs: number) {
  const t0 = Date.now()
  const r = await rawRequest(port, 'GET /echo HTTP/1.1\r\nHost: shop.test\r\nX-Half', { waitMs, untilClose: true })
  return { ...r, ms: Date.now() - t0 }
}

test('a client that stalls in its request head gets 408 {"error":"request_timeout"} and the connection closed', async () => {
  const r = await rig({ headersTimeoutMs: 1000 })
  const a = await stallInHead(r.port, 6000)
  assert.equal(a.status, 408, a.text)
  assert.equal(JSON.parse(a.body).error, 'request_timeout')
  assert.equal(a.headers['content-type'], 'application/json')
  assert.equal(a.headers.connection, 'close')
  assert.ok(a.closed, 'the gateway closes the connection')
  assert.equal(r.stub.stats().requests, 0)
})

test('the head wait is bounded by the shorter of the headers and request timeouts; a request timeout of 0 leaves the headers timeout', async () => {
  // requestTimeoutMs shorter than headersTimeoutMs: the head may not take longer than the whole request may
  const short = await rig({ headersTimeoutMs: 20_000, requestTimeoutMs: 1000 })
  const a = await stallInHead(short.port, 6000)
  assert.equal(a.status, 408, `answered after ${a.ms} ms: ${a.text}`)
  // 0 disables Node's request timeout; the headers timeout must still apply (not become 0 = none)
  const off = await rig({ headersTimeoutMs: 1000, requestTimeoutMs: 0 })
  const b = await stallInHead(off.port, 6000)
  assert.equal(b.status, 408, `answered after ${b.ms} ms: ${b.text}`)
})

/** A request with exactly `fields` header fields (Host included). */
const withFields = (fields: number) =>
  `GET /echo HTTP/1.1\r\nHost: shop.test\r\n${Array.from({ length: fields - 2 }, (_, i) => `x-f${i}: v\r\n`).join('')}Connection: close\r\n\r\n`

test(`exactly ${MAX_HEADERS} header fields are forwarded whole; one more is refused with 431 too_many_headers`, async () => {
  const r = await rig({ maxHeaderBytes: 64 * 1024 })
  const ok = await rawRequest(r.port, withFields(MAX_HEADERS), { untilClose: true })
  assert.equal(ok.status, 200, ok.text.slice(0, 200))
  const e = JSON.parse(ok.body) as Echo
  assert.equal(e.rawHeaders.filter((_, i) => i % 2 === 0 && /^x-f\d+$/.test(e.rawHeaders[i])).length, MAX_HEADERS - 2)
  r.stub.reset()
  const over = await rawRequest(r.port, withFields(MAX_HEADERS + 1), { untilClose: true })
  assert.equal(over.status, 431, over.text.slice(0, 200))
  assert.equal(JSON.parse(over.body).error, 'too_many_headers')
  assert.equal(over.headers.connection, 'close')
  assert.equal(r.stub.stats().requests, 0, 'never forwarded')
})

/** A raw request with the given header lines to `port`; returns what the upstream received. */
async function echoOf(port: number, lines: string[], head = 'GET /echo HTTP/1.1\r\nHost: shop.test'): Promise<Echo> {
  const r = await rawRequest(port, `${head}\r\n${lines.map(l => l + '\r\n').join('')}Connection: close\r\n\r\n`, { untilClose: true })
  assert.equal(r.status, 200, r.text.slice(0, 300))
  return JSON.parse(r.body) as Echo
}

test('from a trusted proxy, only X-Forwarded-Host sets X-Forwarded-Host; Forwarded passes through; other gateway-set headers feed neither', async () => {
  const r = await rig({ trustedProxies: ['127.0.0.0/8'] })
  const e = await echoOf(r.port, ['X-Request-Id: rid-1', 'Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'Forwarded: for=10.0.0.9;proto=https'])
  assert.deepEqual(echoed(e, 'x-forwarded-host'), ['shop.test'])
  assert.deepEqual(echoed(e, 'forwarded'), ['for=10.0.0.9;proto=https'])
  assert.deepEqual(echoed(e, 'via'), ['1.1 gwp'], 'no client header but Via joins the Via chain')
})

test('Via lines a client sent are joined in order before the gateway\'s own; other headers never join the chain', async () => {
  const r = await rig()
  const e = await echoOf(r.port, ['Via: 1.0 a', 'X-Request-Id: rid-2', 'Via: 1.1 b'])
  assert.deepEqual(echoed(e, 'via'), ['1.0 a, 1.1 b, 1.1 gwp'])
  const plain = await echoOf(r.port, ['X-Request-Id: rid-3'])
  assert.deepEqual(echoed(plain, 'via'), ['1.1 gwp'])
})

test('an HTTP/1.0 request without Host is forwarded with an empty X-Forwarded-Host', async () => {
  const r = await rig()
  const e = await echoOf(r.port, [], 'GET /echo HTTP/1.0')
  assert.deepEqual(echoed(e, 'x-forwarded-host'), [''])
})

test('a head that arrives in parts within the headers timeout is served', async () => {
  const r = await rig({ headersTimeoutMs: 5000, requestTimeoutMs: 0 })
  const res = await rawRequest(r.port, ['GET /echo HTTP/1.1\r\nHost: shop.test\r\n', 'Connection: close\r\n\r\n'], { gapMs: 1500, waitMs: 8000 })
  assert.equal(res.status, 200, res.text.slice(0, 200))
})

test('an upgrade gets "501 Not Implemented" and CONNECT "405 Method Not Allowed" {"error":"method_not_allowed"}, each counted by reason', async () => {
  const r = await rig()
  const up = await rawRequest(r.port, 'GET /echo HTTP/1.1\r\nHost: shop.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', { untilClose: true })
  assert.match(up.text, /^HTTP\/1\.1 501 Not Implemented\r\n/)
  const con = await rawRequest(r.port, 'CONNECT shop.test:443 HTTP/1.1\r\nHost: shop.test:443\r\n\r\n', { untilClose: true })
  assert.match(con.text, /^HTTP\/1\.1 405 Method Not Allowed\r\n/)
  assert.equal(JSON.parse(con.body).error, 'method_not_allowed')
  const m = await metricsText(r.gw)
  assert.equal(metric(m, 'gw_rejected_requests_total', { reason: 'upgrade' }), 1)
  assert.equal(metric(m, 'gw_rejected_requests_total', { reason: 'connect' }), 1)
})

test('a client that resets its connection mid-head is not counted as malformed', async () => {
  const r = await rig()
  const before = metric(await metricsText(r.gw), 'gw_rejected_requests_total', { reason: 'malformed' }) ?? 0
  for (let i = 0; i < 3; i++) {
    const sock = connect(r.port, '127.0.0.1')
    await new Promise<void>(res => sock.once('connect', () => res()))
    sock.write('GET /echo HTTP/1.1\r\nHost: shop.test\r\nX-Half')
    await new Promise(res => setTimeout(res, 100))
    sock.resetAndDestroy()
  }
  await new Promise(res => setTimeout(res, 300))
  assert.equal(metric(await metricsText(r.gw), 'gw_rejected_requests_total', { reason: 'malformed' }) ?? 0, before)
})
