// test/runtime/http1/connection-aborts.test.ts: how a response the client never received whole is recorded on
// the http1 engine (runtime/http1/connection.ts `written`: a failed last write closes the response, it does not
// finish it). A client that resets mid-download gets an access line saying client_aborted, one that reads to
// the end an ordinary one (no reason, not marked aborted); read from the log file after the gateway closed (issue 14).
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { startGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream } from '../../helpers/recording-upstream.js'
import { req, WireConnection } from '../../helpers/wire.js'

test('a client reset mid-download is logged client_aborted; a whole download is not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwp-conn-aborts-'))
  const up = await startRecordingUpstream(1)
  up.replicas[0].behave({ kind: 'answer', body: Buffer.alloc(8 << 20, 'z') })
  const gw = await startGateway(`upstream u { replicas ${up.addrs} }\nroute up { match path prefix "/"; timeout 5s; proxy u }\n`,
    { engine: 'http1', accessLog: true, logDestination: join(dir, 'access.log') })
  try {
    const whole = await WireConnection.open(gw.running.address.port)
    const r = await whole.send(req('GET /whole HTTP/1.1', 'Host: h'), { timeoutMs: 10_000 })
    assert.equal(r.body.length, 8 << 20)
    whole.close()
    const cut = await WireConnection.open(gw.running.address.port)
    cut.socket.pause()
    await cut.write(req('GET /cut HTTP/1.1', 'Host: h'))
    await new Promise(res => setTimeout(res, 300))
    cut.socket.resetAndDestroy()
    await new Promise(res => setTimeout(res, 300))
  } finally { await gw.close(); await up.close() }
  const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
  await rm(dir, { recursive: true, force: true })
  const at = (path: string) => lines.find(l => l.path === path)
  assert.ok(at('/whole') && at('/cut'), JSON.stringify(lines))
  assert.equal(at('/whole')!.reason ?? null, null)
  assert.equal(at('/whole')!.aborted ?? false, false)
  assert.equal(at('/cut')!.reason, 'client_aborted')
  assert.equal(at('/cut')!.aborted, true)
})

test('pipelined answers still queued in the gateway when the client resets are logged aborted, the ones it read are not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gwp-conn-aborts-'))
  const big = 'r'.repeat(64 * 1024)
  const gw = await startGateway(`route own { match path prefix "/"; respond 200 text "${big}" }\n`,
    { engine: 'http1', accessLog: true, logDestination: join(dir, 'access.log') })
  try {
    const c = await WireConnection.open(gw.running.address.port)
    const first = await c.send(req('GET /first HTTP/1.1', 'Host: h'))
    assert.equal(first.body.length, big.length)
    c.socket.pause()
    // 150 × 64 KiB: far more than the socket buffers hold while the client reads nothing
    let burst = ''
    for (let i = 0; i < 150; i++) burst += req(`GET /p${i} HTTP/1.1`, 'Host: h')
    await c.write(burst)
    await new Promise(res => setTimeout(res, 500))
    c.socket.resetAndDestroy()
    await new Promise(res => setTimeout(res, 300))
  } finally { await gw.close() }
  const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
  await rm(dir, { recursive: true, force: true })
  assert.equal(lines.find(l => l.path === '/first')?.aborted ?? false, false)
  const burst = lines.filter(l => String(l.path).startsWith('/p'))
  const aborted = burst.filter(l => l.aborted === true).length
  assert.ok(aborted > 0, `no pipelined answer was logged aborted (${burst.length} lines)`)
  assert.equal(burst.every(l => l.status === 200), true)
})
