// test/runtime/http1/upstream-connection-edges.test.ts: survivors of quick.mjs runs of the whole of
// runtime/http1/upstream-connection.ts against its mapped tests, pinned through real sockets: a request body
// is written no faster than the upstream reads it (a stream is paused while the socket's buffer is full and
// resumed on 'drain', and a 'drain' after the body's end is harmless), and a stream shorter than its
// Content-Length fails with undici's message.
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { Readable } from 'node:stream'
import { after, test } from 'node:test'
import { ok, send, upstreamsClosedAfter, waitFor } from './upstream-helpers.js'
import { Http1Pool } from '../../../runtime/http1/upstream-pool.js'

const upstream = upstreamsClosedAfter()
const H = ['host', 'h']
const MiB = 1024 * 1024

/** An upstream that reads nothing until `resume()`, then counts a request's body (Content-Length) and answers it. */
class SlowReader {
  readonly server: Server
  socket: Socket | null = null
  received = 0
  port = 0
  constructor() {
    this.server = createServer(s => {
      this.socket = s
      s.pause()
      let head = ''
      let want = -1
      s.on('data', (b: Buffer) => {
        if (want < 0) {
          head += b.toString('latin1')
          const i = head.indexOf('\r\n\r\n')
          if (i < 0) return
          want = Number(/content-length: (\d+)/.exec(head.slice(0, i))![1])
          this.received = head.length - i - 4
          head = ''
        } else this.received += b.length
        if (this.received === want) { s.write(ok(String(this.received))); want = -1 }
      })
      s.on('error', () => undefined)
    })
  }
  async listen(): Promise<this> {
    await new Promise<void>(r => this.server.listen(0, '127.0.0.1', r))
    this.port = (this.server.address() as { port: number }).port
    return this
  }
  pool(): Http1Pool {
    return new Http1Pool({ host: '127.0.0.1', port: this.port, connections: 1, idleMs: 30_000, connectTimeoutMs: 2000, bodyIdleMs: 0 })
  }
}
const slow: SlowReader[] = []
after(() => { for (const u of slow) { u.socket?.destroy(); u.server.close() } })

test('a stream body is read no faster than the upstream takes it: paused while the socket is full, resumed on drain, sent whole', { timeout: 20_000 }, async () => {
  const up = await new SlowReader().listen()
  slow.push(up)
  const pool = up.pool()
  const TOTAL = 64 * MiB
  const chunk = Buffer.alloc(MiB, 'b')
  let pulled = 0
  const body = new Readable({ read() { if (pulled >= TOTAL) { this.push(null); return } pulled += chunk.length; this.push(chunk) } })
  const answer = send(pool, { method: 'PUT', path: '/big', headers: H, contentLength: TOTAL, body })
  await waitFor(() => up.socket !== null && pulled > 0, 5000, 'the upload to start')
  await new Promise(r => setTimeout(r, 1000))
  // measured: about 5 MiB (the kernel buffers of one loopback hop) when the stream is paused, all 64 without it
  assert.ok(pulled < TOTAL / 2, `${pulled / MiB} MiB of the stream read while the upstream reads nothing`)
  up.socket!.resume()
  const o = await answer
  assert.equal(o.error, null)
  assert.equal(o.body.toString(), String(TOTAL))
  assert.equal(pulled, TOTAL)
  await pool.destroy()
})

test('a large Buffer body to a slow upstream: written whole, and the drain after it does not disturb the connection', { timeout: 20_000 }, async () => {
  const up = await new SlowReader().listen()
  slow.push(up)
  const pool = up.pool()
  const big = Buffer.alloc(16 * MiB, 'B')
  const answer = send(pool, { method: 'POST', path: '/buf', headers: H, body: big })
  await waitFor(() => up.socket !== null, 5000, 'the connection')
  await new Promise(r => setTimeout(r, 200))
  up.socket!.resume()
  const o = await answer
  assert.equal(o.error, null)
  assert.equal(o.body.toString(), String(big.length))
  // the same connection carries the next request
  const again = await send(pool, { method: 'POST', path: '/small', headers: H, body: Buffer.from('abc') })
  assert.equal(again.body.toString(), '3')
  await pool.destroy()
})

test('a stream shorter than its Content-Length fails with undici\'s length error; the upstream got only what the stream had', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  const o = await send(pool, { method: 'POST', path: '/short', headers: H, contentLength: 5, body: Readable.from([Buffer.from('abc')]) })
  assert.equal(o.error?.code, 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH')
  assert.equal(o.error?.message, 'Request body length does not match content-length header')
  await waitFor(() => up.conns[0]?.closed === true, 5000, 'the connection to close')
  assert.equal(up.conns[0].data, 'POST /short HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ncontent-length: 5\r\n\r\nabc')
  await pool.destroy()
})
