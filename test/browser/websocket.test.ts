// test/browser/websocket.test.ts (issue 13 item 4): WebSockets as a browser opens them. Debian's Chromium, driven
// by playwright-core (headless, no download), loads a page from a site and opens `new WebSocket(…)` to the
// gateway, which tunnels it to a `ws` echo upstream: text and binary messages go both ways, the page sees the
// close code the upstream chose, and the gateway counts the tunnel. A route without `upgrade` is refused (the
// browser sees the handshake fail). Skips only when /usr/bin/chromium is absent (.ci/run installs it).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { browserSkip, openBrowser, type Browser } from '../helpers/browser.js'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { wsUpstream, type Upstream } from '../helpers/tunnel.js'

const skip = browserSkip('the WebSocket browser test')

let up: Upstream, site: Server, gw: TestGateway, browser: Browser, page: Page
let wsUrl = ''

before(async () => {
  if (skip) return
  up = await wsUpstream()
  // the upstream closes with 4000 when asked to, so the page can see a close code chosen upstream
  up.wss.on('connection', ws => ws.on('message', d => { if (d.toString() === 'close please') ws.close(4000, 'as you wish') }))
  site = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>page</title><p>websocket caller</p>') })
  site.listen(0, '127.0.0.1')
  await new Promise(r => site.once('listening', r))
  gw = await startGateway(`
upstream chat { replicas 127.0.0.1:${up.port} }
route chat {
  match path prefix "/chat" method GET
  ratelimit by ip 100 per 1s
  timeout 2s
  upgrade websocket max_open 10 idle 1m
  proxy chat
}
route plain {
  match path prefix "/plain" method GET
  timeout 2s
  proxy chat
}
`)
  wsUrl = `ws://localhost:${gw.running.address.port}`
  browser = await openBrowser(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`)
  page = browser.page
})

after(async () => {
  if (skip) return
  await browser?.close()
  await gw?.close()
  up?.wss.close(); up?.server.close(); site?.close()
})

test('the page opens a WebSocket through gw: text and binary messages echo, and it sees the close the upstream chose', { skip }, async () => {
  const r = await page.evaluate(async (url: string) => {
    const ws = new WebSocket(url)
    ws.binaryType = 'arraybuffer'
    const events: unknown[] = []
    const next = (): Promise<MessageEvent> => new Promise(res => ws.addEventListener('message', e => res(e), { once: true }))
    await new Promise<void>((res, rej) => { ws.onopen = () => res(); ws.onerror = () => rej(new Error('websocket error')) })
    ws.send('hello from the page')
    events.push((await next()).data)
    ws.send(new Uint8Array([0, 1, 2, 253, 254, 255]))
    events.push([...new Uint8Array((await next()).data as ArrayBuffer)])
    const big = 'x'.repeat(200_000)
    ws.send(big)
    events.push(((await next()).data as string).length)
    const closed = new Promise<{ code: number; reason: string; wasClean: boolean }>(res => { ws.onclose = e => res({ code: e.code, reason: e.reason, wasClean: e.wasClean }) })
    ws.send('close please')
    return { events, close: await closed }
  }, `${wsUrl}/chat/room`)
  assert.deepEqual(r.events, ['hello from the page', [0, 1, 2, 253, 254, 255], 200_000])
  assert.deepEqual(r.close, { code: 4000, reason: 'as you wish', wasClean: true })
  const h = up.handshakes.at(-1)!
  assert.equal(h.url, '/chat/room')
  assert.match(String(h.headers.origin), /^http:\/\/127\.0\.0\.1:\d+$/, 'the browser\'s Origin reaches the upstream')
  assert.ok(h.headers['x-request-id'] !== undefined)
  for (let i = 0; i < 100 && gw.running.gateway.tunnels.size > 0; i++) await new Promise(res => setTimeout(res, 10))
  const m = await (await fetch(`${gw.adminUrl}/metrics`)).text()
  assert.equal(metric(m, 'gw_tunnels_open', { route: 'chat' }), 0)
  assert.equal(metric(m, 'gw_tunnels_closed_total', { route: 'chat', reason: 'closed' }), 1)
  assert.ok((metric(m, 'gw_tunnel_bytes_total', { route: 'chat', direction: 'up' }) ?? 0) > 200_000)
  assert.ok((metric(m, 'gw_tunnel_bytes_total', { route: 'chat', direction: 'down' }) ?? 0) > 200_000)
})

test('a route without `upgrade`: the handshake fails in the browser (gw answers 501) and the upstream never sees it', { skip }, async () => {
  const before = up.handshakes.length
  const r = await page.evaluate(async (url: string) => new Promise<{ opened: boolean; code: number }>(res => {
    const ws = new WebSocket(url)
    let opened = false
    ws.onopen = () => { opened = true }
    ws.onclose = e => res({ opened, code: e.code })
  }), `${wsUrl}/plain/room`)
  assert.deepEqual(r, { opened: false, code: 1006 })
  assert.equal(up.handshakes.length, before)
})
