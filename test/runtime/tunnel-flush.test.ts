// test/runtime/tunnel-flush.test.ts (issue 14): what a Tunnel still owes a slow peer when it finishes, found by
// mutating runtime/tunnel/tunnel.ts. Once both directions have ended, or a shutdown finds one direction already
// ended, bytes still queued for a peer that reads slowly are delivered before its socket is let go; and a
// shutdown that closes the client's side first still lets the client finish the frame it is sending.
// In-process: a real Tunnel; the slow peer is a Duplex that accepts one chunk at a time when the test says so.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import { sleep, socketPair } from '../helpers/wire.js'
import { Tunnel, type TunnelSocket } from '../../runtime/tunnel/tunnel.js'
import { CounterChild } from '../../runtime/metrics.js'

const cleanup: (() => void)[] = []
after(() => { for (const c of cleanup) c() })

/** A peer that reads slowly: each chunk written to it is received, then waits for `take()` before the next. */
function slowPeer() {
  const received: Buffer[] = []
  const held: (() => void)[] = []
  const sock = Object.assign(new Duplex({
    read() {},
    write(chunk: Buffer, _e, cb) { received.push(chunk); held.push(() => cb()) },
  }), { setTimeout: () => undefined }) as TunnelSocket & Duplex
  sock.on('error', () => undefined)
  /** Lets the peer read everything that is and will be written to it. */
  const takeAll = async (): Promise<void> => {
    for (let quiet = 0; quiet < 10 && !sock.destroyed; quiet++) {
      if (held.length > 0) quiet = 0
      while (held.length > 0) held.shift()!()
      await sleep(2)
    }
  }
  return { sock, received, held, takeAll }
}

/** test client ↔ (real loopback pair) ↔ Tunnel ↔ slow upstream peer. */
async function tunnelToSlowPeer(websocket: boolean) {
  const [client, gwClient] = await socketPair()
  const up = slowPeer()
  let ended = false
  const t = new Tunnel(gwClient, up.sock, {
    websocket, idleMs: 60_000, lifetimeMs: 60_000, up: new CounterChild(), down: new CounterChild(),
    onEnd: () => { ended = true },
  })
  t.start(Buffer.alloc(0))
  for (const s of [client, gwClient]) s.on('error', () => undefined)
  cleanup.push(() => { t.end('idle'); client.destroy(); gwClient.destroy() })
  const clientFin = new Promise<void>(r => client.once('end', () => r()))
  client.resume() // reads what comes down (a close frame), so that its FIN is seen
  return { t, client, up, clientFin, isEnded: () => ended }
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => { for (let i = 0; i < ms / 5 && !cond(); i++) await sleep(5) }

/** A masked binary frame from a client (RFC 6455 5.3), payload ≤ 125 bytes. */
function clientFrame(payload: Buffer): Buffer {
  const key = Buffer.from([1, 2, 3, 4])
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i & 3]))
  return Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), key, masked])
}

test('both directions ended: the slow upstream still gets every byte queued for it before its socket is let go', async () => {
  const p = await tunnelToSlowPeer(false)
  // the upstream's direction ends first: the client gets its FIN, its socket stays open for writing
  p.up.sock.push(null)
  await p.clientFin
  const chunks = ['one,', 'two,', 'three,', 'four'].map(s => Buffer.from(s.repeat(500)))
  for (const c of chunks) { p.client.write(c); await sleep(5) }
  p.client.end()
  // the client's FIN read: both directions ended, the client's socket is done at once, the upstream's is not
  await until(() => p.t.reason !== '')
  assert.equal(p.t.reason, 'closed')
  await sleep(30)
  assert.ok(p.up.held.length > 0, 'the upstream has not read everything yet')
  assert.equal(p.up.sock.destroyed, false, 'the upstream socket waits for its bytes to be read')
  await p.up.takeAll()
  await until(p.isEnded)
  assert.equal(Buffer.concat(p.up.received).toString(), Buffer.concat(chunks).toString())
  assert.equal(p.isEnded(), true)
  assert.equal(p.t.reason, 'closed')
})

test('a shutdown after the client half-closed: the slow upstream still gets the client\'s frames, and no close frame after its FIN', async () => {
  const p = await tunnelToSlowPeer(true)
  const frames = [1, 2, 3, 4].map(i => clientFrame(Buffer.alloc(100, i)))
  for (const f of frames) { p.client.write(f); await sleep(5) }
  p.client.end()
  await sleep(50)
  assert.ok(p.up.held.length > 0, 'the upstream has not read everything yet')
  p.t.shutdown()
  await p.clientFin // the client's close frame, then FIN
  await sleep(20)
  assert.equal(p.up.sock.destroyed, false, 'the upstream socket waits for its bytes to be read')
  await p.up.takeAll()
  await until(p.isEnded)
  assert.deepEqual(Buffer.concat(p.up.received), Buffer.concat(frames))
  assert.equal(p.t.reason, 'shutdown')
})

test('a shutdown while the client is mid-frame and the upstream is quiet: the client gets its close frame and can still finish its frame, which the upstream gets before its own close frame', async () => {
  const [client, gwClient] = await socketPair()
  const [gwUpstream, upstream] = await socketPair()
  let ended = false
  const t = new Tunnel(gwClient, gwUpstream, {
    websocket: true, idleMs: 60_000, lifetimeMs: 60_000, up: new CounterChild(), down: new CounterChild(),
    onEnd: () => { ended = true },
  })
  t.start(Buffer.alloc(0))
  cleanup.push(() => { t.end('idle'); for (const s of [client, gwClient, gwUpstream, upstream]) s.destroy() })
  for (const s of [client, gwClient, gwUpstream, upstream]) s.on('error', () => undefined)
  const toClient: Buffer[] = [], toUpstream: Buffer[] = []
  client.on('data', d => toClient.push(d))
  upstream.on('data', d => toUpstream.push(d))
  const frame = clientFrame(Buffer.alloc(120, 9))
  client.write(frame.subarray(0, 40))
  await until(() => toUpstream.length > 0)
  t.shutdown()
  await until(() => toClient.length > 0)
  assert.equal(Buffer.concat(toClient)[0], 0x88, 'the client got its close frame at once')
  await sleep(50)
  assert.equal(client.destroyed || gwClient.destroyed, false, 'the client\'s socket stays open for the rest of its frame')
  client.write(frame.subarray(40))
  await until(() => ended, 900)
  const up = Buffer.concat(toUpstream)
  assert.deepEqual(up.subarray(0, frame.length), frame)
  assert.equal(up[frame.length], 0x88, 'then the close frame, masked, to the upstream')
  assert.equal(up[frame.length + 1] & 0x80, 0x80)
  assert.equal(ended, true, 'ended once both close frames went, before the grace')
  assert.equal(t.reason, 'shutdown')
})

/** client (slow peer) ↔ Tunnel ↔ (real loopback pair) ↔ test upstream. */
async function slowClientTunnel() {
  const [gwUpstream, upstream] = await socketPair()
  const cl = slowPeer()
  let ended = false
  const t = new Tunnel(cl.sock, gwUpstream, {
    websocket: true, idleMs: 60_000, lifetimeMs: 60_000, up: new CounterChild(), down: new CounterChild(),
    onEnd: () => { ended = true },
  })
  t.start(Buffer.alloc(0))
  for (const s of [gwUpstream, upstream]) s.on('error', () => undefined)
  cleanup.push(() => { t.end('idle'); gwUpstream.destroy(); upstream.destroy() })
  return { t, cl, gwUpstream, upstream, isEnded: () => ended }
}

test('a shutdown while the client is mid-frame, then the upstream resets: the slow client still gets its close frame, not a cut socket', async () => {
  const p = await slowClientTunnel()
  const frame = Buffer.from([0x82, 3, 1, 2, 3])
  p.upstream.write(frame)
  await until(() => p.cl.received.length > 0)
  // the client is mid-frame (so the upstream's socket stays open for the rest) and has not read that frame yet
  // when the gateway shuts down and the upstream goes away
  p.cl.sock.push(clientFrame(Buffer.alloc(50, 7)).subarray(0, 20))
  await until(() => p.upstream.bytesRead >= 20)
  p.t.shutdown()
  p.upstream.resetAndDestroy()
  await until(() => p.gwUpstream.destroyed)
  await sleep(30)
  assert.equal(p.cl.sock.destroyed, false, 'the client socket is not cut while its close frame waits to be read')
  await p.cl.takeAll()
  const down = Buffer.concat(p.cl.received)
  assert.deepEqual(down.subarray(0, frame.length), frame)
  assert.equal(down[frame.length], 0x88, 'then the close frame')
  assert.equal(down.readUInt16BE(frame.length + 2), 1001)
  // the client finishes its frame: with the upstream gone there is no one to send a close frame to, and the
  // tunnel ends now rather than at the 1 s grace
  const t0 = performance.now()
  p.cl.sock.push(clientFrame(Buffer.alloc(50, 7)).subarray(20))
  await until(p.isEnded, 1500)
  assert.ok(performance.now() - t0 < 500, `ended after ${Math.round(performance.now() - t0)} ms`)
  assert.equal(p.t.reason, 'shutdown')
})

test('a tunnel ended by a shutdown leaves no timer behind (an embedding process can exit at once)', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
  const before = timers()
  const p = await slowClientTunnel()
  p.t.shutdown()
  p.cl.sock.push(null)
  await p.cl.takeAll()
  await until(p.isEnded, 1500)
  assert.equal(p.isEnded(), true)
  await new Promise(r => setImmediate(r))
  assert.equal(timers(), before, 'the 1 s shutdown grace timer is cleared when the tunnel ends')
})

test('a shutdown while the client is mid-frame, then the client\'s FIN: passed on to the upstream at once, and the tunnel ends without waiting for the grace', async () => {
  const p = await slowClientTunnel()
  const upFin = new Promise<void>(r => p.upstream.once('end', () => r()))
  p.upstream.resume()
  p.cl.sock.push(clientFrame(Buffer.alloc(50, 7)).subarray(0, 20))
  await until(() => p.upstream.bytesRead >= 20)
  const t0 = performance.now()
  p.t.shutdown()
  p.cl.sock.push(null) // the client leaves mid-frame: its frame can never finish
  await upFin
  assert.ok(performance.now() - t0 < 500, `FIN passed on after ${Math.round(performance.now() - t0)} ms`)
  await p.cl.takeAll()
  await until(p.isEnded, 1500)
  assert.ok(performance.now() - t0 < 500, `ended after ${Math.round(performance.now() - t0)} ms`)
  assert.equal(p.t.reason, 'shutdown')
})

test('both directions ended, both peers slow, then the upstream resets: the client still gets every byte queued for it', async () => {
  const cl = slowPeer(), up = slowPeer()
  let ended = false
  const t = new Tunnel(cl.sock, up.sock, {
    websocket: false, idleMs: 60_000, lifetimeMs: 60_000, up: new CounterChild(), down: new CounterChild(),
    onEnd: () => { ended = true },
  })
  t.start(Buffer.alloc(0))
  cleanup.push(() => t.end('idle'))
  const down = ['a', 'b', 'c'].map(s => Buffer.alloc(3000, s))
  for (const c of down) up.sock.push(c)
  cl.sock.push(Buffer.from('up-bytes'))
  up.sock.push(null)
  cl.sock.push(null)
  await until(() => t.reason !== '')
  assert.equal(t.reason, 'closed')
  assert.ok(cl.held.length > 0 && up.held.length > 0, 'neither peer has read everything yet')
  up.sock.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))
  await sleep(30)
  assert.equal(cl.sock.destroyed, false, 'the client socket is not cut by the upstream\'s reset')
  await cl.takeAll()
  await until(() => ended)
  assert.deepEqual(Buffer.concat(cl.received), Buffer.concat(down))
  assert.equal(t.reason, 'closed')
})
