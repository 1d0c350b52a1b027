// test/runtime/tunnel-close.test.ts (issue 14): how one Tunnel ends, found by mutating runtime/tunnel/tunnel.ts
// (lab/mutation/quick.mjs): the reason it ends with, onEnd called once and only when both sockets have closed, both
// sockets destroyed after a reset or a socket gone on either side, a half-close passed on with the tunnel ending
// only when both directions ended, end() after 'closed' vs after another reason, shutdown's close frames ending the
// tunnel without waiting for silent peers, backpressure resumed during a shutdown, `open`, and TCP_NODELAY set on
// both sockets. In-process: a real Tunnel between two loopback socket pairs.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { sleep, socketPair } from '../helpers/wire.js'
import { Tunnel, type TunnelSocket } from '../../runtime/tunnel/tunnel.js'
import { CounterChild } from '../../runtime/metrics.js'

// whatever a failing test left open is cut, so the file ends promptly either way
const cleanup: (() => void)[] = []
after(() => { for (const c of cleanup) c() })

/** test client ↔ gwClient (tunnel) gwUpstream ↔ test upstream; `closes` records the gw sockets' 'close' events. */
async function pair(websocket = false, onGwSockets?: (c: Socket, u: Socket) => void) {
  const [client, gwClient] = await socketPair()
  const [gwUpstream, upstream] = await socketPair()
  const closes: string[] = []
  // registered before the Tunnel's own listeners, so they run first
  gwClient.on('close', () => closes.push('client'))
  gwUpstream.on('close', () => closes.push('upstream'))
  onGwSockets?.(gwClient, gwUpstream)
  const counts = { up: new CounterChild(), down: new CounterChild() }
  const ends: { reason: string; closesSeen: number; open: boolean }[] = []
  const t = new Tunnel(gwClient, gwUpstream, {
    websocket, idleMs: 60_000, lifetimeMs: 60_000, ...counts,
    onEnd: x => { ends.push({ reason: x.reason, closesSeen: closes.length, open: x.open }) },
  })
  t.start(Buffer.alloc(0))
  cleanup.push(() => { t.end('idle'); for (const s of [client, upstream, gwClient, gwUpstream]) s.destroy() })
  const got = { client: [] as Buffer[], upstream: [] as Buffer[] }
  client.on('data', d => got.client.push(d))
  upstream.on('data', d => got.upstream.push(d))
  for (const s of [client, upstream, gwClient, gwUpstream]) s.on('error', () => undefined)
  const clientEnd = new Promise<void>(r => { client.once('end', () => r()); client.once('close', () => r()) })
  const ended = async (ms = 3000): Promise<void> => { for (let i = 0; i < ms / 5 && ends.length === 0; i++) await sleep(5) }
  return { t, client, upstream, gwClient, gwUpstream, got, counts, ends, closes, ended, clientEnd }
}
const once = (s: Socket, ev: string): Promise<void> => new Promise(r => s.once(ev, () => r()))
const both = (p: Awaited<ReturnType<typeof pair>>): void => {
  assert.equal(p.gwClient.destroyed, true, 'client socket destroyed')
  assert.equal(p.gwUpstream.destroyed, true, 'upstream socket destroyed')
  assert.equal(p.ends.length, 1, 'onEnd once')
  assert.equal(p.ends[0].closesSeen, 2, 'onEnd only after both sockets closed')
  assert.equal(p.ends[0].open, false)
}

test('TCP_NODELAY is set on both sockets; a socket without setNoDelay is fine', async () => {
  const calls: string[] = []
  const p = await pair(false, (c, u) => {
    const spy = (s: Socket, name: string) => { const orig = s.setNoDelay.bind(s); s.setNoDelay = (v?: boolean) => { calls.push(`${name}:${v}`); return orig(v) } }
    spy(c, 'client'); spy(u, 'upstream')
  })
  assert.deepEqual(calls.sort(), ['client:true', 'upstream:true'])
  p.t.end('idle')
  await p.ended()
  const plain = (): TunnelSocket => Object.assign(new Duplex({ read() {}, write(_c, _e, cb) { cb() } }), { setTimeout: () => undefined })
  const a = plain(), b = plain()
  const t = new Tunnel(a, b, { websocket: false, idleMs: 1000, lifetimeMs: 1000, up: new CounterChild(), down: new CounterChild(), onEnd: () => undefined })
  t.end('idle')
  assert.equal(t.reason, 'idle')
})

test('a client reset ends the tunnel with client_error: both sockets destroyed, onEnd once', async () => {
  const p = await pair()
  p.client.write('hi')
  for (let i = 0; i < 100 && p.got.upstream.length === 0; i++) await sleep(5)
  p.client.resetAndDestroy()
  await p.ended()
  assert.equal(p.t.reason, 'client_error')
  both(p)
  assert.equal(p.t.bytesUp, 2)
  assert.equal(p.counts.up.value, 2)
})

test('a gateway-side socket gone without an error ends the tunnel with that side\'s reason', async () => {
  for (const side of ['client', 'upstream'] as const) {
    const p = await pair()
    assert.equal(p.t.open, true)
    ;(side === 'client' ? p.gwClient : p.gwUpstream).destroy()
    await p.ended()
    assert.equal(p.t.reason, side === 'client' ? 'client_error' : 'upstream_error')
    both(p)
  }
})

test('after a half-close, the other side gone ends the tunnel with its error, not closed', async () => {
  const p = await pair()
  const fin = once(p.upstream, 'end')
  p.client.end()
  await fin
  assert.equal(p.t.reason, '')
  p.gwUpstream.destroy()
  await p.ended()
  assert.equal(p.t.reason, 'upstream_error')
  both(p)
})

test('a half-close is passed on, the other direction goes on, the tunnel ends closed when both ended', async () => {
  const p = await pair()
  let reasonAtLastEnd: string | null = null, openAtLastEnd: boolean | null = null
  p.client.write('up-bytes')
  const fin = once(p.upstream, 'end')
  p.client.end()
  await fin
  assert.equal(Buffer.concat(p.got.upstream).toString(), 'up-bytes')
  await sleep(20)
  assert.equal(p.t.open, true)
  assert.equal(p.t.reason, '')
  assert.equal(p.ends.length, 0)
  // registered after the Tunnel's: sees what the Tunnel made of the second FIN
  p.gwUpstream.once('end', () => { reasonAtLastEnd = p.t.reason; openAtLastEnd = p.t.open })
  const cfin = once(p.client, 'end')
  p.upstream.end('down-bytes!')
  await cfin
  assert.equal(Buffer.concat(p.got.client).toString(), 'down-bytes!')
  await p.ended()
  assert.equal(reasonAtLastEnd, 'closed')
  assert.equal(openAtLastEnd, true)
  assert.equal(p.t.reason, 'closed')
  both(p)
  assert.deepEqual([p.t.bytesUp, p.t.bytesDown, p.counts.up.value, p.counts.down.value], [8, 11, 8, 11])
})

test('end() after closed (bytes still unflushed) cuts now and keeps closed; after another reason it changes nothing', async () => {
  const p = await pair()
  p.client.pause()
  const big = Buffer.alloc(8 << 20, 1)
  p.upstream.end(big)
  const fin = once(p.upstream, 'end')
  p.client.end()
  await fin
  // the gateway side reads the rest and the upstream's FIN into the (paused) client's write buffer
  for (let i = 0; i < 400 && p.t.reason === ''; i++) { p.gwUpstream.resume(); await sleep(5) }
  await sleep(30)
  assert.equal(p.t.reason, 'closed')
  assert.equal(p.ends.length, 0, 'still flushing to the paused client')
  p.t.end('idle')
  await p.ended(500)
  assert.equal(p.ends.length, 1, 'cut at once')
  assert.equal(p.t.reason, 'closed')
  both(p)
  // end() and shutdown() after another reason keep it
  const q = await pair(true)
  q.t.end('lifetime')
  q.t.end('idle')
  q.t.shutdown()
  await q.ended()
  assert.equal(q.t.reason, 'lifetime')
  both(q)
})

/** Shuts the tunnel down and checks it ends within 600 ms (not after the 1 s grace), the client's last frame a close frame. */
async function shutsDownPromptly(p: Awaited<ReturnType<typeof pair>>): Promise<void> {
  const t0 = performance.now()
  p.t.shutdown()
  await p.ended()
  assert.ok(performance.now() - t0 < 600, `ended after ${Math.round(performance.now() - t0)} ms`)
  await p.clientEnd
  assert.equal(Buffer.concat(p.got.client)[0], 0x88)
  assert.equal(p.t.reason, 'shutdown')
  both(p)
}

test('a shutdown with silent peers ends the tunnel once both close frames are flushed, not after the grace', async () => {
  const p = await pair(true)
  await shutsDownPromptly(p)
})

test('a shutdown after the client half-closed ends without waiting for the upstream\'s FIN', async () => {
  const p = await pair(true)
  const fin = once(p.upstream, 'end')
  p.client.end()
  await fin
  await shutsDownPromptly(p)
})

test('a shutdown mid-frame: the client gets the rest of the frame, resumed after backpressure, then the close frame', async () => {
  const p = await pair(true)
  p.client.pause()
  const n = 8 << 20
  const head = Buffer.from([0x82, 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff])
  p.upstream.write(head)
  p.upstream.write(Buffer.alloc(n / 2, 5))
  await sleep(100) // the gateway side is now paused by backpressure
  const t0 = performance.now()
  p.t.shutdown()
  p.upstream.write(Buffer.alloc(n / 2, 6))
  await sleep(50)
  p.client.resume()
  await p.ended()
  const elapsed = performance.now() - t0
  await p.clientEnd
  const down = Buffer.concat(p.got.client)
  assert.equal(down.length, 10 + n + 2 + 2 + 'gateway shutting down'.length)
  assert.equal(down[10 + n], 0x88)
  assert.ok(elapsed < 900, `ended after ${Math.round(elapsed)} ms`)
  assert.equal(p.t.bytesDown, 10 + n)
  assert.equal(p.t.reason, 'shutdown')
})
