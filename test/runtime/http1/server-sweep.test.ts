// test/runtime/http1/server-sweep.test.ts: the http1 engine's timeouts as node:http defines them
// (runtime/http1/server.ts, one sweep over the connections): the request timeout bounds receiving the request
// (head and body), never the gateway's answer; the keep-alive timeout closes an idle connection, not a busy
// one; 0 turns each off; the header timeout is never longer than the request timeout, and stays on when the
// request timeout is off. Bounds are checked from both sides (not before the timeout, not long after it), so
// a sweep four times slower than it should be is seen (issue 14: survivors of the Stryker run of server.ts).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { bound, req, sleep, WireConnection } from '../../helpers/wire.js'

let up: RecordingUpstream
const gws: TestGateway[] = []

const policy = (addrs: string) => `
upstream u { replicas ${addrs} }
route slow { match path "/slow"; timeout 10s; proxy u }  # reads the body as it comes
route own { match path prefix "/"; timeout 10s; respond 200 text "ok" }
`
async function gateway(t: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number }): Promise<TestGateway> {
  const g = await startGateway(policy(up.addrs), { engine: 'http1', ...t })
  gws.push(g)
  return g
}
const open = (g: TestGateway) => WireConnection.open(g.running.address.port)

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave({ kind: 'answer', body: 'late', delayMs: 1500 })
})
after(async () => { for (const g of gws) await g.close(); await up.close() })

/** Milliseconds until the connection answers 408 (or closes without one: -1 as status). */
async function timeTo408(c: WireConnection, t0: number): Promise<{ ms: number; status: number }> {
  try {
    const r = await c.read({ timeoutMs: 5000 })
    return { ms: Date.now() - t0, status: r.status }
  } catch { return { ms: Date.now() - t0, status: -1 } }
}

test('request timeout 600 ms: a body still arriving at 600 ms gets 408 (not before, and within a sweep or two after); an answer slower than that is not cut', async () => {
  const g = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 900 })
  const c = await open(g)
  try {
    const t0 = Date.now()
    await c.write(req('POST /slow HTTP/1.1', 'Host: h', 'Content-Length: 100'))
    const trickle = (async () => { for (let i = 0; i < 20 && !c.isClosed; i++) { await c.write('x').catch(() => undefined); await sleep(100) } })()
    const r = await timeTo408(c, t0)
    await trickle
    assert.equal(r.status, 408)
    assert.ok(r.ms >= 550 && r.ms < 1400, `408 after ${r.ms} ms (request timeout 600 ms, sweep every 75 ms)`)
  } finally { c.close() }
  // the request was read whole: the upstream's 1.5 s is the route's business, not the request timeout's
  const s = await open(g)
  try {
    const r = await s.send(req('GET /slow HTTP/1.1', 'Host: h'), { timeoutMs: 5000 })
    assert.deepEqual([r.status, r.text], [200, 'late'])
  } finally { s.close() }
})

test('keep-alive timeout 900 ms: an idle connection is open at 500 ms and closed by 1.4 s; one waiting 1.5 s for its answer is not closed', async () => {
  const g = await gateway({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 900 })
  const c = await open(g)
  try {
    assert.equal((await c.send(req('GET / HTTP/1.1', 'Host: h'))).text, 'ok')
    const t0 = Date.now()
    await sleep(500)
    assert.equal(c.isClosed, false, 'closed before the keep-alive timeout')
    await Promise.race([c.closed, bound(1500)])
    assert.equal(c.isClosed, true, 'still open well after the keep-alive timeout')
    assert.ok(Date.now() - t0 < 1500)
  } finally { c.close() }
})

test('all three timeouts 0: a head, a body and an idle connection may take their time', async () => {
  const g = await gateway({ headersTimeoutMs: 0, requestTimeoutMs: 0, keepAliveTimeoutMs: 0 })
  const head = await open(g)
  const body = await open(g)
  const idle = await open(g)
  try {
    await head.write('GET / HTTP/1.1\r\nHo')
    await body.write(req('POST /slow HTTP/1.1', 'Host: h', 'Content-Length: 3') + 'a')
    assert.equal((await idle.send(req('GET / HTTP/1.1', 'Host: h'))).text, 'ok')
    await sleep(1300) // more than the slowest sweep (1 s)
    assert.deepEqual([head.isClosed, body.isClosed, idle.isClosed], [false, false, false])
    assert.equal(head.unread().length + body.unread().length + idle.unread().length, 0)
    assert.equal((await head.send('st: h\r\n\r\n')).text, 'ok')
    assert.equal((await body.send('bc', { timeoutMs: 5000 })).text, 'late')
  } finally { head.close(); body.close(); idle.close() }
})

test('the header timeout: on when the request timeout is off; capped by a shorter request timeout', async () => {
  for (const [t, bound] of [[{ headersTimeoutMs: 400, requestTimeoutMs: 0, keepAliveTimeoutMs: 5000 }, 400], [{ headersTimeoutMs: 3000, requestTimeoutMs: 400, keepAliveTimeoutMs: 5000 }, 400]] as const) {
    const g = await gateway(t)
    const c = await open(g)
    try {
      const t0 = Date.now()
      await c.write('GET / HTTP/1.1\r\nHo')
      const r = await timeTo408(c, t0)
      assert.equal(r.status, 408, JSON.stringify(t))
      assert.ok(r.ms >= bound - 50 && r.ms < bound + 600, `408 after ${r.ms} ms (${JSON.stringify(t)})`)
    } finally { c.close() }
  }
})
