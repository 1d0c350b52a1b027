// test/runtime/http1/upstream-connection-close.test.ts: what survived quick.mjs runs of lines 203–234 of
// runtime/http1/upstream-connection.ts (the end of a request body, abort, connect and the connect timeout),
// pinned through real sockets on the http1 pool's API: a stream body read to its end is left as the caller gave
// it (no listener of the pool on it, not destroyed), so its later 'error' or 'close' cannot fail the next request
// on the reused connection; the abort function called from inside onComplete / onError, or again while the
// connection is idle, does nothing (no throw, the connection goes on to the next request); and the connect
// timer is gone once the socket connected (a process that used the pool exits as soon as its work is done).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { Readable } from 'node:stream'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { delay, ok, Recorder, send, upstreamsClosedAfter, waitFor } from './upstream-helpers.js'

const upstream = upstreamsClosedAfter()
const H = ['host', 'h']
const EVENTS = ['data', 'end', 'error', 'close'] as const

/** A stream body the caller keeps control of: not destroyed at its end (autoDestroy off). */
const ownedBody = (): Readable => new Readable({ read() {}, autoDestroy: false })

test('a stream body read to its end is left as the caller gave it: no listener of the pool on it, not destroyed', { timeout: 10_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const pool = up.pool({ connections: 1 })
  const body = ownedBody()
  const before = EVENTS.map(e => body.listenerCount(e))
  body.push('abc')
  body.push(null)
  const o = await send(pool, { method: 'POST', path: '/a', headers: H, body, contentLength: 3 })
  assert.equal(o.error, null)
  assert.equal(o.status, 200)
  assert.deepEqual(EVENTS.map(e => body.listenerCount(e)), before)
  assert.equal(body.destroyed, false)
  await delay(20)
  assert.equal(body.destroyed, false)
  await pool.close()
})

for (const late of ['error', 'close'] as const) {
  test(`a finished stream body's late '${late}' does not touch the next request on the reused connection`, { timeout: 10_000 }, async () => {
    const up = await upstream(c => c.socket.write(ok(String(c.n))))
    const pool = up.pool({ connections: 1 })
    const first = ownedBody()
    first.on('error', () => undefined) // the caller's own listener: its late error is not an uncaught one
    first.push('abc')
    first.push(null)
    const o1 = await send(pool, { method: 'POST', path: '/1', headers: H, body: first, contentLength: 3 })
    assert.equal(o1.status, 200)
    // the second request's body is being written on the same connection when the first body errors / closes
    const second = ownedBody()
    second.push('xy')
    const r2 = new Recorder()
    pool.dispatch({ method: 'POST', path: '/2', headers: H, body: second, contentLength: -1 }, r2)
    await waitFor(() => up.conns[0].data.endsWith('\r\n2\r\nxy'), 5000, 'the second body\'s first chunk at the upstream')
    if (late === 'error') first.destroy(new Error('the first body failed late'))
    else first.destroy()
    await delay(30)
    second.push('z')
    second.push(null)
    const o2 = await r2.done
    assert.equal(o2.error, null)
    assert.equal(o2.status, 200)
    assert.equal(o2.body.toString(), '1')
    assert.equal(up.conns.length, 1)
    assert.ok(up.conns[0].data.endsWith('POST /2 HTTP/1.1\r\nhost: h\r\nconnection: keep-alive\r\ntransfer-encoding: chunked\r\n\r\n2\r\nxy\r\n1\r\nz\r\n0\r\n\r\n'), up.conns[0].data)
    await pool.close()
  })
}

/** Calls the abort it was given from inside onComplete / onError, as a handler cancelling as it finishes. */
class AbortsWhenDone extends Recorder {
  threw: unknown = null
  override onComplete(): void { this.lateAbort(); super.onComplete() }
  override onError(err: Error): void { this.lateAbort(); super.onError(err) }
  private lateAbort(): void { try { this.abortFn!(new Error('late abort')) } catch (err) { this.threw = err } }
}

test('abort called inside onComplete does nothing: no throw, the connection carries the next request', { timeout: 10_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok('x')))
  const pool = up.pool({ connections: 1 })
  const r = new AbortsWhenDone()
  pool.dispatch({ method: 'GET', path: '/1', headers: H, body: null }, r)
  const o = await r.done
  assert.equal(o.error, null)
  assert.equal(o.body.toString(), 'x')
  assert.equal(r.threw, null)
  // and again, while the connection sits idle in the pool
  assert.doesNotThrow(() => r.abortFn!())
  const o2 = await send(pool, { path: '/2', headers: H })
  assert.equal(o2.status, 200)
  assert.equal(up.conns.length, 1)
  assert.equal(up.conns[0].closed, false)
  await pool.close()
})

test('abort called inside onError (after the upstream closed mid-answer) does nothing: no throw, the error is the upstream\'s', { timeout: 10_000 }, async () => {
  const up = await upstream(c => c.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab'))
  const pool = up.pool({ connections: 1 })
  const r = new AbortsWhenDone()
  pool.dispatch({ method: 'GET', path: '/', headers: H, body: null }, r)
  const o = await r.done
  assert.equal(o.error?.code, 'UND_ERR_SOCKET')
  assert.equal(r.threw, null)
  await pool.close()
})

// The child: one request through a pool it never closes. The idle socket and its keep-alive clock do not hold
// the process; neither may the connect timer (30 s here) once the socket connected.
const CHILD = `
const { Http1Pool } = await import(process.argv[1])
const pool = new Http1Pool({ host: '127.0.0.1', port: Number(process.argv[2]), connections: 1, idleMs: 30000, connectTimeoutMs: 30000, bodyIdleMs: 30000 })
pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null }, {
  onConnect() {}, onHeaders() { return true }, onData() { return true },
  onComplete() { console.log('answered') }, onError(e) { console.log('error ' + e.code) },
})`

test('the connect timer stops once connected: a process that used the pool (left idle) exits when its work is done', { timeout: 15_000 }, async () => {
  const up = await upstream(c => c.socket.write(ok()))
  const poolModule = fileURLToPath(new URL('../../../runtime/http1/upstream-pool.js', import.meta.url))
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, poolModule, String(up.port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  let answeredAt = 0
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (answeredAt === 0 && out.includes('\n')) answeredAt = Date.now() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  try {
    await waitFor(() => answeredAt > 0, 8000, 'the child\'s answer')
    assert.equal(out, 'answered\n')
    let late: NodeJS.Timeout | undefined
    const code = await Promise.race([exited, new Promise<string>(resolve => { late = setTimeout(resolve, 4000, 'still running') })])
    clearTimeout(late)
    assert.equal(code, 0, `the child ${code === 'still running' ? 'was still running 4 s after its answer' : `exited with ${code}`}`)
    assert.equal(up.conns.length, 1)
  } finally {
    clearTimeout(killer)
    child.kill('SIGKILL')
    await exited
  }
})
