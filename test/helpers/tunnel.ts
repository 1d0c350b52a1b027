// test/helpers/tunnel.ts: what the tunnel tests share (issue 13 item 4): a `ws` echo upstream, a `ws` client that
// reports a refused handshake's status, a raw-socket exchange, and waiting for a gateway's tunnels to close.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net'
import { WebSocket, WebSocketServer } from 'ws'
import type { TestGateway } from './gateway.js'

export interface Upstream {
  server: Server; wss: WebSocketServer; port: number
  handshakes: { url: string; headers: Record<string, string | string[] | undefined> }[]
  /** Close codes the upstream's WebSockets received (a close frame from the client side, or 1006 without one). */
  closes: number[]
}

/** A `ws` upstream that echoes every message (text stays text, binary stays binary) and records each handshake. */
export async function wsUpstream(opts: { refuse?: (url: string) => number | null } = {}): Promise<Upstream> {
  const handshakes: Upstream['handshakes'] = []
  const closes: number[] = []
  const server = createServer((_req, res) => { res.writeHead(426); res.end() })
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    handshakes.push({ url: req.url!, headers: req.headers })
    const refuse = opts.refuse?.(req.url!) ?? null
    if (refuse !== null) {
      socket.end(`HTTP/1.1 ${refuse} Nope\r\ncontent-type: text/plain\r\ncontent-length: 7\r\nx-upstream: said-no\r\n\r\nnot you`)
      return
    }
    wss.handleUpgrade(req, socket, head, ws => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
      ws.on('close', code => closes.push(code))
      wss.emit('connection', ws, req)
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise(r => server.once('listening', r))
  return { server, wss, port: (server.address() as AddressInfo).port, handshakes, closes }
}

/** Opens a `ws` client; resolves once open, or rejects with the HTTP status of a refused handshake. */
export function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`status ${res.statusCode}`), { status: res.statusCode, headers: res.headers })); res.resume() })
    ws.once('error', reject)
  })
}

/** The next message a `ws` client receives. */
export const nextMessage = (ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> =>
  new Promise(r => ws.once('message', (data, binary) => r({ data: data as Buffer, binary })))

/** Sends raw bytes, returns everything read until the server closes (or `ms`). */
export function rawExchange(port: number, data: string, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1')
    let out = ''
    s.setEncoding('latin1')
    s.on('data', d => { out += d })
    s.on('error', reject)
    s.on('close', () => resolve(out))
    s.write(data)
    setTimeout(() => { s.destroy(); resolve(out) }, ms).unref()
  })
}


/** Reads `s` until a blank line ends a head, then stops reading it and calls `then` with the bytes read and where the head ends. */
export function afterHead(s: Socket, then: (buf: Buffer, end: number) => void): void {
  let buf = Buffer.alloc(0)
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d])
    const end = buf.indexOf('\r\n\r\n')
    if (end < 0) return
    s.off('data', onData)
    then(buf, end)
  }
  s.on('data', onData)
}

/**
 * A raw TCP upstream on a free loopback port for tests that need exact bytes: reads each connection's request head
 * and hands over the socket, the request target, the head (through its blank line) and the bytes read after it.
 * Sockets are half-open (a FIN from the gateway ends its direction only); their errors are ignored.
 */
export async function rawHeadServer(onHead: (s: Socket, target: string, head: Buffer, rest: Buffer) => void): Promise<{ server: TcpServer; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = []
  const server = createTcpServer({ allowHalfOpen: true }, s => {
    sockets.push(s)
    s.on('error', () => undefined)
    afterHead(s, (buf, end) => onHead(s, buf.toString('latin1', 0, buf.indexOf('\r\n')).split(' ')[1], buf.subarray(0, end + 4), buf.subarray(end + 4)))
  })
  server.listen(0, '127.0.0.1')
  await new Promise(r => server.once('listening', r))
  return { server, port: (server.address() as AddressInfo).port, sockets }
}

/** Until the gateway has no tunnel open (closes are asynchronous). */
export async function noTunnels(g: TestGateway): Promise<void> {
  for (let i = 0; i < 200 && g.running.gateway.tunnels.size > 0; i++) await new Promise(r => setTimeout(r, 10))
  assert.equal(g.running.gateway.tunnels.size, 0, 'tunnels still open')
}

