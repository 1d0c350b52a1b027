// Issue 14 (mutation target, upstream area), exchange.ts lines 366-446 (Attempt: onHeaders, onData, onComplete,
// flushHeld): when the gateway holds an upstream's 5xx back and when it streams it, on both engines (the node
// engine's undici pool reads a handler's false from onHeaders/onData as "pause"; the http1 pool pauses on onData's).
// - A route WITHOUT retry streams a 503 like any answer: the client has its head and first bytes while the
//   upstream is still sending the body.
// - A route with retry holds a 503 until its body ends (a retry may follow), and with no replica left to retry
//   on passes it on unchanged: status, the upstream's headers, the whole body, also when that body comes in
//   several pieces (the held answer never pauses the upstream: nothing would resume it).
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { req, sleep, WireConnection } from '../helpers/wire.js'

const ENGINES = ['node', 'http1'] as const

/** Opens the upstream's pending /gate answers (each waits for one call before sending the rest of its body). */
const gates: (() => void)[] = []
let upstream: Server
const gws = new Map<string, TestGateway>()

before(async () => {
  // /…/gate: a 503 head and 'first', then '-last' once the test opens the gate.
  // /…/split: a 503 head and 'first', then '-last' 50 ms later (the body reaches the gateway in two pieces).
  upstream = createServer((rq, rs) => {
    rq.resume()
    rs.writeHead(503, { 'content-type': 'text/plain', 'x-up': 'held', 'content-length': '10' })
    rs.write('first')
    if (rq.url!.endsWith('/gate')) gates.push(() => rs.end('-last'))
    else setTimeout(() => rs.end('-last'), 50)
  })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as AddressInfo).port
  for (const engine of ENGINES) {
    gws.set(engine, await startGateway(`
upstream u { replicas 127.0.0.1:${port}; health passive eject_after 1000 }
route held  { match path prefix "/held"; timeout 5s; retry 1 no_budget; proxy u }
route plain { match path prefix "/plain"; timeout 5s; proxy u }
`, { engine }))
  }
})
after(async () => {
  while (gates.length > 0) gates.shift()!()
  await Promise.all([...gws.values()].map(g => g.close()))
  upstream.closeAllConnections()
  await new Promise(r => upstream.close(r))
})

/** Sends GET `path`; returns the connection and what it had received when the upstream was let finish. */
async function throughGate(engine: string, path: string, waitMs: number): Promise<{ c: WireConnection; before: string }> {
  const c = await WireConnection.open(gws.get(engine)!.running.address.port)
  const n = gates.length
  await c.write(req(`GET ${path} HTTP/1.1`, 'Host: shop.test'))
  for (let i = 0; gates.length === n; i++) {
    if (i > 400) assert.fail(`${engine}: the request never reached the upstream`)
    await sleep(5)
  }
  // Until the client has the first bytes, or waitMs.
  const seen = Date.now() + waitMs
  while (!c.unread().includes('first') && Date.now() < seen) await sleep(5)
  const before_ = c.unread().toString('latin1')
  gates.shift()!()
  return { c, before: before_ }
}

test('a route without retry streams a 503: head and first bytes reach the client before the upstream ends the body (both engines)', async () => {
  for (const engine of ENGINES) {
    const { c, before } = await throughGate(engine, '/plain/gate', 2000)
    try {
      assert.match(before, /^HTTP\/1\.1 503 /, `${engine}: the head was not streamed before the body ended: ${JSON.stringify(before)}`)
      assert.ok(before.includes('first'), `${engine}: the first bytes were not streamed: ${JSON.stringify(before)}`)
      const r = await c.read({ timeoutMs: 3000 })
      assert.equal(r.status, 503)
      assert.equal(r.text, 'first-last')
      assert.equal(r.header('x-up'), 'held')
    } finally { c.close() }
  }
})

test('a route with retry holds a 503 until its body ends, then passes it on unchanged when no replica is left (both engines)', async () => {
  for (const engine of ENGINES) {
    const { c, before } = await throughGate(engine, '/held/gate', 200)
    try {
      assert.equal(before, '', `${engine}: the held 503 reached the client before its body ended`)
      const r = await c.read({ timeoutMs: 3000 })
      assert.equal(r.status, 503, `${engine}: ${r.head}`)
      assert.equal(r.text, 'first-last')
      assert.equal(r.header('x-up'), 'held')
      assert.equal(r.header('content-type'), 'text/plain')
    } finally { c.close() }
  }
})

test('a held 503 whose body comes in two pieces is read to its end and passed on whole (both engines)', async () => {
  for (const engine of ENGINES) {
    const c = await WireConnection.open(gws.get(engine)!.running.address.port)
    try {
      const r = await c.send(req('GET /held/split HTTP/1.1', 'Host: shop.test'), { timeoutMs: 3000 })
      assert.equal(r.status, 503, `${engine}: ${r.head}`)
      assert.equal(r.text, 'first-last', engine)
      assert.equal(r.header('x-up'), 'held')
      // the connection is still usable: the exchange ended cleanly
      const again = await c.send(req('GET /held/split HTTP/1.1', 'Host: shop.test'), { timeoutMs: 3000 })
      assert.equal(again.text, 'first-last', engine)
    } finally { c.close() }
  }
})
