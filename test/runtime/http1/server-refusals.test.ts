// test/runtime/http1/server-refusals.test.ts: what the http1 engine's listener (runtime/http1/server.ts) answers
// for a request that never reaches the gateway, as a client and an operator see it: the status and JSON error,
// and the reason gw_rejected_requests_total counts it under. An empty Transfer-Encoding is 501, a client that
// half-closes inside a head or a body is `malformed`, a body slower than the request timeout is
// `request_timeout`; a response already on its way is never followed by a second status line. And the listener
// as a net.Server: close() stops it, and a closed connection is not kept (issue 14: survivors of server.ts).
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { metric, startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { bound, req, sleep, WireConnection } from '../../helpers/wire.js'

let up: RecordingUpstream
let gw: TestGateway

before(async () => {
  up = await startRecordingUpstream(1)
  gw = await startGateway(`
upstream u { replicas ${up.addrs} }
route up { match path prefix "/up"; timeout 10s; max_body 1MB; proxy u }
route own { match path prefix "/"; timeout 10s; respond 200 text "ok" }
`, { engine: 'http1', headersTimeoutMs: 2000, requestTimeoutMs: 700, keepAliveTimeoutMs: 5000 })
})
after(async () => { await gw.close(); await up.close() })

const open = () => WireConnection.open(gw.running.address.port)

/** gw_rejected_requests_total{reason}. */
async function rejected(reason: string): Promise<number> {
  const text = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  return metric(text, 'gw_rejected_requests_total', { reason }) ?? 0
}

/** Everything the gateway sends until it closes the connection (at most `ms`). */
async function allUntilClose(c: WireConnection, ms = 5000): Promise<string> {
  await Promise.race([c.closed, bound(ms)])
  assert.equal(c.isClosed, true, 'the gateway closes the connection')
  return c.unread().toString('latin1')
}

/** The one refusal a closed connection carried: its status, error and that nothing else was sent. */
function oneRefusal(text: string, status: string, error: string): void {
  assert.equal(text.split('HTTP/1.1 ').length - 1, 1, `exactly one status line: ${JSON.stringify(text)}`)
  assert.ok(text.startsWith(`HTTP/1.1 ${status}\r\n`), text)
  assert.match(text, /\r\nconnection: close\r\n/)
  assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error, error)
}

test('an empty Transfer-Encoding is 501 unsupported_transfer_coding (the parser\'s refusal), counted under that reason', async () => {
  up.reset()
  const before = await rejected('unsupported_transfer_coding')
  const c = await open()
  try {
    await c.write(req('POST /up HTTP/1.1', 'Host: h', 'Transfer-Encoding: '))
    oneRefusal(await allUntilClose(c), '501 Not Implemented', 'unsupported_transfer_coding')
  } finally { c.close() }
  assert.equal(await rejected('unsupported_transfer_coding'), before + 1)
  assert.equal(up.received.length, 0, 'nothing forwarded')
})

for (const [what, bytes] of [
  ['inside a head', 'GET / HTTP/1.1\r\nHost: h\r\nX-Part'],
  ['inside a body', 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc'],
] as const) {
  test(`a client that half-closes ${what} gets 400 bad_request, counted as malformed`, async () => {
    const before = await rejected('malformed')
    const c = await open()
    try {
      await c.write(bytes)
      await sleep(50)
      c.socket.end()
      oneRefusal(await allUntilClose(c), '400 Bad Request', 'bad_request')
    } finally { c.close() }
    assert.equal(await rejected('malformed'), before + 1)
  })
}

test('a body still arriving after the request timeout gets 408 request_timeout, counted under that reason', async () => {
  const before = await rejected('request_timeout')
  const c = await open()
  try {
    await c.write(req('POST /up HTTP/1.1', 'Host: h', 'Content-Length: 100') + 'abc')
    oneRefusal(await allUntilClose(c, 4000), '408 Request Timeout', 'request_timeout')
  } finally { c.close() }
  assert.equal(await rejected('request_timeout'), before + 1)
})

test('a chunked body that turns invalid while the answer is on its way closes the connection: no second status line inside the answer', async () => {
  // the upstream answers at once (headers and 3 of 100 bytes) and reads the body after
  up.replicas[0].behave({ kind: 'early', headers: [['content-length', '100']], body: 'abc' })
  try {
    const c = await open()
    try {
      await c.write(req('POST /up/x HTTP/1.1', 'Host: h', 'Transfer-Encoding: chunked') + '5\r\nhello\r\n')
      // wait until the answer's head and first bytes have arrived
      for (let i = 0; i < 100 && !c.unread().includes('abc'); i++) await sleep(20)
      assert.ok(c.unread().toString('latin1').startsWith('HTTP/1.1 200 OK\r\n'), c.unread().toString('latin1'))
      await c.write('zz\r\nnot a chunk\r\n')
      const text = await allUntilClose(c)
      assert.equal(text.split('HTTP/1.1 ').length - 1, 1, `one status line only: ${JSON.stringify(text)}`)
      assert.ok(text.endsWith('\r\n\r\nabc'), JSON.stringify(text))
    } finally { c.close() }
  } finally { up.replicas[0].behave({ kind: 'answer' }) }
})

test('close() stops the listener and calls back', { timeout: 5000 }, async () => {
  const { Http1Server } = await import('../../../runtime/http1/server.js')
  const { loadSettings } = await import('../../../config/settings.js')
  const s = new Http1Server(gw.running.gateway, loadSettings(undefined, { engine: 'http1' }))
  await new Promise<void>(r => s.listen(0, '127.0.0.1', () => r()))
  s.unref() // a close() that does nothing fails the test instead of keeping the process alive
  const port = (s.address() as { port: number }).port
  const closed = await new Promise<Error | undefined>(r => s.close(e => r(e)))
  assert.equal(closed, undefined)
  assert.equal(s.listening, false)
  const refused = await new Promise<string>(r => {
    const sock = connect(port, '127.0.0.1')
    sock.once('connect', () => { sock.destroy(); r('connected') })
    sock.once('error', (e: NodeJS.ErrnoException) => r(String(e.code)))
  })
  assert.equal(refused, 'ECONNREFUSED')
})

test('a closed connection is not kept by the listener: its socket is collected', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const refs: WeakRef<Socket>[] = []
  const take = (s: Socket) => { refs.push(new WeakRef(s)) }
  gw.running.server.on('connection', take)
  try {
    for (let i = 0; i < 5; i++) {
      const c = await open()
      const r = await c.send(req('GET / HTTP/1.1', 'Host: h'))
      assert.equal(r.text, 'ok')
      c.close()
      await c.closed
    }
  } finally { gw.running.server.off('connection', take) }
  assert.equal(refs.length, 5)
  let alive = refs.length
  for (let i = 0; i < 20 && alive > 0; i++) {
    await sleep(20)
    gc()
    alive = refs.filter(r => r.deref() !== undefined).length
  }
  assert.equal(alive, 0, `${alive} of 5 closed connections' sockets still reachable`)
})

test('the sweep runs at a quarter of the smallest timeout: with a 40 ms header timeout, a head started right after a sweep fired is refused well within a second', async () => {
  // Observable through the period: after one sweep has refused a head, the next refusal needs the next sweep.
  // At a quarter of 40 ms (floor 10 ms) that is ~50 ms away; at the 1 s ceiling it would be ~1 s away.
  const g = await startGateway('route own { match path prefix "/"; respond 200 text "ok" }',
    { engine: 'http1', headersTimeoutMs: 40, requestTimeoutMs: 5000, keepAliveTimeoutMs: 5000 })
  try {
    const slowHead = async (): Promise<{ ms: number; text: string }> => {
      const c = await WireConnection.open(g.running.address.port)
      try {
        const t0 = Date.now()
        await c.write('GET / HTTP/1.1\r\nHost: h\r\n')
        await Promise.race([c.closed, bound(3000)])
        return { ms: Date.now() - t0, text: c.unread().toString('latin1') }
      } finally { c.close() }
    }
    const first = await slowHead()
    assert.ok(first.text.startsWith('HTTP/1.1 408 '), first.text)
    const second = await slowHead()
    assert.ok(second.text.startsWith('HTTP/1.1 408 '), second.text)
    assert.ok(second.ms >= 35 && second.ms < 600, `408 after ${second.ms} ms (header timeout 40 ms, sweep every 10 ms)`)
  } finally { await g.close() }
})
