// test/issues/14-early-answer-timeout.test.ts: Node's request timeout firing while the gateway is already
// streaming an answer (the upstream answered before the client finished its slow upload) only closes the
// connection: no 408 status line is written into the middle of the response, and no refusal is counted
// (runtime/server.ts clientError; the mutation run, area edge, found it untested). Raw socket: the exact bytes.
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { WireConnection } from '../helpers/wire.js'

let upstream: Server
const open: ServerResponse[] = []
let gw: TestGateway
let port: number

before(async () => {
  // answers at once, before reading the body: the head and a first chunk, then the rest never comes
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('part-1')
    open.push(res)
  })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  gw = await startGateway(`
upstream up { replicas 127.0.0.1:${(upstream.address() as AddressInfo).port} }
route upload { match path "/upload"; timeout 10s; proxy up }
`, { requestTimeoutMs: 1000, drainTimeoutMs: 500 })
  port = gw.running.address.port
})
after(async () => {
  for (const r of open) r.destroy()
  await gw?.close()
  await new Promise(r => upstream?.close(r))
})

async function rejected(reason: string): Promise<number> {
  const a = new Agent() // closed after: no idle keep-alive connection holds the process
  try {
    const res = await request(`${gw.adminUrl}/metrics`, { dispatcher: a })
    return metric(await res.body.text(), 'gw_rejected_requests_total', { reason }) ?? 0
  } finally { await a.close() }
}

test('a request timeout while an early answer streams closes the connection without writing a 408 into it', async () => {
  const before = await rejected('request_timeout')
  const c = await WireConnection.open(port)
  try {
    // 10 of 100 promised body bytes, then the client stalls past the 1 s request timeout
    await c.write('POST /upload HTTP/1.1\r\nHost: a.test\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(10))
    const t0 = Date.now()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([c.closed, new Promise(r => { timer = setTimeout(r, 6000) })])
    clearTimeout(timer)
    assert.ok(c.isClosed, 'the gateway closes the connection once the request timeout fires')
    assert.ok(Date.now() - t0 >= 900, 'not before the request timeout')
    const got = c.unread().toString('latin1')
    assert.match(got, /^HTTP\/1\.1 200 OK\r\n/, got)
    assert.match(got, /\r\n\r\n6\r\npart-1\r\n$/, `the streamed answer, cut after its first chunk: ${JSON.stringify(got)}`)
    assert.equal(got.match(/HTTP\/1\.1 /g)?.length, 1, `one status line only: ${JSON.stringify(got)}`)
  } finally { c.close() }
  assert.equal(await rejected('request_timeout'), before, 'not counted as a request timeout refusal')
})
