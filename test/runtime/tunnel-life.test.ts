// test/runtime/tunnel-life.test.ts (issue 13 item 4): a tunnel's life, byte for byte, with raw sockets on both
// ends (a route tunnelling a made-up protocol `rawtcp`, so no WebSocket framing is involved): half-close each
// way, an error on one side destroying the other, the idle timeout and the lifetime bound, backpressure with a
// client that does not read (gw's memory stays bounded), Node's request timeout not cutting tunnels, and a
// reload that does not cut a tunnel (it keeps its snapshot until it ends).
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { afterHead, noTunnels, rawHeadServer } from '../helpers/tunnel.js'

type Behaviour = (s: Socket) => void
/** A raw upstream: reads the request head, answers 101 to `rawtcp`, then hands the socket to the behaviour the path names. */
function rawUpstream(behaviours: Record<string, Behaviour>): ReturnType<typeof rawHeadServer> {
  return rawHeadServer((s, target, _head, rest) => {
    s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n')
    behaviours['/' + target.split('?')[0].split('/')[1]](s)
    if (rest.length > 0) s.unshift(rest)
  })
}

/** Opens a raw tunnel: sends the upgrade head, resolves with the socket once the 101 head is read, and any bytes after it. */
function openRaw(port: number, path: string): Promise<{ s: Socket; after: Buffer; head: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    afterHead(s, (buf, end) => {
      s.pause()
      const head = buf.toString('latin1', 0, end)
      if (!head.startsWith('HTTP/1.1 101 ')) { reject(new Error(head)); return }
      resolve({ s, after: buf.subarray(end + 4), head })
    })
    s.on('error', reject)
    s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: rawtcp\r\n\r\n`)
  })
}

const readAll = (s: Socket, first: Buffer = Buffer.alloc(0)): Promise<Buffer> => new Promise(r => {
  const parts = [first]
  s.on('data', d => parts.push(d))
  s.once('end', () => r(Buffer.concat(parts)))
  s.resume()
})
/** Until the client socket is closed (a half-open client ends its side when gw ends the other). */
const closeOf = (s: Socket, withinMs = 10_000): Promise<void> => new Promise((r, reject) => {
  if (s.destroyed) { r(); return }
  const timer = setTimeout(() => reject(new Error(`the tunnel was not closed within ${withinMs} ms`)), withinMs)
  s.once('close', () => { clearTimeout(timer); r() })
  if (s.readableEnded) s.end(); else s.once('end', () => s.end())
})
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

const policy = (port: number, idle = '10s', lifetime = '1h'): string => `
upstream raw { replicas 127.0.0.1:${port} }
route raw {
  match path prefix "/" method GET
  timeout 2s
  upgrade rawtcp idle ${idle} lifetime ${lifetime}
  proxy raw
}
route short {
  match path prefix "/short" method GET
  timeout 2s
  upgrade rawtcp idle 1s lifetime 1h
  proxy raw
}
route brief {
  match path prefix "/brief" method GET
  timeout 2s
  upgrade rawtcp idle 10s lifetime 1500ms
  proxy raw
}`

let up: Awaited<ReturnType<typeof rawUpstream>>, gw: TestGateway
/** What the upstream read on each connection, by path. */
const got = new Map<string, Promise<Buffer>>()
before(async () => {
  up = await rawUpstream({
    // reads the client's bytes up to its FIN, then answers after it and ends
    '/half': s => { got.set('/half', new Promise(r => { const parts: Buffer[] = []; s.on('data', d => parts.push(d)); s.once('end', () => { r(Buffer.concat(parts)); setTimeout(() => s.end('pong after your FIN'), 100) }) })) },
    // ends its side first, then keeps reading what the client still sends
    '/upfin': s => { s.end('bye from upstream'); got.set('/upfin', new Promise(r => { const parts: Buffer[] = []; s.on('data', d => parts.push(d)); s.once('end', () => { r(Buffer.concat(parts)); s.destroy() }) })) },
    '/reset': s => { setTimeout(() => s.resetAndDestroy(), 100) },
    '/echo': s => { s.on('data', d => s.write(d)); s.on('end', () => s.end()) },
    '/short': s => { s.on('data', () => undefined) },
    '/brief': s => { s.on('data', d => s.write(d)) },
    // writes 64 MiB as fast as the tunnel lets it
    '/flood': s => {
      const chunk = Buffer.alloc(64 * 1024, 1)
      let sent = 0
      const pump = (): void => { while (sent < 64 * 1024 * 1024) { sent += chunk.length; if (!s.write(chunk)) { s.once('drain', pump); return } } s.end() }
      pump()
    },
  })
  gw = await startGateway(policy(up.port), { requestTimeoutMs: '1s', headersTimeoutMs: '1s' })
})
after(async () => { await gw.close(); up.server.close() })
beforeEach(async () => { await noTunnels(gw) })

test('half-close, client first: the client\'s FIN reaches the upstream after its bytes, and the upstream can still answer', async () => {
  const { s, after } = await openRaw(gw.running.address.port, '/half')
  s.end('ping and FIN')
  const back = await readAll(s, after)
  assert.equal((await got.get('/half'))!.toString(), 'ping and FIN')
  assert.equal(back.toString(), 'pong after your FIN')
  await closeOf(s)
})

test('half-close, upstream first: the upstream\'s FIN reaches the client, and the client can still send', async () => {
  const { s, after } = await openRaw(gw.running.address.port, '/upfin')
  const back = await readAll(s, after)
  assert.equal(back.toString(), 'bye from upstream')
  s.end('still talking after your FIN')
  assert.equal((await got.get('/upfin'))!.toString(), 'still talking after your FIN')
  await closeOf(s)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.ok((metric(m, 'gw_tunnels_closed_total', { route: 'raw', reason: 'closed' }) ?? 0) >= 2)
})

test('a reset on the upstream side destroys the client side (reason upstream_error)', async () => {
  const { s } = await openRaw(gw.running.address.port, '/reset')
  s.resume()
  s.on('error', () => undefined)
  await closeOf(s)
  await noTunnels(gw)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(m, 'gw_tunnels_closed_total', { route: 'raw', reason: 'upstream_error' }), 1)
})

test('idle: a tunnel with no byte either way for `idle` is closed (both sides), reason idle', async () => {
  const { s } = await openRaw(gw.running.address.port, '/short/x')
  s.resume()
  const t0 = performance.now()
  s.write('one byte burst') // activity, then silence
  await closeOf(s, 4000)
  const ms = performance.now() - t0
  assert.ok(ms >= 900 && ms < 3000, `closed after ${ms} ms (idle 1s)`)
  await noTunnels(gw)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(m, 'gw_tunnels_closed_total', { route: 'short', reason: 'idle' }), 1)
})

test('lifetime: a busy tunnel is still closed at its lifetime, reason lifetime', async () => {
  const { s } = await openRaw(gw.running.address.port, '/brief/x')
  s.resume()
  const t0 = performance.now()
  const ticker = setInterval(() => { if (!s.destroyed) s.write('tick') }, 100)
  await closeOf(s, 5000).finally(() => clearInterval(ticker))
  const ms = performance.now() - t0
  assert.ok(ms >= 1400 && ms < 3500, `closed after ${ms} ms (lifetime 1500ms)`)
  await noTunnels(gw)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(m, 'gw_tunnels_closed_total', { route: 'brief', reason: 'lifetime' }), 1)
})

test('Node\'s request and header timeouts (1s here) do not cut a tunnel', async () => {
  const { s, after } = await openRaw(gw.running.address.port, '/echo')
  const parts = [after]
  s.on('data', d => parts.push(d))
  s.resume()
  for (let i = 0; i < 6; i++) { s.write(`m${i};`); await sleep(400) }
  assert.equal(Buffer.concat(parts).toString(), 'm0;m1;m2;m3;m4;m5;')
  assert.ok(!s.destroyed)
  s.end()
  await closeOf(s)
})

test('backpressure: a client that does not read pauses the upstream; gw buffers at most about one socket buffer, and every byte arrives once it reads', async () => {
  const { s, after } = await openRaw(gw.running.address.port, '/flood')
  // the client reads nothing for a while: the upstream's 64 MiB must stay mostly where it is
  await sleep(1500)
  const t = [...gw.running.gateway.tunnels.live][0]
  assert.ok(t !== undefined)
  const relayed = t.bytesDown
  const buffered = t.client.writableLength
  assert.ok(buffered <= 1024 * 1024, `gw holds ${buffered} bytes for the client`)
  assert.ok(relayed < 32 * 1024 * 1024, `gw relayed ${relayed} of 64 MiB to a client that reads nothing`)
  const rss = process.memoryUsage().rss
  // then it reads: everything arrives, in order and complete
  const all = await readAll(s, after)
  assert.equal(all.length, 64 * 1024 * 1024)
  assert.equal(all.indexOf(0), -1)
  assert.ok(process.memoryUsage().rss - rss < 200 * 1024 * 1024)
  await closeOf(s)
})

test('a reload does not cut a tunnel: it keeps the snapshot it started with, which is retired only when the tunnel ends', async () => {
  const { s, after } = await openRaw(gw.running.address.port, '/echo')
  const parts = [after]
  s.on('data', d => parts.push(d))
  s.resume()
  const old = gw.running.gateway.active!
  // a different upstream definition: the old snapshot's upstream is retired with it
  await gw.reload(policy(up.port, '20s').replace('replicas', 'balance least_conn\n  replicas'))
  assert.notEqual(gw.running.gateway.active, old)
  assert.equal(old.retired, true)
  assert.equal(old.inFlight, 1, 'the tunnel holds the old snapshot')
  s.write('after reload')
  await sleep(200)
  assert.equal(Buffer.concat(parts).toString(), 'after reload')
  s.end()
  await closeOf(s)
  await noTunnels(gw)
  assert.equal(old.inFlight, 0)
  await gw.reload(policy(up.port))
})
