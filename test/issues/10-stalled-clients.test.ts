// test/issues/10-stalled-clients.test.ts: clients that stop reading cannot exhaust an upstream's pool into a
// health ejection (issue 10 item 2). Five raw sockets request a 4 GiB download and never read it, against a
// pool of 4: the other route to that upstream keeps answering 200, or 503 upstream_pool_exhausted while every
// connection is pinned, never 504 or upstream_unavailable; the replica stays healthy; after the pool's
// send_timeout the stalled downloads are cut, their connections released, and the other route gets 200.
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { Agent, request } from 'undici'
import { startGateway, metric, type TestGateway } from '../helpers/gateway.js'
import { metricsText, tally, waitFor } from '../runtime/fixtures.js'

const CHUNK = Buffer.alloc(64 * 1024, 0x61)
let upstream: Server
let gw: TestGateway
/** send_timeout 400ms, for a client that reads slowly but steadily. */
let slowGw: TestGateway
const agent = new Agent({ connections: 8 })
const bigResponses = new Set<ServerResponse>()
let bigCut = 0
const stalled: Socket[] = []

/** GET /big?bytes=N streams N bytes with backpressure; anything else is a small 200. */
function serveUpstream(): Promise<number> {
  upstream = createServer((req, res) => {
    if (!req.url!.startsWith('/big')) { res.end('ok'); return }
    let left = Number(new URL(req.url!, 'http://x').searchParams.get('bytes'))
    bigResponses.add(res)
    res.once('close', () => { bigResponses.delete(res); if (left > 0) bigCut++ })
    res.writeHead(200, { 'content-length': String(left) })
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length)
        left -= n
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) { res.once('drain', pump); return }
      }
      res.end()
    }
    pump()
  })
  return new Promise(r => upstream.listen(0, '127.0.0.1', () => r((upstream.address() as { port: number }).port)))
}

before(async () => {
  const port = await serveUpstream()
  gw = await startGateway(`
upstream web {
  replicas 127.0.0.1:${port}
  pool connections 4 send_timeout 1500ms
  health passive eject_after 3 errors for 30s
}
route big { match path prefix "/big"; timeout 1s; proxy web }
route ok  { match path prefix "/ok"; timeout 300ms; proxy web }
`)
  slowGw = await startGateway(`
upstream web { replicas 127.0.0.1:${port}; pool connections 4 send_timeout 400ms }
route big { match path prefix "/big"; timeout 1s; proxy web }
`)
})
after(async () => {
  for (const s of stalled) s.destroy()
  await agent.destroy()
  await gw.close()
  await slowGw.close()
  upstream.closeAllConnections()
  await new Promise<void>(r => upstream.close(() => r()))
})

async function ok(): Promise<{ status: number; error: string }> {
  const res = await request(gw.url + '/ok', { dispatcher: agent })
  const text = await res.body.text()
  return { status: res.statusCode, error: res.statusCode === 200 ? '' : (JSON.parse(text) as { error: string }).error }
}

const m = async (name: string, labels: Record<string, string>) => metric(await metricsText(gw), name, labels) ?? 0

test('five clients that never read, pool of 4: the other route gets 200 or pool_exhausted, never an ejection; send_timeout frees the pool', async () => {
  assert.equal((await ok()).status, 200)
  const port = gw.running.address.port
  for (let i = 0; i < 5; i++) {
    const s = connect(port, '127.0.0.1')
    s.on('error', () => undefined)
    s.pause() // never read: the kernel buffers fill, then the gateway's writes are refused
    s.write('GET /big?bytes=4294967296 HTTP/1.1\r\nHost: gw.test\r\n\r\n')
    stalled.push(s)
  }
  await waitFor(() => bigResponses.size === 4, 3000, 'four downloads to hold the four pool connections')
  const t0 = performance.now()
  const seen: string[] = []
  // While the downloads stall (send_timeout 1.5 s) and a while after they are cut.
  while (performance.now() - t0 < 3000) {
    const a = await ok()
    seen.push(a.status === 200 ? '200' : `${a.status} ${a.error}`)
  }
  const counts = JSON.stringify(tally(seen))
  const bad = seen.filter(s => s !== '200' && s !== '503 upstream_pool_exhausted')
  assert.deepEqual(bad.slice(0, 5), [], `the other route must answer 200 or 503 upstream_pool_exhausted: ${counts}`)
  assert.ok(seen.includes('503 upstream_pool_exhausted'), `the pool was exhausted for a while: ${counts}`)
  assert.equal(seen.at(-1), '200', 'the pool recovered once the stalled downloads were cut')
  assert.equal(await m('gw_upstream_replica_healthy', { upstream: 'web' }), 1, 'the replica was never ejected')
  assert.ok(await m('gw_upstream_requests_total', { upstream: 'web', outcome: 'pool_exhausted' }) >= 1)
  assert.equal(await m('gw_upstream_requests_total', { upstream: 'web', outcome: 'timeout' }), 0, 'waiting for the pool is not an upstream timeout')
  // the four stalled downloads were cut by the send timeout and their upstream requests aborted
  await waitFor(() => bigCut === 4 && bigResponses.size === 0, 2000, 'the four stalled downloads to be cut')
  assert.equal(await m('gw_upstream_requests_total', { upstream: 'web', outcome: 'send_timeout' }), 4)
  for (let i = 0; i < 10; i++) assert.equal((await ok()).status, 200)
})

test('a slow but steady reader is never cut: send_timeout bounds a stall, not the download', async () => {
  // 32 MiB read 2 MiB per 100 ms tick: the gateway's writes are refused between ticks (many stalls, each
  // shorter than send_timeout 400ms), and the download takes several send_timeouts in all. The pace is set in
  // bytes, not in time spent reading: a 5 ms burst could drain the whole body on a fast loopback.
  const bytes = 32 * 1024 * 1024
  const cut0 = bigCut
  const s = connect(slowGw.running.address.port, '127.0.0.1')
  stalled.push(s)
  s.pause()
  s.write(`GET /big?bytes=${bytes} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n`)
  let got = 0
  const t0 = performance.now()
  const done = new Promise<void>((resolve, reject) => { s.once('close', () => resolve()); s.once('error', reject) })
  let allowance = 0
  s.on('data', (c: Buffer) => { got += c.length; if (got >= allowance) s.pause() })
  s.pause()
  const tick = setInterval(() => { allowance = got + 2 * 1024 * 1024; s.resume() }, 100)
  await done
  clearInterval(tick)
  const ms = performance.now() - t0
  const cuts = await metric(await metricsText(slowGw), 'gw_upstream_requests_total', { upstream: 'web', outcome: 'send_timeout' }) ?? 0
  assert.equal(cuts, 0, `no send_timeout cut (body ${got} of ${bytes} bytes after ${Math.round(ms)} ms)`)
  assert.ok(got > bytes, `the whole body arrived (${got} bytes with the head, body ${bytes})`)
  assert.ok(ms > 800, `the download outlasted two send_timeouts (${Math.round(ms)} ms)`)
  assert.equal(bigCut, cut0, 'the upstream response was not cut')
})
