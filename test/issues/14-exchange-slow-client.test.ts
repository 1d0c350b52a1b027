// Issue 14 (mutation target, upstream area), exchange.ts: a client that stops reading a large response. After the
// pool's send_timeout without progress the gateway cuts that client's response (its connection closes), counts
// the attempt as send_timeout, logs client_send_timeout, and neither holds it against the replica nor counts it
// as a success (passive ejection's count of failures in a row goes on); a client that reads slowly but keeps
// reading gets the whole body.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { connect } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import { metric, startGateway } from '../helpers/gateway.js'
import { startRecordingUpstream } from '../helpers/recording-upstream.js'
import { req, WireConnection, wireExchange } from '../helpers/wire.js'

const BIG = 16 * 1024 * 1024

test('a client that stops reading is cut after send_timeout and not counted for or against the replica; one that keeps reading gets it all', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwp-14-slow-'))
  const body = Buffer.alloc(BIG, 0x61)
  const up = await startRecordingUpstream([{ behaviour: r => r.target.includes('big') ? { kind: 'answer', body, headers: [['content-type', 'application/octet-stream']] } : r.target.includes('fail') ? { kind: 'answer', status: 503 } : { kind: 'answer' } }])
  const gw = await startGateway(`
upstream big { replicas ${up.addrs}; health passive eject_after 2 errors for 60s; pool send_timeout 200ms }
route r { match path prefix "/"; timeout 10s; proxy big }
`, { accessLog: true, logDestination: join(dir, 'access.log') })
  const port = gw.running.address.port
  const scrape = async () => metric(await (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text(), 'gw_upstream_requests_total', { upstream: 'big', outcome: 'send_timeout' }) ?? 0
  const get = (path: string) => wireExchange(port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test'), { timeoutMs: 3000 })
  /** A client that reads the head and stops: resolves once the gateway has cut the exchange (send_timeout). */
  const stuck = async (path: string) => {
    const before = await scrape()
    const c = await WireConnection.open(port)
    await c.write(req(`GET ${path} HTTP/1.1`, 'Host: shop.test'))
    assert.equal((await c.read({ head: true, timeoutMs: 3000 })).status, 200)
    c.socket.pause() // stop reading
    const t0 = performance.now()
    while (await scrape() - before < 1 && performance.now() - t0 < 5000) await new Promise(r => setTimeout(r, 20))
    assert.equal(await scrape() - before, 1, 'the stalled exchange was cut and counted as send_timeout')
    assert.ok(performance.now() - t0 >= 150, 'not before send_timeout')
    c.close()
  }
  try {
    // slow but steady: pauses shorter than send_timeout, the whole body arrives
    await new Promise<void>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1')
      let got = 0
      let paused = 0
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`steady reader got ${got} bytes`)) }, 20_000)
      sock.on('error', reject)
      sock.on('connect', () => sock.write(req('GET /big/steady HTTP/1.1', 'Host: shop.test', 'Connection: close')))
      sock.on('data', (d: Buffer) => {
        got += d.length
        if (paused < 3 && got > (paused + 1) * 4 * 1024 * 1024) { paused++; sock.pause(); setTimeout(() => sock.resume(), 100) }
      })
      sock.on('end', () => { clearTimeout(timer); got > BIG ? resolve() : reject(new Error(`steady reader got ${got} bytes, the body is ${BIG}`)) })
    })
    // eject_after 2: a stuck client and a failure are not two failures
    await stuck('/big/stuck')
    assert.equal((await get('/fail')).status, 503)
    assert.equal((await get('/small')).status, 200, 'still in rotation')
    // a failure, a stuck client, a failure: two failures in a row, the stuck client between them resets nothing
    assert.equal((await get('/fail')).status, 503)
    await stuck('/big/stuck2')
    assert.equal((await get('/fail')).status, 503)
    const r = await get('/after')
    assert.equal(JSON.parse(r.text).error, 'upstream_unavailable', 'ejected')
  } finally {
    await gw.close()
    await up.close()
  }
  const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
  await rm(dir, { recursive: true, force: true })
  assert.equal(lines.find(l => l.path === '/big/stuck')?.reason, 'client_send_timeout')
  assert.equal(lines.find(l => l.path === '/big/steady')?.reason, undefined)
})
