// test/runtime/stale-socket.test.ts: a pooled keep-alive connection the upstream closed while it sat idle must
// not fail the next request, whatever its method, nor send it twice. The upstream (its own process) promises
// `Keep-Alive: timeout=30` but closes idle connections after 150 ms; the gateway's event loop is held busy past
// that with the next POST already waiting, so gw reads the POST before the upstream's FIN in the same poll.
// undici (≥ 7.x) yields one turn before writing to an idle socket, sees the close, and moves the not-yet-written
// request to a new connection (writing at once would send it into a closed socket: a reset, and a 502 for a POST): this is how "failed before any byte was written" is told apart from "written, then reset",
// where only idempotent requests may be retried (docs/operations.md, Upstreams).
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { metricsText } from './fixtures.js'

const UPSTREAM = `
const http = require('http')
const seen = { POST: 0, GET: 0, connections: 0 }
// Closes a connection 150 ms after its last response (Node's own keepAliveTimeout adds a 1 s margin), as a
// server whose idle timeout is shorter than it announces would.
const s = http.createServer((q, r) => {
  clearTimeout(q.socket.idle)
  if (q.url === '/seen') { r.setHeader('content-type', 'application/json'); r.end(JSON.stringify(seen)); return }
  seen[q.method] = (seen[q.method] ?? 0) + 1
  q.resume()
  q.on('end', () => { r.setHeader('keep-alive', 'timeout=30'); r.end('ok ' + q.method) })
  r.on('finish', () => { q.socket.idle = setTimeout(() => q.socket.destroy(), 150) })
})
s.on('connection', () => seen.connections++)
s.listen(0, '127.0.0.1', () => console.log('ready ' + s.address().port))
`

let up: ChildProcess
let upPort: number
let gw: TestGateway

before(async () => {
  up = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] })
  upPort = await new Promise<number>((resolve, reject) => {
    let out = ''
    up.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; const m = /ready (\d+)\n/.exec(out); if (m !== null) resolve(Number(m[1])) })
    up.once('exit', code => reject(new Error(`upstream exited with ${code}: ${out}`)))
  })
  gw = await startGateway(`
upstream u { replicas 127.0.0.1:${upPort}; pool connections 4 idle 30s; health passive eject_after 1000 }
route r { match path prefix "/"; timeout 2s; proxy u }
`)
})
after(async () => { await gw?.close(); up?.kill() })

/** One request on a raw keep-alive connection; resolves with the status line and body once a full answer is in. */
function exchange(sock: Socket, req: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = ''
    const onData = (c: Buffer) => {
      buf += c.toString('latin1')
      const head = buf.indexOf('\r\n\r\n')
      const len = /content-length: (\d+)/i.exec(buf)
      if (head >= 0 && len !== null && buf.length >= head + 4 + Number(len[1])) { sock.off('data', onData); resolve(buf) }
    }
    sock.on('data', onData)
    sock.once('error', reject)
    sock.write(req) // written synchronously to the kernel, before gw's loop turns
  })
}

const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* hold the event loop */ } }

test('a POST arriving as the upstream closes its idle pooled connection goes out on a new connection, once', async () => {
  const port = Number(new URL(gw.url).port)
  const sock = connect(port, '127.0.0.1')
  await new Promise(r => sock.once('connect', r))
  const post = 'POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello'
  for (let round = 0; round < 5; round++) {
    const first = await exchange(sock, post)
    assert.match(first, /^HTTP\/1\.1 200 /, 'the first POST is answered')
    // Send the next POST now (it waits in gw's socket buffer), then hold gw's loop while the upstream closes the
    // idle pooled connection (150 ms): when the loop turns, the POST is ready before the upstream's FIN is.
    const answer = exchange(sock, post)
    busy(350)
    const second = await answer
    assert.match(second, /^HTTP\/1\.1 200 /, `round ${round}: the POST after the upstream's close is answered, not a 502`)
    assert.match(second, /ok POST$/)
  }
  sock.destroy()
  const seen = await (await request(`http://127.0.0.1:${upPort}/seen`)).body.json() as { POST: number; connections: number }
  assert.equal(seen.POST, 10, 'every POST reached the upstream exactly once')
  assert.ok(seen.connections >= 6, `a new upstream connection after each idle close (${seen.connections})`)
  const m = await metricsText(gw)
  assert.doesNotMatch(m, /gw_upstream_retries_total\{[^}]*\} [1-9]/, 'nothing was retried: the request was never written to the closed socket')
})
