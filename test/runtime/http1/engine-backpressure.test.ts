// test/runtime/http1/engine-backpressure.test.ts: the http1 engine holds a bounded amount of a body in either
// direction when one side does not keep up. A client that does not read a large response stops the upstream
// (gw writes only what the client's socket takes); an upstream that does not read a large upload stops the
// client (gw stops reading the client's socket once the request's queue is full). Then everything flows and
// arrives whole. A client pipelining behind a request still being served cannot make gw buffer its pipeline.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'

const MiB = 1024 * 1024
const TOTAL = 64 * MiB
/** Kernel socket buffers on loopback hold several MiB per hop (measured: 8-10 MiB in all with backpressure, 34 MiB and growing without). */
const BOUND = 20 * MiB

let upstream: Server
let gw: TestGateway
/** Bytes of the download the upstream handed to its socket. */
let downWritten = 0
/** Set while the upload handler must not read. */
let holdUpload: Promise<void> = Promise.resolve()
let uploadReceived = 0
/** When the answer to /hold may go. */
let holdAnswer: Promise<void> = Promise.resolve()

function download(res: ServerResponse): void {
  const chunk = Buffer.alloc(MiB, 'd')
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) })
  const pump = (): void => {
    while (downWritten < TOTAL) {
      downWritten += chunk.length
      const ok = res.write(chunk)
      if (downWritten >= TOTAL) { res.end(); return }
      if (!ok) { res.once('drain', pump); return }
    }
  }
  pump()
}

async function upload(req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.pause()
  await holdUpload
  req.on('data', (c: Buffer) => { uploadReceived += c.length })
  req.on('end', () => { const text = String(uploadReceived); res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(text.length) }); res.end(text) })
  req.resume()
}

before(async () => {
  upstream = createServer((req, res) => {
    if (req.url === '/down') download(res)
    else if (req.url === '/hold') void holdAnswer.then(() => res.end('held'))
    else void upload(req, res)
  })
  await new Promise<void>(r => upstream.listen(0, '127.0.0.1', r))
  const port = (upstream.address() as AddressInfo).port
  gw = await startGateway(`
upstream u { replicas 127.0.0.1:${port} }
route all { match path prefix "/"; timeout 30s; max_body 100MiB; proxy u }
`, { engine: 'http1' })
})
after(async () => { await gw.close(); upstream.closeAllConnections(); upstream.close() })

const open = (port: number): Promise<Socket> => new Promise((resolve, reject) => {
  const s = connect(port, '127.0.0.1', () => resolve(s))
  s.once('error', reject)
})
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

test('a client that does not read a large response holds back the upstream; reading it later gets every byte', async () => {
  const s = await open(gw.running.address.port)
  s.pause()
  s.write('GET /down HTTP/1.1\r\nHost: a\r\n\r\n')
  await sleep(1500)
  const stalled = downWritten
  assert.ok(stalled < BOUND, `upstream wrote ${stalled} bytes to a client that reads nothing`)
  let got = 0
  const headEnd = { seen: false, buf: Buffer.alloc(0) }
  await new Promise<void>((resolve, reject) => {
    s.on('data', (c: Buffer) => {
      if (!headEnd.seen) {
        headEnd.buf = Buffer.concat([headEnd.buf, c])
        const i = headEnd.buf.indexOf('\r\n\r\n')
        if (i < 0) return
        headEnd.seen = true
        got = headEnd.buf.length - i - 4
      } else got += c.length
      if (got >= TOTAL) resolve()
    })
    s.once('error', reject)
    s.once('close', () => got >= TOTAL ? resolve() : reject(new Error(`closed after ${got} bytes`)))
    s.resume()
  })
  assert.equal(got, TOTAL)
  s.destroy()
})

test('an upstream that does not read a large upload holds back the client; the body then arrives whole', async () => {
  let release!: () => void
  holdUpload = new Promise(r => { release = r })
  uploadReceived = 0
  const s = await open(gw.running.address.port)
  let answer = ''
  s.on('data', (c: Buffer) => { answer += c.toString('latin1') })
  s.write(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${TOTAL}\r\n\r\n`)
  const chunk = Buffer.alloc(MiB, 'u')
  let sent = 0
  let stop = false
  const writer = (async () => {
    while (sent < TOTAL && !stop) {
      sent += chunk.length
      if (!s.write(chunk)) await new Promise(r => s.once('drain', r))
    }
  })()
  await sleep(1500)
  const accepted = sent
  assert.ok(accepted < BOUND, `the client could send ${accepted} bytes to an upstream that reads nothing`)
  release()
  await writer
  stop = true
  for (let i = 0; i < 200 && !answer.includes('\r\n\r\n' + TOTAL); i++) await sleep(50)
  assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/)
  assert.ok(answer.endsWith('\r\n\r\n' + TOTAL), answer.slice(-200))
  s.destroy()
})

test('a pipeline behind a request still being served is read no further than one head past it', async () => {
  let release!: () => void
  holdAnswer = new Promise(r => { release = r })
  const s = await open(gw.running.address.port)
  s.on('data', () => {})
  s.write('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n')
  // 64 MiB of small pipelined requests: unbounded read-ahead would hold them all in gw
  const block = Buffer.from('GET /hold HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(Math.floor(MiB / 32)), 'latin1')
  let sent = 0
  let stop = false
  const writer = (async () => {
    while (sent < TOTAL && !stop) {
      sent += block.length
      if (!s.write(block)) await new Promise(r => { s.once('drain', r); s.once('close', r) })
    }
  })()
  await sleep(1500)
  const accepted = sent
  stop = true
  s.destroy()
  release()
  await writer
  // measured: 4 MiB (the two sockets' kernel buffers) with the bound, 13 MiB and growing without it
  assert.ok(accepted < 8 * MiB, `the client could pipeline ${accepted} bytes behind a pending request`)
})
