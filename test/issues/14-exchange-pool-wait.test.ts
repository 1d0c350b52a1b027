// Issue 14 (mutation target, upstream area), exchange.ts: how an attempt that never got a connection is judged.
// A route deadline that passes while the attempt is still connecting, with connections to spare, is the
// replica's timeout (504, charged); one that passes while it waited for a pooled connection that another
// attempt held when it was dispatched is the gateway's limit (503 upstream_pool_exhausted), even when that other
// attempt has ended in the meantime; and a pool_exhausted attempt neither counts as a failure nor, as a success
// would, resets the replica's failure streak.
//
// A replica whose connects hang: a listening socket that never accepts (a child process that blocks its only
// thread right after listen, backlog 1) with its accept queue filled, so the kernel drops every further SYN
// and a connect neither succeeds nor fails until the pool's connect_timeout.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange, type WireResponse } from '../helpers/wire.js'

// Blocked in Atomics.wait the thread runs no event loop, so nothing is accepted; it wakes each second only to
// exit once its parent is gone (a test process that died without its after hook) or after two minutes.
const BLOCKED = `const s = require('node:net').createServer()
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(s.address().port + '\\n')
  const parent = process.ppid, cell = new Int32Array(new SharedArrayBuffer(4))
  for (let i = 0; i < 120 && process.ppid === parent; i++) Atomics.wait(cell, 0, 0, 1000)
  process.exit(0)
})`

let hang: ChildProcess
const fillers: Socket[] = []
let hangPort: number
let pw: RecordingUpstream
let gw: TestGateway

/** Connects until one neither connects nor fails within 300 ms: from then on every connect hangs. */
async function fillAcceptQueue(port: number): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const s = connect(port, '127.0.0.1')
    fillers.push(s)
    s.on('error', () => undefined)
    const r = await new Promise<string>(resolve => {
      const t = setTimeout(() => resolve('hangs'), 300)
      s.once('connect', () => { clearTimeout(t); resolve('connected') })
      s.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(t); resolve(e.code ?? 'error') })
    })
    if (r === 'hangs') return
    if (r !== 'connected') throw new Error(`blocked listener: connect ${i} got ${r}`)
  }
  throw new Error('blocked listener: the accept queue never filled')
}

before(async () => {
  hang = spawn(process.execPath, ['-e', BLOCKED], { stdio: ['ignore', 'pipe', 'inherit'] })
  hangPort = await new Promise<number>((resolve, reject) => {
    hang.stdout!.once('data', d => resolve(Number(String(d).trim())))
    hang.once('exit', code => reject(new Error(`blocked listener exited with ${code}`)))
  })
  await fillAcceptQueue(hangPort)
  pw = await startRecordingUpstream([{ behaviour: r => r.target.includes('slowfail') ? { kind: 'answer', status: 503, delayMs: 300 }
    : r.target.includes('fail') ? { kind: 'answer', status: 503 } : { kind: 'answer' } }])
  gw = await startGateway(`
upstream one { replicas 127.0.0.1:${hangPort}; pool connections 1 connect_timeout 1s; health passive eject_after 1000 }
upstream two { replicas 127.0.0.1:${hangPort}; pool connections 1 connect_timeout 1s; health passive eject_after 1000 }
upstream pw { replicas ${pw.addrs}; pool connections 1; health passive eject_after 2 errors for 60s }
route one  { match path prefix "/one"; timeout 300ms; proxy one }
route two  { match path prefix "/two"; timeout 300ms; proxy two }
route wait { match path prefix "/wait"; timeout 100ms; proxy pw }
route pw   { match path prefix "/pw"; timeout 2s; proxy pw }
`)
})
after(async () => {
  await gw?.close()
  await pw?.close()
  for (const s of fillers) s.destroy()
  hang?.kill()
})

const send = (path: string): Promise<WireResponse> => wireExchange(gw.running.address.port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test'), { timeoutMs: 5000 })
const metrics = async () => (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(3000) })).text()
const outcome = (text: string, up: string, o: string) => metric(text, 'gw_upstream_requests_total', { upstream: up, outcome: o }) ?? 0

test('the route deadline passes while the only attempt is still connecting: a timeout of the replica (504), not pool_exhausted', async () => {
  const before_ = await metrics()
  const r = await send('/one/a')
  assert.equal(r.status, 504, r.text)
  assert.equal(JSON.parse(r.text).error, 'upstream_timeout')
  const after_ = await metrics()
  assert.equal(outcome(after_, 'one', 'timeout') - outcome(before_, 'one', 'timeout'), 1)
  assert.equal(outcome(after_, 'one', 'pool_exhausted') - outcome(before_, 'one', 'pool_exhausted'), 0)
})

test('an attempt queued behind a busy connection stays pool_exhausted (503) when the attempt ahead of it ended first', async () => {
  const first = send('/two/a') // takes the only connection (connecting, never done)
  await new Promise(r => setTimeout(r, 60))
  const queued = send('/two/b') // dispatched with the pool full; its deadline comes 60 ms after the first one's
  const [a, b] = await Promise.all([first, queued])
  assert.equal(a.status, 503, a.text)
  assert.equal(b.status, 503, `the queued attempt, when the first had already given its place back: ${b.status} ${b.text}`)
  assert.equal(JSON.parse(b.text).error, 'upstream_pool_exhausted')
})

test('a pool_exhausted attempt does not reset the failure streak: failure, pool wait, failure ejects at eject_after 2', async () => {
  assert.equal((await send('/pw/fail')).status, 503) // streak 1
  const holder = send('/pw/slowfail') // holds the only connection for 300 ms, then fails: streak 2
  while (pw.received.length < 2) await new Promise(r => setTimeout(r, 5))
  const queued = await send('/wait/x')
  assert.equal(queued.status, 503)
  assert.equal(JSON.parse(queued.text).error, 'upstream_pool_exhausted')
  assert.equal((await holder).status, 503)
  const next = await send('/pw/after')
  assert.equal(next.status, 503, 'two failures in a row, the pool wait between them counts as neither: ejected')
  assert.equal(JSON.parse(next.text).error, 'upstream_unavailable')
  assert.equal(pw.received.length, 2, 'the queued request and the last one never reached the replica')
})
