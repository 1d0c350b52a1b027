// lab/test/harness-early.test.ts: the "upstream answers before reading the body" check tells a good connection
// (answer, then the next request works), a closed-as-announced one, and a hung one apart, over real sockets.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { startStub } from '../../testkit/upstream/stub.js'
import { earlyAttempt, earlyCheck } from '../tax/early.js'

const stub = await startStub({ count: 1 })

/** Answers 413 at once and then never reads the socket again: the client's upload fills the window and waits forever. */
const sockets = new Set<Socket>()
const deaf: NetServer = createNetServer((s) => {
  sockets.add(s)
  s.once('data', () => {
    s.pause()
    s.write('HTTP/1.1 413 Payload Too Large\r\ncontent-length: 0\r\n\r\n')
  })
})
await new Promise<void>((r) => deaf.listen(0, '127.0.0.1', r))

/** Answers 413 with Connection: close (node then closes once the response is out). */
const closer: Server = createServer((req, res) => {
  res.writeHead(413, { connection: 'close', 'content-length': '0' })
  res.end()
})
await new Promise<void>((r) => closer.listen(0, '127.0.0.1', r))

after(async () => {
  for (const s of sockets) s.destroy()
  await Promise.all([stub.close(), new Promise((r) => deaf.close(r)), new Promise((r) => { closer.close(r); closer.closeAllConnections() })])
})

const origin = (s: { address(): unknown }): string => `http://127.0.0.1:${(s.address() as { port: number }).port}`

test('the stub answers /early at once and the next request on the connection works', async () => {
  const a = await earlyAttempt(stub.url(), { bodyBytes: 1 << 20 })
  assert.equal(a.verdict, 'ok')
  assert.equal(a.status, 413)
  assert.ok(a.answerMs !== null && a.answerMs < 2000)
  assert.deepEqual(a.next.ok && a.next.status, 200)
})

test('a server that stops reading after its answer leaves the connection hung', async () => {
  // 8 MB: more than loopback socket buffers absorb, so the upload really blocks.
  const a = await earlyAttempt(origin(deaf), { bodyBytes: 8 << 20, stallMs: 600 })
  assert.equal(a.status, 413)
  assert.equal(a.verdict, 'hung')
  assert.ok(!a.next.ok && /upload stalled|no response/.test(a.next.why))
})

test('an announced Connection: close is a clean end, not a hang', async () => {
  const r = await earlyCheck('closer', origin(closer), 2, { bodyBytes: 1 << 20, stallMs: 1000 })
  for (const a of r.attempts) {
    assert.equal(a.announcedClose, true)
    assert.ok(a.verdict === 'closed-as-announced' || a.verdict === 'ok', a.verdict)
  }
  assert.equal(r.good, 2)
  assert.match(r.summary, /^2\/2 good/)
})
