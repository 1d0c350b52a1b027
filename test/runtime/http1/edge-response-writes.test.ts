// test/runtime/http1/edge-response-writes.test.ts: the http1 response object's writes seen byte for byte and by
// their return values (runtime/http1/edge-response.ts), for what edge-response-unit leaves open: a head with
// latin1 text (obs-text in a header value) is one byte per character on every path that writes it; a write the
// response drops says "go on" (true), one on a closed socket does not ask for 'drain'; an answer ended with a body
// above the one-buffer limit, or with no data while earlier bytes still wait in the socket, reports its last
// write only once it is done (issue 14: survivors of the Stryker run of edge-response.ts).
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { test } from 'node:test'
import { Http1Response, type ResponseSink } from '../../../runtime/http1/edge-response.js'

/** A loopback connection: the gateway's side as a sink that records its calls, the client's side reading bytes. */
async function wire(): Promise<{ sink: ResponseSink; written: unknown[]; client: Socket; bytes(): Buffer; close(): void }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const client = connect((server.address() as { port: number }).port, '127.0.0.1')
  const [socket] = await once(server, 'connection') as [Socket]
  server.close()
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => { chunks.push(c) })
  for (const s of [client, socket]) s.on('error', () => undefined)
  const written: unknown[] = []
  const sink: ResponseSink = { socket, keepAliveSeconds: 0, ended: () => undefined, written: e => { written.push(e) } }
  return { sink, written, client, bytes: () => Buffer.concat(chunks), close: () => { client.destroy(); socket.destroy() } }
}

const settle = async (ms = 30) => new Promise(r => setTimeout(r, ms))
const noDate = (b: Buffer) => b.toString('latin1').replace(/\r\nDate: [^\r]*\r\n/, '\r\n')

test('a header value with latin1 text is written one byte per character on every path that writes a head', async () => {
  const v = 'caf\u00e9 \u00ff'
  const head = (status: string, more: string) => `HTTP/1.1 ${status}\r\nX-Name: ${v}\r\n${more}\r\n`
  const big = `HTTP/1.1 200 OK\r\nX-Name: ${v}\r\nContent-Length: 20000\r\nConnection: keep-alive\r\n\r\n` + 'b'.repeat(20_000)
  const cases: [string, (r: Http1Response) => void, string][] = [
    ['head alone (204)', r => { r.writeHead(204, ['X-Name', v]); r.write(Buffer.from('x')) }, head('204 No Content', 'Connection: keep-alive\r\n')],
    ['chunked write', r => { r.writeHead(200, ['X-Name', v]); r.write(Buffer.from('ab')) }, head('200 OK', 'Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n') + '2\r\nab\r\n'],
    ['chunked end', r => { r.writeHead(200, ['X-Name', v]); r.end('ab') }, head('200 OK', 'Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n') + '2\r\nab\r\n0\r\n\r\n'],
    ['head and a large body', r => { r.writeHead(200, ['X-Name', v, 'Content-Length', '20000']); r.write(Buffer.alloc(20_000, 'b')) }, big],
    ['head and a large last body', r => { r.writeHead(200, ['X-Name', v, 'Content-Length', '20000']); r.end(Buffer.alloc(20_000, 'b')) }, big],
  ]
  for (const [what, act, want] of cases) {
    const w = await wire()
    try {
      act(new Http1Response(w.sink, true, false, true, false))
      for (let i = 0; i < 50 && w.bytes().length < Buffer.byteLength(want, 'latin1') - 40; i++) await settle(10)
      await settle()
      assert.equal(noDate(w.bytes()), want, what)
    } finally { w.close() }
  }
})

test('a write the response drops (empty, or no body allowed) says go on; one on a closed socket does not wait for drain', async () => {
  const w = await wire()
  try {
    const r = new Http1Response(w.sink, true, false, true, false)
    r.writeHead(200, [])
    assert.equal(r.write(Buffer.from('a')), true)
    assert.equal(r.write(Buffer.alloc(0)), true, 'an empty write after the head')
    const h = new Http1Response(w.sink, true, true, true, false)
    h.writeHead(200, [])
    assert.equal(h.write(Buffer.from('x')), true, 'the first write of a HEAD answer (sends the head)')
    assert.equal(h.write(Buffer.from('y')), true, 'a later write of a HEAD answer')
    assert.equal(h.needDrain, false)
  } finally { w.close() }
  const c = await wire()
  try {
    const r = new Http1Response(c.sink, true, false, true, false)
    r.writeHead(200, ['Content-Length', '1'])
    c.sink.socket.end()
    assert.equal(r.write(Buffer.from('x')), false)
    assert.equal(r.needDrain, false, 'nothing was written, so no drain will come')
  } finally { c.close() }
})

test('the last write is reported once it is done: a large body given to end(), and an empty end() behind bytes still queued', async () => {
  const w = await wire()
  try {
    const r = new Http1Response(w.sink, true, false, true, false)
    r.writeHead(200, ['Content-Length', '20000'])
    r.end(Buffer.alloc(20_000, 'b'))
    for (let i = 0; i < 50 && w.written.length === 0; i++) await settle(10)
    assert.deepEqual(w.written, [null], 'the large last write calls back once')
  } finally { w.close() }
  const q = await wire()
  try {
    q.client.pause()
    const r = new Http1Response(q.sink, true, false, true, false)
    r.writeHead(200, ['Content-Length', String(16 << 20)])
    assert.equal(r.write(Buffer.alloc(16 << 20, 'c')), false, 'more than the socket takes')
    r.end()
    await settle(100)
    assert.deepEqual(q.written, [], 'not reported while the bytes before it wait for the client')
    q.client.resume()
    for (let i = 0; i < 300 && q.written.length === 0; i++) await settle(10)
    assert.equal(q.written.length, 1, 'reported once the client read them')
  } finally { q.close() }
})
