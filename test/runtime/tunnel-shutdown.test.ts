// test/runtime/tunnel-shutdown.test.ts (issue 13 item 4): what a gateway shutdown (SIGTERM) does to tunnels. They
// stay open through the drain (the drain does not half-close them as idle connections); at the drain deadline a
// WebSocket tunnel gets a close frame 1001 each way (unmasked to the client, masked to the upstream: each side
// sees a valid frame from its peer and closes cleanly) and any other tunnel is closed; the shutdown report
// counts them. Also the frame follower the close frames depend on: a close frame never lands inside a frame.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'
import { metric, startGateway } from '../helpers/gateway.js'
import { nextMessage, openWs, wsUpstream } from '../helpers/tunnel.js'
import { socketPair } from '../helpers/wire.js'
import { FrameTracker, closeFrame, GOING_AWAY } from '../../runtime/tunnel/websocket.js'

test('at the drain deadline a WebSocket tunnel is closed with 1001 on both sides, a raw tunnel is closed, and the report counts both', async () => {
  const up = await wsUpstream()
  // a raw upstream for a non-WebSocket tunnel
  const raw = createServer({ allowHalfOpen: true }, s => {
    s.once('data', () => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n'))
    s.on('error', () => undefined)
  })
  raw.listen(0, '127.0.0.1')
  await new Promise(r => raw.once('listening', r))
  const gw = await startGateway(`
upstream chat { replicas 127.0.0.1:${up.port} }
upstream raw { replicas 127.0.0.1:${(raw.address() as AddressInfo).port} }
route ws { match path prefix "/ws" method GET; timeout 2s; upgrade websocket; proxy chat }
route raw { match path prefix "/raw" method GET; timeout 2s; upgrade rawtcp; proxy raw }
`, { drainTimeoutMs: '800ms' })
  try {
    const ws = await openWs(`ws://127.0.0.1:${gw.running.address.port}/ws/x`)
    ws.send('before')
    assert.equal((await nextMessage(ws)).data.toString(), 'before')
    const closed = new Promise<{ code: number; at: number }>(r => ws.once('close', code => r({ code, at: performance.now() })))
    const s: Socket = connect(gw.running.address.port, '127.0.0.1')
    s.on('error', () => undefined)
    s.write('GET /raw HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n')
    await new Promise(r => s.once('data', r))
    const rawClosed = new Promise(r => s.once('close', r))
    s.on('end', () => s.end())
    s.resume()
    const t0 = performance.now()
    const shutdown = gw.running.shutdown('SIGTERM')
    // during the drain the tunnel still works
    await new Promise(r => setTimeout(r, 400))
    ws.send('during the drain')
    assert.equal((await nextMessage(ws)).data.toString(), 'during the drain')
    const result = await shutdown
    const c = await closed
    assert.equal(c.code, 1001, 'the client got a close frame 1001')
    assert.ok(c.at - t0 >= 700, `closed ${Math.round(c.at - t0)} ms after the signal (deadline 800 ms)`)
    await rawClosed
    for (let i = 0; i < 100 && up.closes.length === 0; i++) await new Promise(r => setTimeout(r, 10))
    assert.deepEqual(up.closes, [1001], 'the upstream got a (masked, valid) close frame 1001')
    assert.equal(result.tunnels, 2)
    const m = gw.running.gateway.metrics
    const text = await m.registry.metrics()
    assert.equal(metric(text, 'gw_tunnels_closed_total', { route: 'ws', reason: 'shutdown' }), 1)
    assert.equal(metric(text, 'gw_tunnels_closed_total', { route: 'raw', reason: 'shutdown' }), 1)
  } finally {
    await gw.close()
    up.wss.close()
    up.server.close()
    raw.close()
  }
})

test('frame boundaries: a close frame is only ever put between frames, whatever the chunking', () => {
  // three frames: a short masked text frame, a 300-byte one (16-bit length), a 70000-byte one (64-bit length)
  const frame = (len: number, masked: boolean): Buffer => {
    const hdr = len < 126 ? Buffer.from([0x82, (masked ? 0x80 : 0) | len])
      : len < 65536 ? Buffer.from([0x82, (masked ? 0x80 : 0) | 126, len >> 8, len & 255])
      : Buffer.concat([Buffer.from([0x82, (masked ? 0x80 : 0) | 127]), (() => { const b = Buffer.alloc(8); b.writeUInt32BE(len, 4); return b })()])
    return Buffer.concat([hdr, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(len, 9)])
  }
  const frames = [frame(5, true), frame(300, false), frame(70_000, true), frame(0, false)]
  const stream = Buffer.concat(frames)
  const boundaries = new Set<number>([0])
  let acc = 0
  for (const f of frames) { acc += f.length; boundaries.add(acc) }
  for (const size of [1, 2, 3, 7, 13, 100, 4096, stream.length]) {
    // fed in chunks of `size`, the tracker is at a boundary exactly at the frame ends
    const t = new FrameTracker()
    for (let i = 0; i < stream.length; i += size) {
      const chunk = stream.subarray(i, Math.min(stream.length, i + size))
      t.feed(chunk)
      assert.equal(t.atBoundary, boundaries.has(i + chunk.length), `chunk size ${size}, after byte ${i + chunk.length}`)
    }
    // stopping at the next boundary from anywhere inside the second frame lands at its end
    const s2 = new FrameTracker()
    s2.feed(stream.subarray(0, frames[0].length + 10))
    const rest = stream.subarray(frames[0].length + 10)
    assert.equal(s2.feed(rest, true), frames[1].length - 10)
    assert.ok(s2.atBoundary)
  }
  // the close frames: 1001, unmasked to a client, masked to a server
  const down = closeFrame(GOING_AWAY, false)
  assert.equal(down[0], 0x88)
  assert.equal(down[1] & 0x80, 0)
  assert.equal(down.readUInt16BE(2), 1001)
  const upf = closeFrame(GOING_AWAY, true)
  assert.equal(upf[1] & 0x80, 0x80)
  const key = upf.subarray(2, 6)
  assert.equal(((upf[6] ^ key[0]) << 8) | (upf[7] ^ key[1]), 1001)
})

test('a shutdown in the middle of a frame: the frame is finished first, then the close frame follows it', async () => {
  const { Tunnel } = await import('../../runtime/tunnel/tunnel.js')
  const { CounterChild } = await import('../../runtime/metrics.js')
  // two loopback socket pairs: test client ↔ gw client side, gw upstream side ↔ test upstream
  const [testClient, gwClient] = await socketPair()
  const [gwUpstream, testUpstream] = await socketPair()
  let ended = false
  const t = new Tunnel(gwClient, gwUpstream, { websocket: true, idleMs: 60_000, lifetimeMs: 60_000, up: new CounterChild(), down: new CounterChild(), onEnd: () => { ended = true } })
  t.start(Buffer.alloc(0))
  const got: Buffer[] = []
  testClient.on('data', d => got.push(d))
  testClient.on('end', () => testClient.end())
  const upstreamGot: Buffer[] = []
  testUpstream.on('data', d => upstreamGot.push(d))
  // a 1000-byte binary frame from the upstream, of which only the header and 400 bytes are sent before the shutdown
  const frame = Buffer.concat([Buffer.from([0x82, 126, 0x03, 0xe8]), Buffer.alloc(1000, 5)])
  testUpstream.write(frame.subarray(0, 404))
  await new Promise(r => setTimeout(r, 100))
  t.shutdown()
  await new Promise(r => setTimeout(r, 100))
  assert.equal(Buffer.concat(got).length, 404, 'nothing is put inside the frame')
  testUpstream.write(frame.subarray(404)) // the rest of the frame, then more that must not be relayed
  testUpstream.end(Buffer.from([0x81, 0x02, 0x68, 0x69]))
  await new Promise(r => testClient.once('close', r))
  const all = Buffer.concat(got)
  assert.deepEqual(all.subarray(0, frame.length), frame, 'the frame in progress arrives whole')
  const close = all.subarray(frame.length)
  assert.equal(close[0], 0x88, 'then a close frame')
  assert.equal(close.readUInt16BE(2), 1001)
  assert.equal(close.length, 2 + close[1], 'and nothing after it')
  for (let i = 0; i < 100 && !ended; i++) await new Promise(r => setTimeout(r, 10))
  assert.equal(t.reason, 'shutdown')
  // the upstream got a masked close frame 1001 (nothing was in flight that way)
  const toUp = Buffer.concat(upstreamGot)
  assert.equal(toUp[0], 0x88)
  assert.equal(toUp[1] & 0x80, 0x80)
  assert.equal(((toUp[6] ^ toUp[2]) << 8) | (toUp[7] ^ toUp[3]), 1001)
  testUpstream.destroy()
})
