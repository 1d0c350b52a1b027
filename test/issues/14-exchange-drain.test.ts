// test/issues/14-exchange-drain.test.ts: an upstream that stops reading an upload and then answers early
// (413, keeping or closing its connection) leaves the client's request body paused by backpressure: the
// exchange's release() must then read and drop the rest (RequestBody.drain), or the client's upload stalls
// and the request it sends next on that connection is never answered. Neither engine dumps a body that is
// being consumed. On both engines, through real sockets (issue 14: exchange.ts release(), survivors of the
// upstream area).
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const ENGINES = ['http1', 'node'] as const
const SIZE = 16 << 20 // more than the loopback buffers between client, gateway and upstream hold
let upstream: Server
const gws = new Map<string, TestGateway>()

/** Reads the request head, then stops reading for 300 ms (backpressure reaches the client), then answers 413. */
function stallThenAnswer(s: Socket): void {
  let head = ''
  const onData = (d: Buffer): void => {
    head += d.toString('latin1')
    if (!head.includes('\r\n\r\n')) return
    s.off('data', onData)
    s.pause()
    const close = head.startsWith('POST /up/close ')
    setTimeout(() => {
      s.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-length: 5\r\n${close ? 'connection: close\r\n' : ''}\r\nearly`)
      if (close) s.end()
    }, 300)
  }
  s.on('data', onData)
  s.on('error', () => undefined)
}

before(async () => {
  upstream = createServer(stallThenAnswer).listen(0, '127.0.0.1')
  await new Promise(r => upstream.once('listening', r))
  const port = (upstream.address() as { port: number }).port
  const policy = `upstream u { replicas 127.0.0.1:${port}; pool connections 1 }
route up { match path prefix "/up"; timeout 5s; max_body 64MB; proxy u }
route own { match path prefix "/"; timeout 5s; respond 200 text "own" }`
  for (const engine of ENGINES) gws.set(engine, await startGateway(policy, { engine }))
})
after(async () => { for (const g of gws.values()) await g.close(); upstream.close() })

/** Uploads SIZE bytes as fast as the connection takes them (up to 8 s), then asks for /own on the same connection. */
async function uploadThenNext(port: number, path: string): Promise<{ sent: number; text: string }> {
  const sock = connect(port, '127.0.0.1')
  let text = ''
  sock.on('data', (d: Buffer) => { text += d.toString('latin1') })
  sock.on('error', () => undefined)
  try {
    await new Promise(r => sock.once('connect', r))
    sock.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${SIZE}\r\n\r\n`)
    const chunk = Buffer.alloc(256 << 10)
    const t0 = Date.now()
    let sent = 0
    while (sent < SIZE && !sock.destroyed && Date.now() - t0 < 8000) {
      const more = sock.write(chunk)
      sent += chunk.length
      if (!more) await new Promise(r => { sock.once('drain', r); setTimeout(r, 500).unref() })
    }
    sock.write('GET /own HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await new Promise(r => { sock.once('close', r); setTimeout(r, 3000).unref() })
    return { sent, text }
  } finally { sock.destroy() }
}

for (const engine of ENGINES) {
  for (const path of ['/up/keep', '/up/close']) {
    test(`${engine}: an upload the upstream stopped reading and answered early (${path}) is read to its end, and the next request is served`, async () => {
      const { text } = await uploadThenNext(gws.get(engine)!.running.address.port, path)
      const [first, second] = text.split(/(?=HTTP\/1\.1 )/)
      assert.match(first ?? '', /^HTTP\/1\.1 413 /)
      assert.doesNotMatch(first, /\r\nconnection: close\r\n/i, 'the early answer keeps the client connection')
      assert.match(second ?? '', /^HTTP\/1\.1 200 [^]*\r\n\r\nown$/, `the request after the upload: ${JSON.stringify(text.slice(0, 400))}`)
    })
  }
}
