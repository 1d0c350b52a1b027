// test/issues/14-mutation-headers.test.ts: runtime/headers.ts behaviour the mutation run (lab/mutation, area
// edge) found unpinned: an upstream's response header whose name is only as long as a hop-by-hop one reaches
// the client; a trusted proxy's copies of the headers the gateway sets itself are never passed on beside the
// gateway's own; Server-Timing's durations are milliseconds of this request (bounded by what the client
// measured around it). On the wire: exact bytes both ways.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { HOP_BY_HOP } from '../../config/http.js'
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
`, { trustedProxies: ['127.0.0.0/8'] })
  port = gw.running.address.port
})
after(async () => { await gw?.close(); await up?.close() })

test('upstream → client: a header whose name is as long as a hop-by-hop one (Expires, Set-Cookie, …) is passed on', async () => {
  // one name of every length a hop-by-hop name has (2, 7, 10, 16, 17, 18, 19), none of them hop-by-hop
  const lengths = [...new Set([...HOP_BY_HOP].map(h => h.length))].sort((a, b) => a - b)
  const named: [string, string][] = lengths.map(n => [n === 7 ? 'Expires' : n === 10 ? 'Set-Cookie' : 'X' + 'y'.repeat(n - 1), `v${n}`])
  assert.deepEqual(named.map(([n]) => n.length), lengths)
  up.replicas[0].behave({ kind: 'answer', body: 'ok', headers: [...named, ['Trailer', 'X-T'], ['Content-Type', 'text/plain']] })
  try {
    const r = await wireExchange(port, req('GET /h HTTP/1.1', 'Host: shop.test', 'X-Request-Id: mh-1'))
    assert.equal(r.status, 200, r.head)
    assert.equal(maskHead(r.head, ['date', 'server-timing']), [
      'HTTP/1.1 200 OK',
      ...named.map(([n, v]) => `${n}: ${v}`),
      'Content-Type: text/plain',
      'content-length: 2',
      'x-request-id: mh-1',
      'server-timing: *',
      'via: 1.1 gwp',
      'Date: *',
      'Connection: keep-alive',
      'Keep-Alive: timeout=30',
    ].join('\r\n'), 'every non-hop-by-hop header once, Trailer (hop-by-hop) dropped')
  } finally { up.replicas[0].behave({ kind: 'answer' }) }
})

test('client → upstream: from a trusted proxy, its X-Request-Id, traceparent and Via are not forwarded beside the gateway\'s own', async () => {
  up.reset()
  const r = await wireExchange(port, req('GET /t HTTP/1.1', 'Host: shop.test', 'X-Request-Id: mh-2',
    'Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'Via: 1.0 edge', 'X-Forwarded-For: 10.0.0.9',
    'Forwarded: for=10.0.0.9', 'X-Kept: 1'))
  assert.equal(r.status, 200, r.head)
  assert.equal(up.received.length, 1)
  const got = up.received[0]
  assert.equal(maskHead(got.rawHead, ['traceparent']), [
    'GET /t HTTP/1.1',
    'host: shop.test',
    'connection: keep-alive',
    'Forwarded: for=10.0.0.9',
    'X-Kept: 1',
    'x-forwarded-for: 10.0.0.9, 127.0.0.1',
    'x-forwarded-proto: http',
    'x-forwarded-host: shop.test',
    'x-request-id: mh-2',
    'traceparent: *',
    'via: 1.0 edge, 1.1 gwp',
  ].join('\r\n'))
  // the gateway's traceparent continues the client's trace with a span of its own
  assert.match(got.header('traceparent') ?? '', /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-01$/)
})

test('Server-Timing: gw and upstream durations are this request\'s, in ms, within what the client measured around it', async () => {
  up.replicas[0].behave({ kind: 'answer', body: 'slow', delayMs: 40 })
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now()
      const r = await wireExchange(port, req('GET /s HTTP/1.1', 'Host: shop.test'))
      const elapsed = performance.now() - t0
      assert.equal(r.status, 200, r.head)
      const m = /^gw;dur=(\d+(?:\.\d{1,3})?), upstream;dur=(\d+(?:\.\d{1,3})?)$/.exec(r.header('server-timing') ?? '')
      assert.ok(m !== null, `server-timing: ${r.header('server-timing')}`)
      const gwMs = Number(m[1]), upMs = Number(m[2])
      // the gateway is in this process: its clock is ours, and its part lies within the client's measure
      assert.ok(upMs >= 35 && upMs <= gwMs, `upstream ${upMs} ms within gw ${gwMs} ms (the upstream waits 40 ms)`)
      assert.ok(gwMs <= elapsed + 0.001, `gw ${gwMs} ms within the ${elapsed.toFixed(3)} ms the client measured`)
    }
  } finally { up.replicas[0].behave({ kind: 'answer' }) }
})
