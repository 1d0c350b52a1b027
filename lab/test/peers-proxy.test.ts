// lab/test/peers-proxy.test.ts: each peer proxy (floor, bytes, fastify, nginx when installed) proxies end to end:
// status and body, hop-by-hop headers dropped both ways, bodies streamed both ways, round-robin, 5xx when the
// upstream is down. The same checks for every peer, so the tax table compares proxies that do the same job.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { createHash } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { startFloor } from '../peers/floor.js'
import { startFastifyProxy } from '../peers/fastify-proxy.js'
import { startBytesProxy } from '../peers/bytes.js'
import { startNginx, findNginx } from '../peers/nginx.js'
import type { HostPort } from '../peers/common.js'
import { deadPort } from '../../test/helpers/dead-address.js'

const BIG = Buffer.alloc(2 * 1024 * 1024)
for (let i = 0; i < BIG.length; i++) BIG[i] = (i * 7) & 0xff
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

const upstreams: http.Server[] = []
const addrs: HostPort[] = []
let onHeld: (() => void) | null = null

/** Echoes what it received as JSON, with hop-by-hop response headers the proxy must drop. */
function echo(name: string): http.Server {
  return http.createServer((req, res) => {
    if (req.url === '/hold') {
      req.on('close', () => onHeld?.())
      return // never answers: the client's abort must reach us
    }
    const h = createHash('sha256')
    let bytes = 0
    req.on('data', (c: Buffer) => { bytes += c.length; h.update(c) })
    req.on('end', () => {
      if (req.url === '/big') { res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-upstream': name }); return res.end(BIG) }
      if (req.url === '/missing') { res.writeHead(404, { 'content-type': 'text/plain', 'x-upstream': name }); return res.end('nope') }
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'keep-alive, x-upstream-secret',
        'keep-alive': 'timeout=5',
        'x-upstream-secret': 'only for the proxy',
        'proxy-authenticate': 'Basic realm="upstream"',
        trailer: 'x-checksum',
        'x-upstream': name,
      })
      res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, bytes, sha: h.digest('hex') }))
    })
  })
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

/** node:http (not undici) so the test can send the hop-by-hop headers a client may send. */
function send(base: string, method: string, path: string, headers: http.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    if (body !== undefined) {
      // Written in 64 KiB pieces without a content-length: a chunked upload the proxy must stream.
      for (let i = 0; i < body.length; i += 65536) req.write(body.subarray(i, i + 65536))
    }
    req.end()
  })
}

interface Peer { url: string; close(): Promise<void> }
interface PeerCase {
  name: string
  peer?: Peer
  skip?: string
  /** Request headers the peer must not forward (of those the test sends). */
  requestDropped: string[]
  /** Response headers the peer must not pass back (of those the echo upstream sends). */
  responseDropped: string[]
}
// What each peer actually strips, pinned so a change shows. The floor drops every hop-by-hop header and
// every name listed in Connection, both ways. @fastify/reply-from strips Connection-listed request headers
// but forwards TE and Proxy-Authorization, and passes the upstream's Connection/Keep-Alive and the headers
// they list back to the client. nginx strips its fixed list (Keep-Alive, TE, …) and ignores Connection tokens.
// The byte-level limit case (bytes) passes heads through as sent: it strips nothing.
const ALL_REQUEST = ['x-client-secret', 'keep-alive', 'te', 'proxy-authorization', 'proxy-connection']
const ALL_RESPONSE = ['x-upstream-secret', 'proxy-authenticate', 'trailer']
const peers: PeerCase[] = [
  { name: 'floor', requestDropped: ALL_REQUEST, responseDropped: ALL_RESPONSE },
  { name: 'fastify', requestDropped: ['x-client-secret', 'keep-alive'], responseDropped: [] },
  { name: 'nginx', requestDropped: ['keep-alive', 'te'], responseDropped: [] },
  { name: 'bytes', requestDropped: [], responseDropped: [] },
]

before(async () => {
  for (const name of ['a', 'b']) {
    const s = echo(name)
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
    upstreams.push(s)
    addrs.push({ host: '127.0.0.1', port: (s.address() as AddressInfo).port })
  }
  const listen = { host: '127.0.0.1', port: 0 }
  peers[0].peer = await startFloor({ listen, upstreams: addrs, connections: 4 })
  peers[1].peer = await startFastifyProxy({ listen, upstreams: addrs, connections: 4 })
  const ng = await startNginx({ listen, upstreams: addrs, connections: 4 })
  if (ng.skipped) peers[2].skip = ng.reason
  else peers[2].peer = ng
  peers[3].peer = await startBytesProxy({ listen, upstreams: addrs, connections: 4 })
})

after(async () => {
  for (const p of peers) await p.peer?.close()
  for (const s of upstreams) { s.closeAllConnections(); await new Promise((r) => s.close(r)) }
})

for (const p of peers) {
  test(`${p.name}: GET end to end, hop-by-hop headers dropped as pinned`, async (t) => {
    if (p.skip !== undefined) return t.skip(p.skip)
    const r = await send(p.peer!.url, 'GET', '/hello?x=1', {
      connection: 'keep-alive, x-client-secret', 'x-client-secret': 'hop', 'keep-alive': '300', te: 'trailers',
      'proxy-authorization': 'Basic Zm9vOmJhcg==', 'proxy-connection': 'keep-alive', 'x-end-to-end': 'kept',
    })
    assert.equal(r.status, 200)
    const seen = JSON.parse(r.body.toString()) as { method: string; url: string; headers: Record<string, string> }
    assert.equal(seen.method, 'GET')
    assert.equal(seen.url, '/hello?x=1')
    assert.equal(seen.headers['x-end-to-end'], 'kept')
    assert.ok(seen.headers.host !== undefined)
    for (const h of p.requestDropped) assert.equal(seen.headers[h], undefined, `upstream saw ${h}`)
    assert.match(String(r.headers['x-upstream']), /^[ab]$/)
    assert.equal(r.headers['content-type'], 'application/json')
    for (const h of p.responseDropped) assert.equal(r.headers[h], undefined, `client saw ${h}`)
    const leaked = [...ALL_REQUEST.filter((h) => seen.headers[h] !== undefined).map((h) => `→${h}`),
      ...ALL_RESPONSE.filter((h) => r.headers[h] !== undefined).map((h) => `←${h}`)]
    if (leaked.length > 0) t.diagnostic(`${p.name} passes through: ${leaked.join(' ')}`)
  })

  test(`${p.name}: a 2 MB chunked upload and a 2 MB download stream through intact`, async (t) => {
    if (p.skip !== undefined) return t.skip(p.skip)
    const up = await send(p.peer!.url, 'POST', '/upload', { 'content-type': 'application/octet-stream' }, BIG)
    assert.equal(up.status, 200)
    const seen = JSON.parse(up.body.toString()) as { bytes: number; sha: string }
    assert.equal(seen.bytes, BIG.length)
    assert.equal(seen.sha, sha(BIG))
    const down = await send(p.peer!.url, 'GET', '/big')
    assert.equal(down.status, 200)
    assert.equal(down.body.length, BIG.length)
    assert.equal(sha(down.body), sha(BIG))
  })

  test(`${p.name}: statuses pass through and both replicas are used`, async (t) => {
    if (p.skip !== undefined) return t.skip(p.skip)
    const names = new Set<string>()
    for (let i = 0; i < 4; i++) {
      const r = await send(p.peer!.url, 'GET', '/missing')
      assert.equal(r.status, 404)
      assert.equal(r.body.toString(), 'nope')
      names.add(String(r.headers['x-upstream']))
    }
    assert.deepEqual([...names].sort(), ['a', 'b'])
  })
}

test('floor: round-robin is strict, and a down upstream is a 502', async () => {
  const floor = peers[0].peer!
  const order: string[] = []
  for (let i = 0; i < 4; i++) order.push(String((await send(floor.url, 'GET', '/missing')).headers['x-upstream']))
  assert.ok(order.join('') === 'abab' || order.join('') === 'baba', order.join(''))
  const lonely = await startFloor({ listen: { host: '127.0.0.1', port: 0 }, upstreams: [{ host: '127.0.0.1', port: deadPort() }], connections: 1 })
  try {
    assert.equal((await send(lonely.url, 'GET', '/')).status, 502)
  } finally { await lonely.close() }
})

test("floor: a client that goes away aborts the upstream request", async () => {
  const floor = peers[0].peer!
  const heldAborted = new Promise<void>((resolve) => { onHeld = resolve })
  const req = http.request(floor.url + '/hold', { agent: false })
  req.on('error', () => { /* we destroy it */ })
  req.end()
  await new Promise((r) => setTimeout(r, 100))
  req.destroy()
  const timer = new Promise((_r, reject) => setTimeout(() => reject(new Error('upstream request not aborted within 2 s')), 2000))
  await Promise.race([heldAborted, timer])
  onHeld = null
})

test('nginx is found or reported missing, never an exception', () => {
  const bin = findNginx()
  assert.ok(bin === undefined || bin.endsWith('nginx'))
})
