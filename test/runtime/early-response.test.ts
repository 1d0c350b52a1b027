// test/runtime/early-response.test.ts: an upstream that answers before it has read the whole request body
// (the stub's /early: 413 at once) must neither hang the client nor poison a pooled connection, whether the
// upstream keeps its connection open (and discards the rest) or closes it.
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { Client } from 'undici'
import { rawRequest, replicaAddrs, startRig, type Rig } from './fixtures.js'

let rig: Rig

before(async () => {
  // One pooled connection per replica, so every request after an early answer reuses the same upstream socket.
  // Passive ejection out of reach: an early answer that loses the race with the write error is a 502 (allowed
  // below), and on a loaded machine five of them in a row ejected the only replica (then 503 for the rest).
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)}; pool connections 1; health passive eject_after 1000 }
route all { match path prefix "/"; timeout 3s; max_body 16MB; proxy web }
`)
})
after(async () => { await rig.close() })

const MB2 = 2 * 1024 * 1024

/**
 * A request over a fresh client connection that must settle (answer or error) within `ms`. Fresh, because a
 * client connection that carried an early-answered upload may be closed by the gateway (see "after an early
 * answer the client connection carries the next request" below).
 */
async function settles(path: string, body: Buffer | null, ms: number, method = 'POST'): Promise<{ status?: number; error?: string; ms: number }> {
  const t0 = performance.now()
  const client = new Client(rig.gw.url)
  try {
    const res = await client.request({ path, method: method as 'POST', body, signal: AbortSignal.timeout(ms) })
    await res.body.dump()
    return { status: res.statusCode, ms: performance.now() - t0 }
  } catch (e) {
    return { error: (e as Error).name + ': ' + (e as Error).message, ms: performance.now() - t0 }
  } finally {
    await client.destroy()
  }
}

test('an early 413 on a kept-alive upstream connection reaches the client, and the pool still serves', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await settles('/early?status=413&close=0', Buffer.alloc(MB2), 10000)
    assert.equal(r.status, 413, JSON.stringify(r))
    const next = await settles('/echo', null, 5000, 'GET')
    assert.equal(next.status, 200, JSON.stringify(next))
  }
})

test('an early answer from an upstream that then closes never hangs the client, and the pool recovers', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await settles('/early?status=413&close=1', Buffer.alloc(MB2), 10000)
    assert.ok(r.error === undefined || !/timeout|aborted/i.test(r.error), `the client hung: ${JSON.stringify(r)}`)
    const next = await settles('/echo', null, 5000, 'GET')
    assert.equal(next.status, 200, JSON.stringify(next))
  }
})

test('an early answer mid-upload always gets the client a status, never a dropped connection', async () => {
  const outcomes: string[] = []
  for (let i = 0; i < 10; i++) {
    // the client is still sending when the upstream answers (paced writes)
    const sock = connect(rig.port, '127.0.0.1')
    let text = ''
    sock.on('data', d => { text += d.toString('latin1') })
    sock.on('error', () => undefined)
    await new Promise(r => sock.once('connect', r))
    sock.write(`POST /early?status=413&close=1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${MB2}\r\n\r\n`)
    for (let sent = 0; sent < MB2 && !sock.destroyed; sent += 64 * 1024) {
      sock.write(Buffer.alloc(64 * 1024))
      await new Promise(r => setTimeout(r, 5))
    }
    // wait for the status line (or the connection's end), not a fixed time: a loaded machine may answer late
    const t0 = Date.now()
    while (text.length < 12 && !sock.destroyed && Date.now() - t0 < 5000) await new Promise(r => setTimeout(r, 10))
    sock.destroy()
    outcomes.push(text.slice(0, 12) || 'no response')
  }
  assert.ok(outcomes.every(o => /^HTTP\/1\.1 (413|502)$/.test(o)), outcomes.join(', '))
})

test('after an early answer the client connection carries the next request (the unread body is drained or the connection closed)', async () => {
  const size = 1024 * 1024
  const sock = connect(rig.port, '127.0.0.1')
  let text = ''
  sock.on('data', d => { text += d.toString('latin1') })
  sock.on('error', () => undefined)
  try {
    await new Promise(r => sock.once('connect', r))
    sock.write(`POST /early?status=413&close=0 HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`)
    sock.write(Buffer.alloc(1000))
    const t0 = Date.now()
    while (!text.includes('early') && Date.now() - t0 < 10000) await new Promise(r => setTimeout(r, 10))
    assert.match(text, /^HTTP\/1\.1 413 /)
    if (/\r\nconnection: close\r\n/i.test(text)) return // closing the connection is a correct answer too
    // the client finishes its upload, as HTTP/1.1 requires on a connection it was not told is closing ...
    sock.write(Buffer.alloc(size - 1000))
    sock.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await new Promise(r => { sock.once('close', r); setTimeout(r, 10000) })
    // ... and then its next request is answered (a plain Node server, e.g. the stub itself, does this)
    assert.match(text, /HTTP\/1\.1 200 [^]*"url":"\/echo"/, 'the request after the early answer got its response')
  } finally { sock.destroy() }
})

test('a small body answered early leaves everything usable', async () => {
  const r = await rawRequest(rig.port, 'POST /early?status=400 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /status/200 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { untilClose: true })
  assert.equal(r.status, 400)
  assert.match(r.text, /HTTP\/1\.1 200 /)
})
