// test/runtime/http1/upstream-pool.test.ts: the http1 engine's upstream pool (runtime/http1/upstream-pool.ts)
// against raw upstreams on node:net: connections are reused and counted ('connect'/'disconnect'), at most
// `connections` are open and further dispatches wait in order, idle connections close after the pool's idle
// time or the upstream's shorter Keep-Alive hint (never a longer one), connect failures and timeouts keep
// their codes, and close() finishes in-flight work while destroy() cuts it.
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { after, test } from 'node:test'
import { Http1Pool } from '../../../runtime/http1/upstream-pool.js'
import { deadPort } from '../../helpers/dead-address.js'
import { delay, ok, RawUpstream, Recorder, send, waitFor } from './upstream-helpers.js'

const ups: RawUpstream[] = []
async function upstream(onRequest: ConstructorParameters<typeof RawUpstream>[0]): Promise<RawUpstream> {
  const u = await new RawUpstream(onRequest).listen()
  ups.push(u)
  return u
}
after(async () => { for (const u of ups) await u.close() })

test('sequential requests reuse one connection; connect and disconnect are reported once each', async () => {
  const up = await upstream(c => c.socket.write(ok('hi')))
  const pool = up.pool()
  let connects = 0, disconnects = 0
  pool.on('connect', () => connects++).on('disconnect', () => disconnects++)
  for (let i = 0; i < 20; i++) {
    const o = await send(pool, { path: `/${i}`, headers: ['host', 'h'] })
    assert.equal(o.status, 200)
    assert.equal(o.body.toString(), 'hi')
  }
  assert.equal(up.conns.length, 1)
  assert.equal(up.requests.length, 20)
  assert.equal(connects, 1)
  await pool.close()
  assert.equal(disconnects, 1)
})

test('at most `connections` sockets: further dispatches queue and go out in order as connections free', async () => {
  const held: (() => void)[] = []
  const up = await upstream(c => { held.push(() => c.socket.write(ok('x'))) })
  const pool = up.pool({ connections: 2 })
  const order: number[] = []
  const all = Array.from({ length: 6 }, (_, i) => send(pool, { path: `/${i}`, headers: ['host', 'h'] }).then(o => { order.push(i); return o }))
  await waitFor(() => held.length === 2, 2000, 'two requests at the upstream')
  await delay(50)
  assert.equal(held.length, 2, 'the other four wait in the pool')
  assert.equal(up.conns.length, 2)
  while (order.length < 6) {
    if (held.length > 0) held.shift()!()
    await delay(10)
  }
  for (const o of await Promise.all(all)) assert.equal(o.status, 200)
  assert.equal(up.conns.length, 2, 'no third connection')
  assert.deepEqual(up.requests.map(r => r.split(' ')[1]).sort(), ['/0', '/1', '/2', '/3', '/4', '/5'])
  assert.deepEqual(order.slice(2), [2, 3, 4, 5], 'queued dispatches are answered in the order they were made')
  await pool.close()
})

test('an idle connection closes after the pool\'s idle time; a later request opens a new one', async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool({ idleMs: 150 })
  await send(pool, { headers: ['host', 'h'] })
  await waitFor(() => up.conns[0].closed, 2000, 'the idle connection to close')
  const o = await send(pool, { headers: ['host', 'h'] })
  assert.equal(o.status, 200)
  assert.equal(up.conns.length, 2)
  await pool.close()
})

test('Keep-Alive: timeout= shortens the idle time (less undici\'s 2 s margin), never lengthens it', async () => {
  // timeout=3: kept 1 s, not the pool's 30 s
  const short = await upstream(c => c.socket.write(ok('a', 'keep-alive: timeout=3\r\n')))
  const p1 = short.pool({ idleMs: 30_000 })
  await send(p1, { headers: ['host', 'h'] })
  const t0 = Date.now()
  await waitFor(() => short.conns[0].closed, 3000, 'the hinted idle time to pass')
  const kept = Date.now() - t0
  assert.ok(kept >= 800 && kept < 2500, `kept ${kept} ms for a 3 s hint`)
  await p1.close()
  // timeout=2 (or less): not reused at all
  const tiny = await upstream(c => c.socket.write(ok('b', 'Keep-Alive: timeout=2, max=100\r\n')))
  const p2 = tiny.pool()
  await send(p2, { headers: ['host', 'h'] })
  await send(p2, { headers: ['host', 'h'] })
  assert.equal(tiny.conns.length, 2, 'a connection about to expire is not reused')
  await p2.close()
  // timeout=60 with the pool's 200 ms: the pool's idle time holds
  const long = await upstream(c => c.socket.write(ok('c', 'keep-alive: timeout=60\r\n')))
  const p3 = long.pool({ idleMs: 200 })
  await send(p3, { headers: ['host', 'h'] })
  const t1 = Date.now()
  await waitFor(() => long.conns[0].closed, 3000, 'the pool\'s idle time to pass')
  assert.ok(Date.now() - t1 < 1500, 'the hint did not lengthen the idle time')
  await p3.close()
})

test('connection: close and HTTP/1.0 answers are not reused', async () => {
  const up = await upstream(c => {
    if (c.n === 1) c.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\nconnection: close\r\n\r\n1')
    else c.socket.write('HTTP/1.0 200 OK\r\ncontent-length: 1\r\n\r\n2')
  })
  const pool = up.pool()
  assert.equal((await send(pool, { headers: ['host', 'h'] })).body.toString(), '1')
  assert.equal((await send(pool, { headers: ['host', 'h'] })).body.toString(), '2')
  await send(pool, { headers: ['host', 'h'] })
  assert.equal(up.conns.length, 3)
  await pool.close()
})

test('a refused connect fails with ECONNREFUSED; the request was never written (onConnect not called)', async () => {
  const pool = new Http1Pool({ host: '127.0.0.1', port: deadPort(3), connections: 2, idleMs: 1000, connectTimeoutMs: 2000, bodyIdleMs: 1000 })
  const r = new Recorder()
  pool.dispatch({ method: 'POST', path: '/', headers: [], body: Buffer.from('x') }, r)
  const o = await r.done
  assert.equal(o.error?.code, 'ECONNREFUSED')
  assert.equal(r.connected, false)
  await pool.close()
})

// A listener that never accepts, its accept queue filled: connects hang until the connect timeout
// (as test/issues/14-exchange-pool-wait.test.ts).
const BLOCKED = `const s = require('node:net').createServer()
s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(s.address().port + '\\n')
  const parent = process.ppid, cell = new Int32Array(new SharedArrayBuffer(4))
  for (let i = 0; i < 60 && process.ppid === parent; i++) Atomics.wait(cell, 0, 0, 1000)
  process.exit(0)
})`

test('a connect that hangs fails with UND_ERR_CONNECT_TIMEOUT after the connect timeout', async () => {
  const child: ChildProcess = spawn(process.execPath, ['-e', BLOCKED], { stdio: ['ignore', 'pipe', 'inherit'] })
  const fillers: Socket[] = []
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', d => resolve(Number(String(d).trim())))
      child.once('exit', code => reject(new Error(`blocked listener exited with ${code}`)))
    })
    let hangs = false
    for (let i = 0; i < 8 && !hangs; i++) {
      const s = connect(port, '127.0.0.1')
      fillers.push(s)
      s.on('error', () => undefined)
      hangs = await new Promise<boolean>(resolve => {
        const t = setTimeout(() => resolve(true), 300)
        s.once('connect', () => { clearTimeout(t); resolve(false) })
        s.once('error', () => { clearTimeout(t); resolve(false) })
      })
    }
    assert.ok(hangs, 'the accept queue filled')
    const pool = new Http1Pool({ host: '127.0.0.1', port, connections: 1, idleMs: 1000, connectTimeoutMs: 200, bodyIdleMs: 1000 })
    const t0 = Date.now()
    const o = await send(pool, { headers: ['host', 'h'] })
    assert.equal(o.error?.code, 'UND_ERR_CONNECT_TIMEOUT')
    const took = Date.now() - t0
    assert.ok(took >= 180 && took < 1500, `${took} ms for a 200 ms connect timeout`)
    await pool.close()
  } finally {
    for (const s of fillers) s.destroy()
    child.kill()
  }
})

test('close() lets an in-flight exchange finish and refuses new dispatches; destroy() cuts one', async () => {
  const held: (() => void)[] = []
  const up = await upstream(c => { held.push(() => c.socket.write(ok('late'))) })
  const pool = up.pool()
  const inflight = send(pool, { headers: ['host', 'h'] })
  await waitFor(() => held.length === 1, 2000, 'the request at the upstream')
  let closed = false
  const closing = pool.close().then(() => { closed = true })
  const refused = await send(pool, { headers: ['host', 'h'] })
  assert.equal(refused.error?.code, 'UND_ERR_CLOSED')
  await delay(30)
  assert.equal(closed, false, 'close() waits for the in-flight exchange')
  held[0]()
  assert.equal((await inflight).body.toString(), 'late')
  await closing
  await waitFor(() => up.conns[0].closed, 2000, 'the connection to close')

  const p2 = up.pool()
  const cut = send(p2, { headers: ['host', 'h'] })
  await waitFor(() => held.length === 2, 2000, 'the second request at the upstream')
  await p2.destroy()
  assert.equal((await cut).error?.code, 'UND_ERR_DESTROYED')
})
