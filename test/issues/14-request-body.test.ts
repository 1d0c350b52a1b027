// Issue 14 (mutation target, upstream area): the request body as undici reads it (runtime/upstream/request-body.ts),
// on real client requests to a node:http server: nothing is consumed until it is read (so an attempt that never
// read it can be retried with a fresh one), the bytes pass unchanged, a body of unknown length is cut with
// GW_ERR_BODY_TOO_LARGE one byte past the limit (not at it), a client error ends it with that error, and
// drain() reads and discards the rest once the exchange is over (the connection stays usable) but closes the
// connection once the rest goes past the limit.
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { RequestBody } from '../../runtime/upstream/request-body.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
let handler: Handler = (_q, s) => s.end()
const server = createServer((q, s) => handler(q, s))
let port = 0
before(async () => { await new Promise<void>(r => server.listen(0, '127.0.0.1', r)); port = (server.address() as { port: number }).port })
after(() => { server.closeAllConnections(); server.close() })

/** Sends raw request bytes (optionally in parts) and resolves with everything the server sent until it closed or `timeoutMs` passed. */
function raw(parts: string[], gapMs = 30, timeoutMs = 1500): Promise<string> {
  return new Promise(resolve => {
    const s = connect(port, '127.0.0.1')
    let got = ''
    const done = () => { clearTimeout(t); s.destroy(); resolve(got) }
    const t = setTimeout(done, timeoutMs)
    s.on('data', c => { got += c.toString('latin1') })
    s.on('close', done)
    s.on('error', () => undefined)
    let i = 0
    const next = () => { if (i < parts.length && !s.destroyed) { s.write(parts[i++]); setTimeout(next, gapMs) } }
    s.on('connect', next)
  })
}
const chunked = (...chunks: string[]) => chunks.map(c => `${c.length.toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n'
const head = (extra: string) => `POST /b HTTP/1.1\r\nHost: t\r\n${extra}\r\n`

/** `p`, or a failure after `ms`: every wait is bounded, so a body that never ends fails the test instead of hanging it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms) })]).finally(() => clearTimeout(t))
}

async function collect(b: RequestBody): Promise<{ data: string; err: Error | null }> {
  let data = ''
  try { for await (const c of b) data += (c as Buffer).toString('latin1') } catch (e) { return { data, err: e as Error } }
  return { data, err: null }
}

test('nothing is consumed until it is read; then the bytes pass unchanged (chunked and Content-Length)', async () => {
  for (const [extra, body, want] of [['Transfer-Encoding: chunked\r\n', chunked('hello ', 'world'), 'hello world'], ['Content-Length: 5\r\n', 'abcde', 'abcde']]) {
    const result = new Promise<{ data: string; err: Error | null; before: boolean }>(resolve => {
      handler = (q, s) => {
        const b = new RequestBody(q, 1000)
        setTimeout(() => {
          const before = b.started
          void collect(b).then(r => { assert.equal(b.started, true); s.end('done'); resolve({ ...r, before }) })
        }, 50)
      }
    })
    const reply = raw([head(extra) + body])
    const r = await within(result, 3000, 'the body')
    assert.equal(r.before, false, 'not started before undici reads it')
    assert.equal(r.err, null)
    assert.equal(r.data, want)
    assert.match(await within(reply, 3000, 'the reply'), /^HTTP\/1.1 200/)
  }
})

test('a body of unknown length is cut one byte past the limit, not at it', async () => {
  for (const [size, over] of [[16, false], [17, true]] as const) {
    const result = new Promise<{ data: string; err: Error | null }>(resolve => {
      handler = (q, s) => { void collect(new RequestBody(q, 16)).then(r => { s.end(); resolve(r) }) }
    })
    void raw([head('Transfer-Encoding: chunked\r\n') + chunked('x'.repeat(size))])
    const r = await within(result, 3000, `a ${size}-byte body`)
    if (over) {
      assert.equal((r.err as { code?: string } | null)?.code, 'GW_ERR_BODY_TOO_LARGE', `${size} bytes`)
      assert.match(r.err!.message, /over 16 bytes/)
    } else {
      assert.equal(r.err, null, `${size} bytes`)
      assert.equal(r.data.length, 16)
    }
  }
})

test('a client that goes away mid-body ends the body with an error', async () => {
  const result = new Promise<{ data: string; err: Error | null }>(resolve => {
    handler = q => { void collect(new RequestBody(q, 1000)).then(resolve) }
  })
  void raw([head('Content-Length: 100\r\n') + 'partial'], 10).then(() => undefined)
  const r = await Promise.race([result, new Promise<null>(res => setTimeout(() => res(null), 3000))])
  assert.ok(r !== null, 'the body ended')
  assert.ok(r.err !== null, 'with an error')
  assert.equal(r.data, 'partial')
})

test('drain(): the rest of the body is read and discarded so the connection serves the next request', async () => {
  let n = 0
  handler = (q, s) => {
    n++
    if (n === 1) {
      // answered early (the first 4 bytes read), then the exchange is over
      const b = new RequestBody(q, 1000)
      b.once('data', () => { b.destroy(); s.end('early'); b.drain() })
      b.resume()
      return
    }
    s.end('second')
  }
  const out = await raw([head('Content-Length: 20\r\n') + 'abcd', 'efghijklmnopqrst', 'GET /2 HTTP/1.1\r\nHost: t\r\n\r\n'], 60)
  assert.equal((out.match(/HTTP\/1.1 200/g) ?? []).length, 2, out)
  assert.match(out, /early/)
  assert.match(out, /second/)
})

test('drain(): past the limit the connection is closed instead of read to the end', async () => {
  let n = 0
  let destroyed: boolean | null = null
  handler = (q, s) => {
    n++
    const b = new RequestBody(q, 10)
    b.once('data', () => { s.end('early'); b.drain(); q.once('close', () => { destroyed = q.destroyed }) })
    b.resume()
  }
  const t0 = Date.now()
  const out = await raw([head('Transfer-Encoding: chunked\r\n') + '4\r\nabcd\r\n', '20\r\n' + 'y'.repeat(32) + '\r\n', '0\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n'], 60)
  assert.equal(n, 1, 'the second request was never read')
  assert.equal((out.match(/HTTP\/1.1 200/g) ?? []).length, 1)
  assert.equal(destroyed, true)
  assert.ok(Date.now() - t0 < 1400, 'the server closed the connection (not the client timeout)')
})

test('a body nobody is reading is not buffered: the client is held back (TCP backpressure) until it is read, then every byte arrives', async () => {
  const size = 8 * 1024 * 1024
  let body: RequestBody | null = null
  let received = 0
  const done = new Promise<void>(resolve => {
    handler = (q, s) => {
      body = new RequestBody(q, size)
      body.once('data', (c: Buffer) => { received += c.length; body!.pause() }) // read once, then stop reading
      body.on('end', () => { s.setHeader('connection', 'close'); s.end('done'); resolve() })
    }
  })
  const reply = raw([head(`Content-Length: ${size}\r\n`) + 'y'.repeat(size)], 0, 20_000)
  while (body === null) await new Promise(r => setTimeout(r, 5))
  await new Promise(r => setTimeout(r, 300))
  const b = body as RequestBody
  assert.ok(b.readableLength <= 256 * 1024, `${b.readableLength} bytes held in memory while nobody reads`)
  b.on('data', (c: Buffer) => { received += c.length })
  b.resume()
  await within(done, 20_000, 'the whole body')
  assert.equal(received, size)
  await within(reply, 3000, 'the reply')
})
