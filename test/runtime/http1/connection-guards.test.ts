// test/runtime/http1/connection-guards.test.ts: the http1 edge connection's (runtime/http1/connection.ts) pause
// bits and its bodyDone guard, seen from the client. A body that arrived whole but was never read (its request
// answered while waiting for an upstream connection) does not keep the socket paused for the next request; a
// pipeline held back behind a request still being served stays held back when the request's body is read (the
// body's pause bit is released, the read-ahead one is not), so a FIN behind it is not seen before the answer;
// and a request answered with Connection: close while its last body bytes were delivered ends the connection:
// nothing pipelined behind it is served.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { loadSettings } from '../../../config/settings.js'
import type { Gateway } from '../../../runtime/gateway.js'
import { HIGH_WATER } from '../../../runtime/http1/edge-request.js'
import { Http1Server } from '../../../runtime/http1/server.js'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { sleep } from '../../helpers/wire.js'

let upstream: Server
let gw: TestGateway
/** Answers the held GET /hold (one at a time). */
let releaseHold: (() => void) | null = null
/** URLs the upstream received, in order. */
const seen: string[] = []

before(async () => {
  upstream = createServer((req, res) => {
    seen.push(req.url!)
    if (req.url === '/hold') { releaseHold = () => res.end('held'); return }
    let n = 0
    req.on('data', (c: Buffer) => { n += c.length })
    // the answer waits a little after the body, so a connection the gateway closes early has closed by then
    req.on('end', () => setTimeout(() => res.end(`ok ${req.url} ${n}`), req.url === '/slow' ? 300 : 0))
  })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as AddressInfo).port
  // One pool connection: while /hold has it, a request waits in the pool and its body is not read.
  gw = await startGateway(`
upstream u { replicas 127.0.0.1:${port}; pool connections 1 }
route hold { match path "/hold"; timeout 20s; proxy u }
route quick { match path "/quick"; timeout 300ms; proxy u }
route all { match path prefix "/"; timeout 20s; proxy u }
`, { engine: 'http1' })
})
after(async () => { releaseHold?.(); await gw.close(); upstream.closeAllConnections(); upstream.close() })

const open = (port: number): Promise<Socket> => new Promise((resolve, reject) => {
  const s = connect(port, '127.0.0.1', () => resolve(s))
  s.once('error', reject)
})

/** Everything a socket receives, as latin1; `closed` once it closed. */
function collect(s: Socket): { text: () => string; closed: Promise<void> } {
  let text = ''
  s.on('data', (c: Buffer) => { text += c.toString('latin1') })
  s.on('error', () => undefined)
  return { text: () => text, closed: new Promise(r => s.once('close', () => r())) }
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

/** Takes the pool's one connection with a held GET /hold; resolves once the upstream has it. */
async function holdThePool(): Promise<Socket> {
  const a = await open(gw.running.address.port)
  collect(a)
  const before = seen.length
  a.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n')
  await until(() => seen.length > before && seen.at(-1) === '/hold', 5000, 'the upstream to get /hold')
  return a
}

test('a body read whole but never consumed (answered 503 while waiting for a pool connection) does not stall the connection: the next request on it is answered', { timeout: 15_000 }, async () => {
  const a = await holdThePool()
  const b = await open(gw.running.address.port)
  const got = collect(b)
  // exactly HIGH_WATER bytes: the request's queue is full (the socket paused for it) when its last byte arrives
  b.write(`POST /quick HTTP/1.1\r\nHost: a\r\nContent-Length: ${HIGH_WATER}\r\n\r\n` + 'x'.repeat(HIGH_WATER))
  await until(() => /\r\n\r\n\{.*\}$/.test(got.text()), 5000, 'the 503')
  assert.match(got.text(), /^HTTP\/1\.1 503 Service Unavailable\r\n/)
  assert.match(got.text(), /\r\nConnection: keep-alive\r\n/, 'a body read whole does not close the connection')
  releaseHold!()
  const first = got.text().length
  b.write('GET /next HTTP/1.1\r\nHost: a\r\n\r\n')
  await until(() => got.text().endsWith('ok /next 0'), 5000, `the answer to the next request (got ${JSON.stringify(got.text().slice(first))})`)
  b.destroy()
  a.destroy()
})

test('a pipeline held behind a request stays held when its body is read: a FIN behind it does not cut the answer', { timeout: 15_000 }, async () => {
  const a = await holdThePool()
  const b = await open(gw.running.address.port)
  const got = collect(b)
  // The body's last bytes and more than a head's worth of pipeline arrive in one read: the socket is paused
  // for the full queue (the consumer waits for the pool) and for the read-ahead at once.
  b.write(`POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: ${HIGH_WATER}\r\n\r\n` + 'x'.repeat(HIGH_WATER - 100))
  await sleep(100)
  b.write('x'.repeat(100) + 'y'.repeat(40 * 1024))
  await sleep(100)
  // More pipeline, then the client's FIN: neither is read while the answer is pending.
  b.end('z'.repeat(1024 * 1024))
  await sleep(100)
  // The pool connection frees: the body is read (its pause bit released), the answer comes 300 ms later.
  releaseHold!()
  await got.closed
  assert.match(got.text(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok \/slow 65536/, JSON.stringify(got.text().slice(0, 300)))
  a.destroy()
})

test('answered with Connection: close inside the last body bytes\' delivery: the request pipelined behind it is not served', { timeout: 15_000 }, async () => {
  const urls: string[] = []
  // A handler that answers from its 'data' listener (node:http allows it; the connection must cope).
  const handler = {
    handle(req: { url: string; on(e: 'data', f: (c: Buffer) => void): void }, res: { writeHead(s: number, h: string[]): void; end(b: string): void; finished: boolean }) {
      urls.push(req.url)
      req.on('data', () => { if (!res.finished) { res.writeHead(200, ['content-length', '2']); res.end('ok') } })
      if (req.url !== '/first') { res.writeHead(200, ['content-length', '2']); res.end('ok') }
    },
    handleUpgrade() { throw new Error('no upgrades here') },
  }
  const server = new Http1Server(handler as unknown as Gateway, loadSettings(undefined, { engine: 'http1' }))
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  try {
    const s = await open((server.address() as AddressInfo).port)
    const got = collect(s)
    s.write('POST /first HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello' + 'GET /second HTTP/1.1\r\nHost: h\r\n\r\n')
    await got.closed
    assert.deepEqual(urls, ['/first'])
    assert.match(got.text(), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/)
  } finally {
    await new Promise<void>(r => server.close(() => r()))
  }
})
