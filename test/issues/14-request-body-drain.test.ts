// Issue 14 (mutation target, upstream area), request-body.ts survivors: once drain() has taken over the request
// (the exchange is over), the body stream is let go of: the request's end and its error no longer reach it; and
// draining counts up to the limit inclusive: a body of exactly max_body bytes is read to its end and the
// connection serves the next request, one byte more closes it.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { RequestBody } from '../../runtime/upstream/request-body.js'

let handler: (q: IncomingMessage, s: ServerResponse) => void = (_q, s) => s.end()
const server = createServer((q, s) => handler(q, s))
let port = 0
before(async () => { await new Promise<void>(r => server.listen(0, '127.0.0.1', r)); port = (server.address() as { port: number }).port })
after(() => { server.closeAllConnections(); server.close() })

const head = (len: number) => `POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: ${len}\r\n\r\n`
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** A raw client: write parts with a gap, collect what comes back; `end` decides how it stops. */
function client(parts: string[], o: { gapMs?: number; destroyAfter?: boolean; waitMs?: number } = {}): Promise<string> {
  return new Promise(resolve => {
    const s = connect(port, '127.0.0.1')
    let got = ''
    s.on('data', c => { got += c.toString('latin1') })
    s.on('error', () => undefined)
    s.on('close', () => resolve(got))
    s.on('connect', async () => {
      for (const p of parts) { s.write(p); await sleep(o.gapMs ?? 40) }
      if (o.destroyAfter === true) s.destroy()
      else setTimeout(() => s.destroy(), o.waitMs ?? 400)
    })
  })
}

test('after drain() the request\'s end does not end the body stream, and its error does not reach it', async () => {
  for (const how of ['end', 'error'] as const) {
    const seen: string[] = []
    let ready!: () => void
    const drained = new Promise<void>(r => { ready = r })
    handler = (q, s) => {
      const b = new RequestBody(q, 1000)
      b.once('data', () => {
        s.end('early')
        b.drain() // the exchange is over; the body stream itself is not destroyed
        b.on('end', () => seen.push('end'))
        b.on('error', e => seen.push(`error ${e.message}`))
        b.resume()
        ready()
      })
      b.resume()
    }
    const out = client([head(20) + 'abcd', 'efghijklmnopqrst'.slice(0, how === 'end' ? 16 : 4)], { destroyAfter: how === 'error', gapMs: 80 })
    await drained
    await out
    await sleep(100)
    assert.deepEqual(seen, [], `${how}: the body stream was let go of`)
  }
})

test('drain() reads a body of exactly the limit to its end and keeps the connection; one byte more closes it', async () => {
  for (const [len, kept] of [[20, true], [21, false]] as const) {
    let n = 0
    handler = (q, s) => {
      n++
      if (n > 1) { s.end('second'); return }
      const b = new RequestBody(q, 20)
      b.once('data', () => { s.end('early'); b.drain() })
      b.resume()
    }
    const out = await client([head(len) + 'abcd', 'x'.repeat(len - 4), 'GET /2 HTTP/1.1\r\nHost: t\r\n\r\n'], { gapMs: 60, waitMs: 300 })
    assert.equal(out.includes('second'), kept, `${len} bytes: ${JSON.stringify(out.slice(-80))}`)
  }
})
