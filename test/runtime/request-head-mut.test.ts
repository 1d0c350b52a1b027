// test/runtime/request-head-mut.test.ts: readHead's body and Expect decisions as a client sees them, on both
// engines: an upgrade request without a body (no Content-Length, or Content-Length: 0) is tunnelled and one with
// a body refused; Expect: 100-continue is answered with 100 Continue from HTTP/1.1 only (both engines sent it to
// HTTP/1.0 clients too: fixed in readHead), and any other HTTP/1.1 Expect with 417; an HTTP version other than 1.x is refused; and cachedVerdicts of a list never consulted. Found by mutating
// runtime/request-head.ts (lab/mutation, area edge): the hasBody and expectContinue conditions, cachedVerdicts' `?.`.
import assert from 'node:assert/strict'
import { BlockList, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { cachedVerdicts } from '../../runtime/request-head.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { metricOf } from '../policies/fixtures.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { noTunnels, rawExchange, rawHeadServer } from '../helpers/tunnel.js'
import { wireExchange } from '../helpers/wire.js'

const ENGINES = ['http1', 'node'] as const
let up: RecordingUpstream
let raw: { server: import('node:net').Server; port: number; sockets: Socket[] }
const gws = new Map<string, TestGateway>()

before(async () => {
  up = await startRecordingUpstream(1)
  // switches to rawtcp and closes: the tunnel opens and ends by itself
  raw = await rawHeadServer(s => { s.end('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n') })
  const policy = `
upstream raw { replicas 127.0.0.1:${raw.port} }
upstream svc { replicas ${up.addrs} }
route ws { match path prefix "/ws" method GET; timeout 2s; upgrade rawtcp; proxy raw }
route api { match path prefix "/api"; timeout 2s; proxy svc }
`
  for (const engine of ENGINES) gws.set(engine, await startGateway(policy, { engine }))
})
after(async () => { for (const gw of gws.values()) await gw.close(); raw.server.close(); await up.close() })

const port = (engine: string): number => gws.get(engine)!.running.address.port
const rejected = (engine: string, reason: string): Promise<number> => metricOf(gws.get(engine)!, 'gw_rejected_requests_total', { reason })
const upgrade = (extra: string): string => `GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n${extra}\r\n`

for (const engine of ENGINES) {
  test(`${engine}: an upgrade without a body is tunnelled, with or without Content-Length: 0; one with a body gets 400`, async () => {
    for (const extra of ['', 'Content-Length: 0\r\n']) {
      const text = await rawExchange(port(engine), upgrade(extra))
      assert.match(text, /^HTTP\/1\.1 101 /, `${JSON.stringify(extra)}: ${text}`)
    }
    const refused = await rawExchange(port(engine), upgrade('Content-Length: 2\r\n') + 'hi')
    assert.match(refused, /^HTTP\/1\.1 400 /, refused)
    await noTunnels(gws.get(engine)!)
  })

  test(`${engine}: Expect: 100-continue gets a 100 Continue from HTTP/1.1, none from HTTP/1.0 (RFC 9110 §10.1.1)`, async () => {
    for (const [version, interim] of [['1.1', ['HTTP/1.1 100 Continue']], ['1.0', []]] as const) {
      const before = up.received.length
      const r = await wireExchange(port(engine), `POST /api/e HTTP/${version}\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi`, { timeoutMs: 3000 })
      assert.equal(r.status, 200, r.head)
      assert.deepEqual(r.interim, interim, `HTTP/${version}`)
      assert.equal(up.received.length, before + 1)
    }
  })

  test(`${engine}: an HTTP/1.1 Expect that is not exactly 100-continue gets 417 expectation_failed, no 100, and is not forwarded`, async () => {
    // node:http takes the first two for 100-continue (checkContinue), the third it hands to checkExpectation
    for (const expect of ['100-continue, foo', '100-continue;x=1', 'something-else']) {
      const before = up.received.length
      const r = await wireExchange(port(engine), `POST /api/e HTTP/1.1\r\nHost: t\r\nExpect: ${expect}\r\nContent-Length: 2\r\n\r\nhi`, { timeoutMs: 3000 })
      assert.deepEqual([r.status, r.interim, JSON.parse(r.text).error], [417, [], 'expectation_failed'], expect)
      assert.equal(up.received.length, before)
    }
  })
}

test('node: an HTTP/2.0 or HTTP/0.9 request line (llhttp takes both) gets 400 from readHead, counted as bad_version, and is not forwarded', async () => {
  const counted = await rejected('node', 'bad_version')
  for (const line of ['GET /api/v HTTP/2.0\r\nHost: t\r\n\r\n', 'GET /api/v\r\n\r\n']) {
    const before = up.received.length
    const r = await wireExchange(port('node'), line, { timeoutMs: 3000 })
    assert.deepEqual([r.status, JSON.parse(r.text).error], [400, 'bad_request'], JSON.stringify(line))
    assert.equal(up.received.length, before)
  }
  assert.equal(await rejected('node', 'bad_version'), counted + 2)
})

test('node: Transfer-Encoding in an HTTP/1.0 request (llhttp takes it) gets 400 http10_transfer_encoding from readHead, not forwarded', async () => {
  const counted = await rejected('node', 'http10_transfer_encoding')
  const before = up.received.length
  const r = await wireExchange(port('node'), 'POST /api/t HTTP/1.0\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', { timeoutMs: 3000 })
  assert.equal(r.status, 400)
  assert.equal(up.received.length, before)
  assert.equal(await rejected('node', 'http10_transfer_encoding'), counted + 1)
})

test('cachedVerdicts of a trusted-proxy list never consulted is 0', () => {
  assert.equal(cachedVerdicts(new BlockList()), 0)
})
