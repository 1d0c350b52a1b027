// test/runtime/http1/upstream-pool-mut.test.ts: what the first Stryker run of runtime/http1/upstream-pool.ts
// (issue 14, area engine) left alive, pinned through real sockets: the Host a request without one gets
// (brackets for IPv6, no port for 80, as undici), `connections: 0` still opens one socket, the refusals after
// close()/destroy() (codes, messages, return value), close() called twice, queued dispatches failed by
// destroy(), a request put back unwritten by a stale socket goes out before dispatches queued after it, and
// 'disconnect' only for a connection that connected.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Http1Pool } from '../../../runtime/http1/upstream-pool.js'
import { deadPort } from '../../helpers/dead-address.js'
import { delay, ok, RawUpstream, Recorder, send, waitFor, upstreamsClosedAfter } from './upstream-helpers.js'

const upstream = upstreamsClosedAfter()

const H = ['host', 'h']
const opts = { connections: 2, idleMs: 1000, connectTimeoutMs: 2000, bodyIdleMs: 1000 }
const paths = (up: RawUpstream): string[] => up.requests.map(r => r.split(' ')[1])

test('the Host of a request without one: the replica\'s address, IPv6 in brackets, no port for 80', () => {
  assert.equal(new Http1Pool({ ...opts, host: '10.1.2.3', port: 80 }).hostHeader, 'host: 10.1.2.3\r\n')
  assert.equal(new Http1Pool({ ...opts, host: 'api.test', port: 8080 }).hostHeader, 'host: api.test:8080\r\n')
  assert.equal(new Http1Pool({ ...opts, host: '::1', port: 8080 }).hostHeader, 'host: [::1]:8080\r\n')
  assert.equal(new Http1Pool({ ...opts, host: 'fd00::7', port: 80 }).hostHeader, 'host: [fd00::7]\r\n')
})

test('connections: 0 is one socket: the requests queue on it and are all answered', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok('z')))
  const pool = up.pool({ connections: 0 })
  const all = await Promise.all(['/a', '/b', '/c'].map(path => send(pool, { path, headers: H })))
  for (const o of all) assert.equal(o.status, 200)
  assert.equal(up.conns.length, 1)
  assert.deepEqual(paths(up), ['/a', '/b', '/c'])
  await pool.close()
})

test('after close() a dispatch is refused with UND_ERR_CLOSED, after destroy() with UND_ERR_DESTROYED; both return false', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  assert.equal((await send(pool, { headers: H })).status, 200)
  const first = pool.close()
  assert.equal(pool.close(), first, 'close() twice: the same promise')
  await first
  const r = new Recorder()
  assert.equal(pool.dispatch({ method: 'GET', path: '/', headers: H, body: null }, r), false)
  const o = await r.done
  assert.equal(o.error?.code, 'UND_ERR_CLOSED')
  assert.equal(o.error?.message, 'The client is closed')
  assert.equal(r.connected, false)

  const p2 = up.pool()
  await p2.destroy()
  const r2 = new Recorder()
  assert.equal(p2.dispatch({ method: 'GET', path: '/', headers: H, body: null }, r2), false)
  const o2 = await r2.done
  assert.equal(o2.error?.code, 'UND_ERR_DESTROYED')
  assert.equal(o2.error?.message, 'The client is destroyed')
  // a pool that was used and is still open takes a dispatch (returns true)
  const p3 = up.pool()
  const r3 = new Recorder()
  assert.equal(p3.dispatch({ method: 'GET', path: '/', headers: H, body: null }, r3), true)
  assert.equal((await r3.done).status, 200)
  await p3.close()
})

test('destroy() fails the in-flight and every queued dispatch with UND_ERR_DESTROYED, none reaches the upstream', { timeout: 15_000 }, async () => {
  const up = await upstream(() => undefined) // never answers
  const pool = up.pool({ connections: 1 })
  const all = ['/in', '/q1', '/q2'].map(path => send(pool, { path, headers: H }))
  await waitFor(() => up.requests.length === 1, 5000, 'the first request at the upstream')
  await pool.destroy()
  for (const o of await Promise.all(all)) {
    assert.equal(o.error?.code, 'UND_ERR_DESTROYED')
    assert.equal(o.error?.message, 'The client is destroyed')
  }
  await delay(30)
  assert.deepEqual(paths(up), ['/in'])
})

test('a request put back unwritten (stale socket) goes out before the dispatches queued after it, once', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool({ connections: 1 })
  assert.equal((await send(pool, { path: '/A', headers: H })).status, 200)
  await delay(20)
  up.conns[0].socket.destroy() // the FIN is on its way; the pool has not read it yet
  // B takes the idle connection (it waits a turn), C and D queue; the FIN makes B's connection unusable:
  // the pool opens a new one for the queue's head and puts B back at the front, before D.
  const all = await Promise.all(['/B', '/C', '/D'].map(path => send(pool, { path, headers: H })))
  for (const o of all) assert.equal(o.error, null, String(o.error?.message))
  const p = paths(up)
  assert.deepEqual([...p].sort(), ['/A', '/B', '/C', '/D'], 'each request once')
  assert.ok(p.indexOf('/B') < p.indexOf('/D'), `B before D: ${p.join(' ')}`)
  assert.equal(up.conns.length, 2)
  await pool.close()
})

test('a connect refused: neither connect nor disconnect is reported', { timeout: 15_000 }, async () => {
  const pool = new Http1Pool({ ...opts, host: '127.0.0.1', port: deadPort(4) })
  let connects = 0, disconnects = 0
  pool.on('connect', () => connects++).on('disconnect', () => disconnects++)
  const o = await send(pool, { headers: H })
  assert.equal(o.error?.code, 'ECONNREFUSED')
  await delay(20)
  assert.deepEqual([connects, disconnects], [0, 0])
  await pool.close()
})

test('connect and disconnect are separate events: a used, idle connection has connected but not disconnected', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool()
  let connects = 0, disconnects = 0
  pool.on('disconnect', () => disconnects++).on('connect', () => connects++)
  assert.equal((await send(pool, { headers: H })).status, 200)
  assert.deepEqual([connects, disconnects], [1, 0])
  await pool.close()
  assert.deepEqual([connects, disconnects], [1, 1])
})

test('a request put back unwritten while nothing else waits: destroy() still fails it (it waits in the queue)', { timeout: 15_000 }, async () => {
  const up = await upstream((c, req) => { if (req.includes('/A')) c.socket.write(ok()) }) // the others are held
  const pool = up.pool({ connections: 2 })
  const e = send(pool, { path: '/E', headers: H }) // held on its own connection
  assert.equal((await send(pool, { path: '/A', headers: H })).status, 200)
  await waitFor(() => up.requests.length === 2, 5000, 'E at the upstream')
  await delay(20)
  const idle = up.conns.find(c => c.data.includes('/A'))!
  idle.socket.destroy() // its FIN is on its way
  // B takes the idle connection (waits a turn), C queues; the FIN: C gets a new connection, B goes back to wait
  const b = send(pool, { path: '/B', headers: H })
  const c = send(pool, { path: '/C', headers: H })
  await waitFor(() => up.requests.some(r => r.includes('/C')), 5000, 'C at the upstream')
  await delay(20)
  await pool.destroy()
  for (const o of await Promise.all([e, b, c])) assert.equal(o.error?.code, 'UND_ERR_DESTROYED')
  assert.equal(up.requests.filter(r => r.includes('/B')).length, 0, 'B was never written')
})

test('answers with connection: close and dispatches queued behind them: one connection at a time, each once', { timeout: 15_000 }, async () => {
  let inflight = 0, most = 0
  const up = await upstream(c => {
    inflight++
    most = Math.max(most, inflight)
    setTimeout(() => { inflight--; c.socket.end(ok('bye', 'connection: close\r\n')) }, 30)
  })
  const pool = up.pool({ connections: 1 })
  const all = await Promise.all(['/1', '/2', '/3', '/4'].map(path => send(pool, { path, headers: H })))
  for (const o of all) assert.equal(o.body.toString(), 'bye')
  assert.equal(most, 1, 'never two requests at once on a pool of one connection')
  assert.deepEqual(paths(up), ['/1', '/2', '/3', '/4'])
  assert.equal(up.conns.length, 4)
  // the wait queue is emptied as it drains (its array does not keep growing)
  const q = pool as unknown as { queue: unknown[]; qHead: number }
  assert.deepEqual([q.queue.length, q.qHead], [0, 0])
  await pool.close()
})

test('the wait queue drained by finished exchanges on kept-alive connections is emptied too', { timeout: 15_000 }, async () => {
  const up = await upstream(c => setTimeout(() => c.socket.write(ok()), 10))
  const pool = up.pool({ connections: 1 })
  const all = await Promise.all(['/1', '/2', '/3'].map(path => send(pool, { path, headers: H })))
  for (const o of all) assert.equal(o.status, 200)
  const q = pool as unknown as { queue: unknown[]; qHead: number }
  assert.deepEqual([q.queue.length, q.qHead], [0, 0])
  assert.equal(up.conns.length, 1)
  await pool.close()
})

test('a busy connection closing leaves the idle ones idle: the next request reuses one', { timeout: 15_000 }, async () => {
  let release: (() => void) | null = null
  const up = await upstream((c, req) => {
    if (req.includes('/held')) release = () => c.socket.end(ok('bye', 'connection: close\r\n'))
    else c.socket.write(ok('k'))
  })
  const pool = up.pool({ connections: 2 })
  const held = send(pool, { path: '/held', headers: H })
  await waitFor(() => release !== null, 5000, 'the held request at the upstream')
  assert.equal((await send(pool, { path: '/a', headers: H })).body.toString(), 'k') // on a second connection, now idle
  release!()
  assert.equal((await held).body.toString(), 'bye')
  await waitFor(() => up.conns[0].closed, 5000, 'the first connection to close')
  assert.equal((await send(pool, { path: '/b', headers: H })).body.toString(), 'k')
  assert.equal(up.conns.length, 2, 'the idle connection was reused, no third one')
  assert.deepEqual(splitOn(up, 2), ['/a', '/b'])
  await pool.close()
})

const splitOn = (up: RawUpstream, n: number): string[] => up.requests.filter(r => up.conns[n - 1].data.includes(r)).map(r => r.split(' ')[1])
