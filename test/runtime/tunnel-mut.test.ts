// test/runtime/tunnel-mut.test.ts (issue 14): what the tunnel tests did not pin, found by mutating
// runtime/tunnel/{raw-response,tunnel,tunnels,websocket}.ts (lab/mutation/quick.mjs). Through real sockets: a gateway
// in front of a raw upstream for the answers written on an upgrade request's bare socket (exact bytes: one
// `connection: close`, an unknown status's reason, latin1 header bytes, the bare socket closed a second after the
// answer) and the bytes sent with the upgrade head or right behind the 101; an in-process Tunnel between two
// loopback socket pairs for the shutdown close frames (their reason text, a frame longer than 4 GiB in progress,
// a direction already ended) and the byte counters.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Server, type Socket } from 'node:net'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { noTunnels, rawHeadServer } from '../helpers/tunnel.js'
import { sleep, socketPair } from '../helpers/wire.js'
import { FrameTracker } from '../../runtime/tunnel/websocket.js'
import { Tunnel } from '../../runtime/tunnel/tunnel.js'
import { CounterChild } from '../../runtime/metrics.js'

type Behaviour = (s: Socket, rest: Buffer) => void
const SWITCH = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n'
const behaviours: Record<string, Behaviour> = {
  // a refusal with a status Node has no reason phrase for and a header value with a latin1 (obs-text) byte
  '/odd': s => s.end(Buffer.concat([Buffer.from('HTTP/1.1 599 Whatever\r\ncontent-length: 2\r\nx-note: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\nno')])),
  // 101 and its first bytes in one write
  '/eager': s => { s.write(SWITCH + 'hello right behind the 101'); s.on('data', d => s.write(d)); s.on('end', () => s.end()) },
  // records the Upgrade offer it got and switches to its first protocol
  '/offer': (s, rest) => {
    const offer = /\r\nupgrade: ([^\r]*)\r\n/i.exec(rest.toString('latin1'))![1]
    offers.push(offer)
    s.end(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${offer.split(',')[0]}\r\n\r\n`)
  },
  // echoes what it reads, the bytes that came with the request head first
  '/echo': (s, rest) => { s.write(SWITCH); if (rest.length > 0) s.write(rest); s.on('data', d => s.write(d)); s.on('end', () => s.end()) },
}

const offers: string[] = []
let up: { server: Server; port: number }, gw: TestGateway
before(async () => {
  up = await rawHeadServer((s, target, head, rest) => behaviours[target](s, target === '/offer' ? head : rest))
  gw = await startGateway(`
upstream raw { replicas 127.0.0.1:${up.port} }
route raw { match path prefix "/" method GET; timeout 2s; upgrade rawtcp websocket; proxy raw }
route plain { match path prefix "/plain" method GET; timeout 2s; proxy raw }
`)
})
after(async () => { await gw.close(); up.server.close() })

const upgradeHead = (path: string, extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n${extra}\r\n`

/** A client socket that keeps its side open (no FIN from it unless the test ends it). */
function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port: gw.running.address.port, host: '127.0.0.1', allowHalfOpen: true })
    s.once('connect', () => { s.off('error', reject); resolve(s) })
    s.once('error', reject)
  })
}
/** Bytes read until `until` matches what was read (or the socket ends). */
function readUntil(s: Socket, until: (b: Buffer) => boolean, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const timer = setTimeout(() => { done(); reject(new Error(`timed out; have ${JSON.stringify(buf.toString('latin1'))}`)) }, ms)
    const onData = (d: Buffer): void => { buf = Buffer.concat([buf, d]); if (until(buf)) { done(); resolve(buf) } }
    const onEnd = (): void => { done(); resolve(buf) }
    const done = (): void => { clearTimeout(timer); s.off('data', onData); s.off('end', onEnd) }
    s.on('data', onData)
    s.once('end', onEnd)
  })
}
const headers = (head: string): string[] => head.split('\r\n').slice(1).map(l => l.slice(0, l.indexOf(':')).toLowerCase())

test('an upgrade request with a body is refused 400 with exactly one `connection: close` (the reply\'s own is not repeated)', async () => {
  const s = await open()
  s.write(upgradeHead('/x', 'Content-Length: 3\r\n') + 'abc')
  const out = (await readUntil(s, () => false)).toString('latin1')
  s.destroy()
  assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/)
  const head = out.slice(0, out.indexOf('\r\n\r\n'))
  assert.deepEqual(headers(head).filter(h => h === 'connection'), ['connection'], head)
  assert.match(head, /\r\nconnection: close(\r\n|$)/)
})

test('an upstream refusal passes on its status with `Unknown` where Node has no reason phrase, and header bytes as they were (latin1)', async () => {
  const s = await open()
  s.write(upgradeHead('/odd'))
  const out = await readUntil(s, () => false)
  s.destroy()
  const text = out.toString('latin1')
  assert.ok(text.startsWith('HTTP/1.1 599 Unknown\r\n'), JSON.stringify(text.slice(0, 40)))
  const at = out.indexOf('x-note: caf')
  assert.ok(at > 0, text)
  assert.deepEqual([...out.subarray(at + 11, at + 14)], [0xe9, 0x0d, 0x0a], 'one byte 0xE9, not its UTF-8 form')
  assert.ok(text.endsWith('\r\n\r\nno'))
})

test('after an answer on the bare socket, a client that keeps its side open is disconnected about a second later', async () => {
  const s = await open()
  let closedAt = 0
  const closed = new Promise<void>(r => s.once('close', () => { closedAt = performance.now(); r() }))
  s.on('error', () => undefined)
  s.write(upgradeHead('/plain/x'))
  const out = await readUntil(s, b => b.includes('\r\n\r\n') && b.toString('latin1').endsWith('}'))
  const answeredAt = performance.now()
  assert.match(out.toString('latin1'), /^HTTP\/1\.1 501 /)
  // the client goes on writing (tunnel bytes nobody reads): once gw has let the socket go, a write gets a reset
  const probe = setInterval(() => { if (!s.destroyed) s.write('x') }, 50)
  await Promise.race([closed, sleep(4000)])
  clearInterval(probe)
  assert.ok(closedAt > 0, 'the gateway never closed the connection')
  assert.ok(closedAt - answeredAt >= 500, `closed ${Math.round(closedAt - answeredAt)} ms after the answer`)
  s.destroy()
})

test('bytes the client sent with the upgrade head reach the upstream first; bytes the upstream sent with its 101 reach the client', async () => {
  const s = await open()
  s.write(upgradeHead('/echo') + 'early bytes')
  const a = (await readUntil(s, b => b.toString('latin1').endsWith('early bytes'))).toString('latin1')
  assert.ok(a.startsWith('HTTP/1.1 101 Switching Protocols\r\n'), a)
  assert.equal(a.slice(a.indexOf('\r\n\r\n') + 4), 'early bytes')
  s.destroy()
  const e = await open()
  e.write(upgradeHead('/eager'))
  const b = (await readUntil(e, x => x.toString('latin1').endsWith('101'))).toString('latin1')
  assert.equal(b.slice(b.indexOf('\r\n\r\n') + 4), 'hello right behind the 101')
  e.destroy()
  await noTunnels(gw)
})

test('the Upgrade offer sent upstream is the client\'s protocols the route allows, as written: versions kept, spaces trimmed, comma-separated', async () => {
  const s = await open()
  s.on('end', () => s.end())
  s.write(upgradeHead('/offer').replace('Upgrade: rawtcp', 'Upgrade: h2c,  rawtcp/2 , websocket'))
  const a = (await readUntil(s, () => false)).toString('latin1')
  assert.ok(a.startsWith('HTTP/1.1 101 Switching Protocols\r\n'), a)
  assert.match(a, /\r\nupgrade: rawtcp\/2\r\n/)
  assert.deepEqual(offers, ['rawtcp/2, websocket'])
  await noTunnels(gw)
})

// ---- an in-process Tunnel between two loopback socket pairs: test client ↔ gw client side, gw upstream side ↔ test upstream
async function tunnelPair(websocket = true) {
  const [client, gwClient] = await socketPair()
  const [gwUpstream, upstream] = await socketPair()
  const counts = { up: new CounterChild(), down: new CounterChild() }
  let ended: Tunnel | null = null
  const t = new Tunnel(gwClient, gwUpstream, { websocket, idleMs: 60_000, lifetimeMs: 60_000, ...counts, onEnd: x => { ended = x } })
  t.start(Buffer.alloc(0))
  const got = { client: [] as Buffer[], upstream: [] as Buffer[] }
  client.on('data', d => got.client.push(d))
  upstream.on('data', d => got.upstream.push(d))
  client.on('error', () => undefined)
  upstream.on('error', () => undefined)
  const endedP = async (): Promise<Tunnel | null> => { for (let i = 0; i < 300 && ended === null; i++) await sleep(10); return ended }
  return { t, client, upstream, got, counts, ended: endedP }
}
const unmask = (f: Buffer): Buffer => { const key = f.subarray(2, 6); return Buffer.from([...f.subarray(6)].map((b, i) => b ^ key[i & 3])) }

test('shutdown close frames carry 1001 and the reason `gateway shutting down`, unmasked to the client and masked to the upstream', async () => {
  const p = await tunnelPair()
  p.client.on('end', () => p.client.end())
  p.upstream.on('end', () => p.upstream.end())
  p.t.shutdown()
  assert.ok(await p.ended() !== null)
  const reason = Buffer.from('gateway shutting down')
  const down = Buffer.concat(p.got.client)
  assert.deepEqual(down, Buffer.concat([Buffer.from([0x88, 2 + reason.length, 0x03, 0xe9]), reason]))
  const upf = Buffer.concat(p.got.upstream)
  assert.equal(upf[0], 0x88)
  assert.equal(upf[1], 0x80 | (2 + reason.length))
  assert.deepEqual(unmask(upf), Buffer.concat([Buffer.from([0x03, 0xe9]), reason]))
  assert.equal(p.t.reason, 'shutdown')
})

test('a shutdown during a frame longer than 4 GiB waits for its end: no close frame inside it, the tunnel is cut after the grace', async () => {
  const p = await tunnelPair()
  // a binary frame announcing 2^32 + 3 bytes (64-bit length), of which 10 are sent
  const head = Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 3])
  p.upstream.write(Buffer.concat([head, Buffer.alloc(10, 7)]))
  for (let i = 0; i < 100 && Buffer.concat(p.got.client).length < 20; i++) await sleep(10)
  const t0 = performance.now()
  p.t.shutdown()
  await sleep(100)
  p.upstream.write(Buffer.alloc(50, 8)) // more of the same frame: relayed, still no frame boundary
  let closedAt = 0
  p.client.once('end', () => { closedAt = performance.now() })
  assert.ok(await p.ended() !== null)
  for (let i = 0; i < 100 && closedAt === 0; i++) await sleep(10)
  const down = Buffer.concat(p.got.client)
  assert.deepEqual(down, Buffer.concat([head, Buffer.alloc(10, 7), Buffer.alloc(50, 8)]), 'the frame\'s bytes and nothing else')
  assert.ok(closedAt - t0 >= 600, `cut ${Math.round(closedAt - t0)} ms after the shutdown`)
  assert.equal(p.counts.down.value, 70)
  assert.equal(p.t.bytesDown, 70)
  assert.equal(p.t.reason, 'shutdown')
})

test('a frame tracker counts a 64-bit payload length in full', () => {
  const f = new FrameTracker()
  f.feed(Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])) // 2^32 bytes announced
  assert.equal(f.atBoundary, false)
  assert.equal(f.feed(Buffer.alloc(100), true), 100, 'no boundary in the next 100 bytes')
  assert.equal(f.atBoundary, false)
})

test('a shutdown after the client has half-closed: the client still gets its close frame, the upstream only the FIN it already had', async () => {
  const p = await tunnelPair()
  const upEnded = new Promise(r => p.upstream.once('end', r))
  p.client.end()
  await upEnded
  p.t.shutdown()
  const clientEnded = new Promise(r => p.client.once('end', r))
  await clientEnded
  p.upstream.end()
  assert.ok(await p.ended() !== null)
  assert.equal(Buffer.concat(p.got.upstream).length, 0, 'no close frame behind the FIN')
  const down = Buffer.concat(p.got.client)
  assert.equal(down[0], 0x88)
  assert.equal(down.readUInt16BE(2), 1001)
  assert.equal(p.t.reason, 'shutdown')
})
