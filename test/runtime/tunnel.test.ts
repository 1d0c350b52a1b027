// test/runtime/tunnel.test.ts (issue 13 item 4): WebSocket upgrades become tunnels on routes that say
// `upgrade websocket`. Through real sockets: a `ws` client and a `ws` WebSocketServer upstream, and raw
// sockets where the exact bytes matter. The handshake: accepted and echoed both ways, refused (501) where
// the route does not tunnel, the route's stages on the upgrade request (401, 429; the upstream never sees
// a refused one), max_open (503), the upstream's own refusal passed on (403), the upstream down (502),
// the gateway headers on the 101, metrics and the access line.
import { test, before, after, beforeEach } from 'node:test'
import assert from 'node:assert/strict'
import type { WebSocket } from 'ws'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { nextMessage, noTunnels, openWs, rawExchange, wsUpstream, type Upstream } from '../helpers/tunnel.js'
import { deadAddress } from '../helpers/dead-address.js'
import { accessLine } from '../helpers/access-log.js'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const policy = (port: number, extra = ''): string => `
upstream chat { replicas 127.0.0.1:${port} }
upstream down { replicas ${deadAddress(1)} }
route ws {
  match path prefix "/ws" method GET
  timeout 2s
  upgrade websocket max_open 2
  proxy chat
}
route plain {
  match path prefix "/plain" method GET
  timeout 2s
  proxy chat
}
route limited {
  match path prefix "/limited" method GET
  ratelimit by ip 2 per 1m
  timeout 2s
  upgrade websocket
  proxy chat
}
route dead {
  match path prefix "/dead" method GET
  timeout 2s
  upgrade websocket
  proxy down
}
${extra}`

const wsHead = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: chat.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`

const KEY = 'k-tunnel-test-0123456789abcdef'
const dir = mkdtempSync(join(tmpdir(), 'gwp-tunnel-'))
const keysFile = join(dir, 'keys.txt')
const logFile = join(dir, 'access.log')
writeFileSync(keysFile, `sha256:${createHash('sha256').update(KEY).digest('hex')} partner-7\n`)
const keyed = `
keys partners {
  file "${keysFile}"
  header X-Api-Key
  forward consumer as X-Consumer-Id
}
route keyed {
  match path prefix "/keyed" method GET
  auth partners
  timeout 2s
  upgrade websocket
  proxy chat
}`

let up: Upstream, gw: TestGateway, wsBase = ''
before(async () => {
  up = await wsUpstream({ refuse: url => (url.startsWith('/ws/forbidden') ? 403 : null) })
  gw = await startGateway(policy(up.port, keyed), { accessLog: true, logDestination: logFile })
  wsBase = `ws://127.0.0.1:${gw.running.address.port}`
})
after(async () => { await gw.close(); up.wss.close(); up.server.close() })
beforeEach(async () => { await noTunnels(gw) })

test('an upgrade on a route with `upgrade websocket` is tunnelled: text and binary messages echo both ways, gateway headers on the 101', async () => {
  const ws = await openWs(`${wsBase}/ws/room?x=1`, { 'x-request-id': 'tunnel-test-1' })
  ws.send('hello')
  const a = await nextMessage(ws)
  assert.equal(a.data.toString(), 'hello')
  assert.equal(a.binary, false)
  const bin = Buffer.from([0, 1, 2, 250, 255])
  ws.send(bin)
  const b = await nextMessage(ws)
  assert.deepEqual(b.data, bin)
  assert.equal(b.binary, true)
  const big = Buffer.alloc(300_000, 7)
  ws.send(big)
  assert.deepEqual((await nextMessage(ws)).data, big)
  // what the upstream saw: the gateway's request headers, with the upgrade kept
  const h = up.handshakes.at(-1)!
  assert.equal(h.url, '/ws/room?x=1')
  assert.equal(h.headers.upgrade, 'websocket')
  assert.match(String(h.headers.connection), /upgrade/i)
  assert.equal(h.headers['x-request-id'], 'tunnel-test-1')
  assert.equal(h.headers['x-forwarded-for'], '127.0.0.1')
  assert.match(String(h.headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
  assert.ok(h.headers['sec-websocket-key'] !== undefined)
  const closed = new Promise<number>(r => ws.once('close', code => r(code)))
  ws.close(1000)
  assert.equal(await closed, 1000)
})

test('the 101 carries the request id and Server-Timing, and the upstream\'s Sec-WebSocket-Accept', async () => {
  const out = await rawExchange(gw.running.address.port, wsHead('/ws/raw', 'X-Request-Id: raw-101\r\n'), 500)
  const head = out.slice(0, out.indexOf('\r\n\r\n'))
  assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/)
  assert.match(head, /\r\nconnection: upgrade\r\n/i)
  assert.match(head, /\r\nupgrade: websocket\r\n/i)
  assert.match(head, /\r\nx-request-id: raw-101\r\n/i)
  assert.match(head, /\r\nserver-timing: gw;dur=[\d.]+, upstream;dur=[\d.]+\r\n/i)
  assert.match(head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i)
})

test('a route without `upgrade` answers 501 as before, and the upstream never sees the request', async () => {
  const before = up.handshakes.length
  const out = await rawExchange(gw.running.address.port, wsHead('/plain/x'))
  assert.match(out, /^HTTP\/1\.1 501 Not Implemented\r\n/)
  assert.match(out, /\r\nconnection: close\r\n/)
  assert.match(out, /"error":"upgrade_not_supported"/)
  assert.match(out, /\r\nx-request-id: /)
  // another protocol than the route allows: 501 too
  const mqtt = await rawExchange(gw.running.address.port, 'GET /ws/x HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: mqtt\r\n\r\n')
  assert.match(mqtt, /^HTTP\/1\.1 501 /)
  assert.equal(up.handshakes.length, before)
})

test('max_open: the third tunnel of a route with max_open 2 gets 503 tunnels_full; a slot frees when a tunnel closes', async () => {
  const a = await openWs(`${wsBase}/ws/a`), b = await openWs(`${wsBase}/ws/b`)
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(m, 'gw_tunnels_open', { route: 'ws' }), 2)
  await assert.rejects(openWs(`${wsBase}/ws/c`), (e: { status?: number; headers?: Record<string, string> }) => e.status === 503 && e.headers?.['retry-after'] === '1')
  const closed = new Promise(r => a.once('close', r))
  a.close()
  await closed
  for (let i = 0; i < 50 && gw.running.gateway.tunnels.size > 1; i++) await new Promise(r => setTimeout(r, 10))
  const c = await openWs(`${wsBase}/ws/c`)
  c.close(); b.close()
})

test('the upstream refusing the upgrade (403) is passed on as a normal answer, with the gateway headers, and the connection closed', async () => {
  const out = await rawExchange(gw.running.address.port, wsHead('/ws/forbidden'))
  assert.match(out, /^HTTP\/1\.1 403 Forbidden\r\n/)
  assert.match(out, /\r\nx-upstream: said-no\r\n/)
  assert.match(out, /\r\ncontent-length: 7\r\n/)
  assert.match(out, /\r\nconnection: close\r\n/)
  assert.match(out, /\r\nx-request-id: /)
  assert.ok(out.endsWith('\r\n\r\nnot you'), JSON.stringify(out))
})

test('an upstream that cannot be reached: 502 bad_gateway', async () => {
  const out = await rawExchange(gw.running.address.port, wsHead('/dead/x'))
  assert.match(out, /^HTTP\/1\.1 502 Bad Gateway\r\n/)
  assert.match(out, /"error":"bad_gateway"/)
})

test('the route\'s stages run on the upgrade request: a rate limit answers 429 on the bare socket, and the upstream never sees it', async () => {
  const seen = up.handshakes.length
  const ok1 = await openWs(`${wsBase}/limited/1`), ok2 = await openWs(`${wsBase}/limited/2`)
  const out = await rawExchange(gw.running.address.port, wsHead('/limited/3'))
  assert.match(out, /^HTTP\/1\.1 429 Too Many Requests\r\n/)
  assert.match(out, /\r\nretry-after: \d+\r\n/i)
  assert.match(out, /\r\nratelimit-policy: /i)
  assert.match(out, /\r\nconnection: close\r\n/)
  assert.equal(up.handshakes.length, seen + 2)
  ok1.close(); ok2.close()
})

test('metrics: tunnels open, bytes each way and closes by reason, per route', async () => {
  const before = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  const up0 = metric(before, 'gw_tunnel_bytes_total', { route: 'ws', direction: 'up' }) ?? 0
  const down0 = metric(before, 'gw_tunnel_bytes_total', { route: 'ws', direction: 'down' }) ?? 0
  const closed0 = metric(before, 'gw_tunnels_closed_total', { route: 'ws', reason: 'closed' }) ?? 0
  const ws = await openWs(`${wsBase}/ws/m`)
  ws.send(Buffer.alloc(1000, 1))
  await nextMessage(ws)
  const during = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(during, 'gw_tunnels_open', { route: 'ws' }), 1)
  // a masked client frame of 1000 bytes: 2 + 2 (length) + 4 (mask) + 1000; the echo comes back unmasked: 2 + 2 + 1000
  assert.equal((metric(during, 'gw_tunnel_bytes_total', { route: 'ws', direction: 'up' }) ?? 0) - up0, 1008)
  assert.equal((metric(during, 'gw_tunnel_bytes_total', { route: 'ws', direction: 'down' }) ?? 0) - down0, 1004)
  const closed = new Promise(r => ws.once('close', r))
  ws.close()
  await closed
  for (let i = 0; i < 50 && gw.running.gateway.tunnels.size > 0; i++) await new Promise(r => setTimeout(r, 10))
  const after = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(after, 'gw_tunnels_open', { route: 'ws' }), 0)
  assert.equal((metric(after, 'gw_tunnels_closed_total', { route: 'ws', reason: 'closed' }) ?? 0) - closed0, 1)
})

test('auth runs on the upgrade request: no key → 401 on the bare socket, never upstream; a key → tunnel, the key stripped and the consumer forwarded', async () => {
  const seen = up.handshakes.length
  const out = await rawExchange(gw.running.address.port, wsHead('/keyed/room', 'X-Request-Id: keyed-401\r\n'))
  assert.match(out, /^HTTP\/1\.1 401 Unauthorized\r\n/)
  assert.match(out, /"error":"unauthorized"/)
  assert.match(out, /\r\nconnection: close\r\n/)
  assert.equal(up.handshakes.length, seen)
  const ws = await openWs(`${wsBase}/keyed/room`, { 'x-api-key': KEY, 'x-consumer-id': 'spoofed' })
  const h = up.handshakes.at(-1)!
  assert.equal(h.headers['x-api-key'], undefined)
  assert.equal(h.headers['x-consumer-id'], 'partner-7')
  ws.send('hi')
  assert.equal((await nextMessage(ws)).data.toString(), 'hi')
  ws.close()
  // the refusal has its access line like any answer
  const line = await accessLine(logFile, 'keyed-401')
  assert.equal(line?.status, 401)
  assert.equal(line?.route, 'keyed')
})

test('a tunnel that ends has an access line: status 101, bytes each way, how long it was open and why it closed', async () => {
  const ws = await openWs(`${wsBase}/ws/logged`, { 'x-request-id': 'tunnel-logged' })
  ws.send('12345')
  await nextMessage(ws)
  await new Promise(r => setTimeout(r, 50))
  const closed = new Promise(r => ws.once('close', r))
  ws.close(1000)
  await closed
  const line = await accessLine(logFile, 'tunnel-logged')
  assert.ok(line !== undefined, 'no access line for the tunnel')
  assert.equal(line.status, 101)
  assert.equal(line.route, 'ws')
  assert.equal(line.path, '/ws/logged')
  const t = line.tunnel as { ms: number; up: number; down: number; reason: string }
  assert.equal(t.reason, 'closed')
  // 5-byte text frame masked (2 + 4 + 5) and a close frame with code 1000 masked (2 + 4 + 2) up; the echo (2 + 5) and the close reply (2 + 2) down
  assert.equal(t.up, 11 + 8)
  assert.equal(t.down, 7 + 4)
  assert.ok(t.ms >= 50, `tunnel open ${t.ms} ms`)
})
