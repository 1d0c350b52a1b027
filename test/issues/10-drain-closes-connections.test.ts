// Issue 10, defect 4: a drain closes the connections it finishes requests on. Keep-alive clients in flight at
// SIGTERM get `Connection: close` (they used to get keep-alive, sent another request on the same socket,
// which lengthened the drain and was cut by a deadline that every single request fitted in); an idle
// connection is never destroyed under a request already on the wire; and the shutdown line counts resets.
// Real `gw run` processes (one, and --workers 2), real undici clients, raw sockets for the race.
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { Agent, Pool, request, type Dispatcher } from 'undici'
import { startStub } from '../../testkit/upstream/stub.js'
import { spawnGateway, type SpawnedGateway } from '../policies/fixtures.js'

const policy = (port: number) => `
upstream web { replicas 127.0.0.1:${port} }
route api { match path prefix "/api"; timeout 10s; proxy web }
`

interface Outcome { sentAt: number; status: number; connection: string; error: string }

/**
 * `clients` loops, each sending requests back to back through `dispatcher` until one fails (the listener is
 * gone once gw exits or refuses). Resolves with every request's outcome.
 */
async function loops(dispatcher: Dispatcher, url: string, clients: number): Promise<Outcome[]> {
  const out: Outcome[] = []
  await Promise.all(Array.from({ length: clients }, async () => {
    for (;;) {
      const sentAt = performance.now()
      try {
        const r = await request(url, { dispatcher })
        await r.body.dump()
        out.push({ sentAt, status: r.statusCode, connection: String(r.headers.connection), error: '' })
      } catch (e) {
        const err = e as Error & { code?: string; cause?: { code?: string } }
        out.push({ sentAt, status: 0, connection: '', error: `${err.cause?.code ?? err.code ?? 'error'} ${err.message}` })
        return
      }
    }
  }))
  return out
}

/** SIGTERM `gw` once `atMs` have passed; resolves with the time of the signal and the exit code. */
async function terminateAt(gw: SpawnedGateway, atMs: number): Promise<{ killAt: number; exited: Promise<number | null> }> {
  await new Promise(r => setTimeout(r, atMs))
  const exited = new Promise<number | null>(r => gw.proc.once('exit', code => r(code)))
  const killAt = performance.now()
  gw.proc.kill('SIGTERM')
  return { killAt, exited }
}

/** Requests in flight at the signal all answered 200 with Connection: close; nothing was reset or cut. */
function checkInFlight(outcomes: Outcome[], killAt: number, clients: number): void {
  const before = outcomes.filter(o => o.sentAt < killAt)
  assert.equal(before.length, clients, `one request per client was in flight at SIGTERM: ${JSON.stringify(outcomes)}`)
  for (const o of before) {
    assert.equal(o.status, 200, `in flight at SIGTERM: ${JSON.stringify(o)}`)
    assert.equal(o.connection, 'close', 'a response finished during the drain says Connection: close')
  }
  // what the clients sent after it found the listener closed (a refusal, never a reset or a cut response)
  for (const o of outcomes.filter(x => x.sentAt >= killAt)) assert.match(o.error, /^ECONNREFUSED/, JSON.stringify(o))
}

test('keep-alive clients (undici Pool) in flight at SIGTERM get Connection: close and none is reset', async () => {
  // 1.5 s requests, a 2 s deadline: every request fits, but not two back to back on one connection
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 1500 }] })
  const gw = await spawnGateway(policy(stub.replicas[0].port), ['--drain-timeout', '2s', '--log-level', 'info', '--log-destination', 'stderr'])
  const pool = new Pool(gw.url, { connections: 8, keepAliveTimeout: 30_000 })
  try {
    const run = loops(pool, gw.url + '/api/slow', 8)
    const { killAt, exited } = await terminateAt(gw, 600)
    const outcomes = await run
    assert.equal(await exited, 0)
    checkInFlight(outcomes, killAt, 8)
    assert.match(gw.stderr(), /gw: drained 8, aborted 0, late 0, unanswered 0, reset 0, tunnels 0\n/)
    // the log line says the same, with the connections the drain half-closed (none were idle here)
    const done = gw.stderr().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.msg === 'shutdown complete')
    assert.ok(done !== undefined, gw.stderr())
    assert.deepEqual({ drained: done.drained, late: done.late, aborted: done.aborted, unanswered: done.unanswered, halfClosed: done.halfClosed, reset: done.reset },
      { drained: 8, late: 0, aborted: 0, unanswered: 0, halfClosed: 0, reset: 0 })
  } finally {
    await pool.destroy()
    await gw.stop()
    await stub.close()
  }
})

test('--workers 2: keep-alive clients (undici Agent) in flight at SIGTERM get Connection: close and none is reset', async () => {
  const stub = await startStub({ name: 'web', count: 1, rules: [{ path: '/', latency: 1500 }] })
  const gw = await spawnGateway(policy(stub.replicas[0].port), ['--workers', '2', '--drain-timeout', '2s'])
  const agent = new Agent({ connections: 8, keepAliveTimeout: 30_000 })
  try {
    const run = loops(agent, gw.url + '/api/slow', 8)
    const { killAt, exited } = await terminateAt(gw, 800)
    const outcomes = await run
    assert.equal(await exited, 0)
    checkInFlight(outcomes, killAt, 8)
    // the primary adds up both workers' counts
    assert.match(gw.stderr(), /gw: drained 8, aborted 0, late 0, unanswered 0, reset 0, tunnels 0\n/)
  } finally {
    await agent.destroy()
    await gw.stop()
    await stub.close()
  }
})

/** A raw keep-alive connection: everything it received, and how it ended. */
interface Raw { sock: Socket; text: string; ended: boolean; error: string }

function openRaw(url: string): Promise<Raw> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname)
    const raw: Raw = { sock, text: '', ended: false, error: '' }
    sock.on('data', d => { raw.text += d.toString('latin1') })
    sock.on('end', () => { raw.ended = true })
    sock.on('error', (e: NodeJS.ErrnoException) => { raw.error = e.code ?? e.message })
    sock.once('connect', () => resolve(raw))
    sock.once('error', reject)
  })
}

const GET = 'GET /api/fast HTTP/1.1\r\nHost: gw.test\r\n\r\n'
const responses = (text: string): string[] => text.split(/(?=HTTP\/1\.1 \d{3} )/).filter(s => s.startsWith('HTTP/1.1'))

test('a request sent on an idle keep-alive connection as SIGTERM arrives is answered with Connection: close or never read, never reset', async () => {
  const stub = await startStub({ name: 'web', count: 1 })
  const gw = await spawnGateway(policy(stub.replicas[0].port), ['--drain-timeout', '3s'])
  const conns: Raw[] = []
  try {
    for (let i = 0; i < 12; i++) conns.push(await openRaw(gw.url))
    // one request each, so each is an idle kept-alive connection
    for (const c of conns) c.sock.write(GET)
    const t0 = Date.now()
    while (conns.some(c => responses(c.text).length < 1) && Date.now() - t0 < 5000) await new Promise(r => setTimeout(r, 10))
    for (const c of conns) assert.match(c.text, /^HTTP\/1\.1 200 [^]*\r\nconnection: keep-alive\r\n/i, 'before the drain: kept alive')
    // the next request: on some connections just before the signal (already received when gw sees the
    // signal), on the others at increasing delays after it, across the idle grace
    const offsets = [-1, -1, -1, 0, 0, 5, 20, 50, 100, 200, 300, 600]
    const exited = new Promise<number | null>(r => gw.proc.once('exit', code => r(code)))
    const sendNext = (c: Raw) => { if (!c.ended && !c.sock.destroyed) c.sock.write(GET) }
    conns.forEach((c, i) => { if (offsets[i] < 0) sendNext(c) })
    gw.proc.kill('SIGTERM')
    conns.forEach((c, i) => { if (offsets[i] >= 0) setTimeout(() => sendNext(c), offsets[i]) })
    assert.equal(await exited, 0)
    await new Promise(r => setTimeout(r, 100))
    let answered = 0
    let inDrain = 0
    for (const [i, c] of conns.entries()) {
      const what = `connection ${i} (offset ${offsets[i]} ms): ${JSON.stringify(c.text.slice(-300))} ${c.error}`
      assert.equal(c.error, '', `no reset: ${what}`)
      assert.ok(c.ended, `closed by gw: ${what}`)
      const rs = responses(c.text)
      assert.ok(rs.length === 1 || rs.length === 2, what)
      if (rs.length === 1) continue
      answered++
      assert.match(rs[1], /^HTTP\/1\.1 200 /, what)
      // gw may handle a request sent around the signal before the signal itself (on a loaded machine its
      // event loop sees both together, in either order): such a request is answered before the drain began,
      // with keep-alive, and is not counted by the drain. Every answer the drain gave says close (checked
      // against gw's own counts below).
      if (/\r\nconnection: close\r\n/i.test(rs[1])) inDrain++
    }
    // requests already received when gw saw the signal are answered (the idle grace covers them)
    assert.ok(answered >= 3, `answered ${answered}`)
    const line = /gw: drained (\d+), aborted (\d+), late (\d+), unanswered (\d+), reset (\d+)/.exec(gw.stderr())
    assert.ok(line !== null, gw.stderr())
    assert.deepEqual({ aborted: line[2], reset: line[5] }, { aborted: '0', reset: '0' })
    assert.equal(Number(line[1]) + Number(line[3]), inDrain, 'the requests gw answered during the drain (drained + late) are exactly the Connection: close answers')
  } finally {
    for (const c of conns) c.sock.destroy()
    await gw.stop()
    await stub.close()
  }
})
