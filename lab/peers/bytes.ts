// lab/peers/bytes.ts: the byte-level limit case (issue 13 item 6): a minimal reverse proxy on node:net on both
// sides, no rules. It finds a request head's end in the bytes, reads the three fields framing needs
// (Content-Length, Transfer-Encoding, Connection) with minimal JS parsing, writes the head and body to an upstream
// connection from a small per-replica pool of kept-alive sockets, and streams the response back as received,
// framed by Content-Length, chunked encoding or the upstream's close. Heads pass through unchanged (no hop-by-hop
// handling, no Host rewrite, no validation): UNSAFE by design, it is what Node can do when nothing is checked, the
// last rows of issue 13's table. Keep-alive and pipelined requests on the client side (served one at a time),
// backpressure both ways, an early answer (the upstream answers before reading the whole body: the rest is read
// and dropped, that upstream connection is not reused).
//   node dist/lab/peers/bytes.js --listen 127.0.0.1:8084 --upstream 127.0.0.1:9001,127.0.0.1:9002 [--connections N]
import net from 'node:net'
import { formatHostPort, isMain, runPeerMain, type HostPort } from './common.js'

export interface BytesProxyOptions {
  listen: HostPort
  upstreams: HostPort[]
  /** Keep-alive connections per replica (the most open at once; requests beyond wait for one). */
  connections: number
  keepAliveMs?: number
}

const CRLFCRLF = Buffer.from('\r\n\r\n')
/** A head larger than this without its end is refused (the connection is closed). */
const MAX_HEAD = 64 * 1024
const BAD_GATEWAY = Buffer.from('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')

/** Buffer → latin1 string without Buffer#toString's argument handling (as runtime/headers.ts does). */
const latin1 = (b: Buffer, from: number, to: number): string => (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(from, to)

/** How a message's body ends. */
const NONE = 0, LENGTH = 1, CHUNKED = 2, UNTIL_CLOSE = 3

/** The framing fields of a head, read from its latin1 text. */
export interface Framing {
  /** NONE, LENGTH or CHUNKED (a response with none of them ends at the close: the caller decides). */
  body: number
  length: number
  /** A Content-Length line was there (a response without one, not chunked, ends at the close). */
  hasLength: boolean
  /** Connection: close, or HTTP/1.0 without Connection: keep-alive. */
  close: boolean
}

/**
 * Reads Content-Length, Transfer-Encoding and Connection from a head (request or status line first). Minimal:
 * a line is looked at only when its first character could start one of the three names. HOT PATH.
 */
export function readFraming(head: string, http10: boolean): Framing {
  let body = NONE, length = 0, hasLength = false, sawClose = false, keepAlive = false
  let i = head.indexOf('\r\n') + 2
  while (i < head.length) {
    let end = head.indexOf('\r\n', i)
    if (end < 0) end = head.length
    const c = head.charCodeAt(i) | 0x20
    if (c === 0x63 /* c */ || c === 0x74 /* t */) {
      const colon = head.indexOf(':', i)
      const len = colon - i // only the lengths of the three names are sliced and lower-cased
      if (colon < end && (len === 14 || len === 17 || len === 10)) {
        const name = head.slice(i, colon).toLowerCase()
        if (name === 'content-length') { hasLength = true; length = Number(head.slice(colon + 1, end).trim()); if (body !== CHUNKED) body = LENGTH }
        else if (name === 'transfer-encoding') { if (/chunked\s*$/i.test(head.slice(colon + 1, end))) body = CHUNKED }
        else if (name === 'connection') {
          const v = head.slice(colon + 1, end).toLowerCase()
          if (v.includes('close')) sawClose = true
          else if (v.includes('keep-alive')) keepAlive = true
        }
      }
    }
    i = end + 2
  }
  if (body === LENGTH && !(length > 0)) { body = NONE; length = 0 }
  return { body, length, hasLength, close: sawClose || (http10 && !keepAlive) }
}

/**
 * Finds where a chunked body ends, fed the bytes as they come (chunk sizes, extensions, data, trailers; lenient:
 * no validation). scan() returns the index just past the body's last byte, or -1 when it needs more. HOT PATH.
 */
export class ChunkedScanner {
  private state = 0 // 0 size, 1 rest of size line, 2 data, 3 after data (CRLF), 4 trailer line start, 5 trailer line
  private size = 0
  private left = 0

  reset(): void { this.state = 0; this.size = 0; this.left = 0 }

  scan(buf: Buffer, from: number, to: number): number {
    let i = from
    while (i < to) {
      switch (this.state) {
        case 0: {
          const c = buf[i++]
          const v = c >= 48 && c <= 57 ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1
          if (v >= 0) this.size = this.size * 16 + v
          else if (c === 10) this.sizeLineEnd()
          else this.state = 1
          break
        }
        case 1: {
          const lf = buf.indexOf(10, i)
          if (lf < 0 || lf >= to) return -1
          i = lf + 1
          this.sizeLineEnd()
          break
        }
        case 2: {
          const n = Math.min(this.left, to - i)
          i += n
          this.left -= n
          if (this.left === 0) this.state = 3
          break
        }
        case 3: {
          const lf = buf.indexOf(10, i)
          if (lf < 0 || lf >= to) return -1
          i = lf + 1
          this.state = 0
          this.size = 0
          break
        }
        case 4: {
          const c = buf[i++]
          if (c === 10) { this.reset(); return i }
          if (c !== 13) this.state = 5
          break
        }
        default: {
          const lf = buf.indexOf(10, i)
          if (lf < 0 || lf >= to) return -1
          i = lf + 1
          this.state = 4
        }
      }
    }
    return -1
  }

  private sizeLineEnd(): void {
    if (this.size === 0) { this.state = 4; return }
    this.left = this.size
    this.state = 2
  }
}

/** Body progress of one message: call feed() with the bytes that follow; it says how many belong to the body. */
class BodyTracker {
  kind = NONE
  left = 0
  done = true
  readonly chunked = new ChunkedScanner()

  start(kind: number, length: number): void {
    this.kind = kind
    this.left = length
    this.done = kind === NONE
    if (kind === CHUNKED) this.chunked.reset()
  }

  /** Of buf[from, to), how many bytes are this body's (done is set when it ends). */
  feed(buf: Buffer, from: number, to: number): number {
    if (this.done) return 0
    if (this.kind === LENGTH) {
      const n = Math.min(this.left, to - from)
      this.left -= n
      if (this.left === 0) this.done = true
      return n
    }
    if (this.kind === CHUNKED) {
      const end = this.chunked.scan(buf, from, to)
      if (end < 0) return to - from
      this.done = true
      return end - from
    }
    return to - from // UNTIL_CLOSE: everything, until the socket closes
  }
}

interface Replica { addr: HostPort; idle: Upstream[]; open: number; waiting: Client[] }

/** One kept-alive upstream connection: reads the response to the request of `client`. */
class Upstream {
  client: Client | null = null
  buf: Buffer | null = null // a response head not complete yet
  inBody = false
  readonly body = new BodyTracker()
  reusable = true
  /** Whether any byte of the current response arrived (a failure before that may be retried once). */
  answered = false
  fresh = true
  idleSince = 0

  constructor(readonly socket: net.Socket, readonly replica: Replica, readonly proxy: BytesProxy) {
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => this.onData(d))
    socket.on('drain', () => this.client?.socket.resume())
    socket.on('error', () => { /* 'close' follows */ })
    socket.on('close', () => this.onClose())
  }

  onData(d: Buffer): void { // HOT PATH
    const c = this.client
    if (c === null) { this.socket.destroy(); return } // bytes on an idle connection: not ours to keep
    this.answered = true
    let buf = d, at = 0
    while (at < buf.length) {
      if (!this.inBody) {
        if (this.buf !== null) { buf = Buffer.concat([this.buf, buf.subarray(at)]); at = 0; this.buf = null }
        const end = buf.indexOf(CRLFCRLF, at)
        if (end < 0) {
          if (buf.length - at > MAX_HEAD) { this.socket.destroy(); return }
          this.buf = buf.subarray(at)
          return
        }
        const headEnd = end + 4
        const head = latin1(buf, at, headEnd)
        const status = Number(head.slice(9, 12))
        const f = readFraming(head, head.charCodeAt(7) === 48 /* HTTP/1.0 */)
        if (f.close) this.reusable = false
        if (status >= 100 && status < 200) { c.write(buf.subarray(at, headEnd)); at = headEnd; continue } // 100/103: another head follows
        const kind = c.head || status === 204 || status === 304 ? NONE : f.body === NONE && !f.hasLength ? UNTIL_CLOSE : f.body
        if (kind === UNTIL_CLOSE) this.reusable = false
        this.body.start(kind, f.length)
        this.inBody = true
        const n = this.body.feed(buf, headEnd, buf.length)
        c.write(buf.subarray(at, headEnd + n))
        at = headEnd + n
      } else {
        const n = this.body.feed(buf, at, buf.length)
        c.write(buf.subarray(at, at + n))
        at += n
      }
      if (this.body.done) {
        if (at < buf.length) this.reusable = false // bytes after the response: this connection is out of step
        this.finish()
        return
      }
    }
  }

  /** The response ended: the client goes on, this connection back to the pool (or closed). */
  finish(): void {
    const c = this.client!
    this.client = null
    this.inBody = false
    this.answered = false
    this.fresh = false
    // the client saw this head as sent: an upstream close (announced or by framing) is the client's too
    const closeClient = !this.reusable
    if (this.reusable && c.bodyDone) this.proxy.release(this)
    else this.socket.destroy()
    c.responseDone(closeClient)
  }

  onClose(): void {
    const r = this.replica
    r.open--
    const i = r.idle.indexOf(this)
    if (i >= 0) r.idle.splice(i, 1)
    const c = this.client
    this.client = null
    if (c !== null) {
      if (this.inBody && this.body.kind === UNTIL_CLOSE) { this.inBody = false; c.up = null; c.responseDone(true) } // the close is its end
      else c.upstreamFailed(this)
    }
    this.proxy.wake(r)
  }
}

/** One client connection: requests are read one at a time (pipelined ones wait in `buf`). */
class Client {
  buf: Buffer | null = null
  /** What the client sends next: 0 a head, 1 the current request's body, 2 nothing until the answer ends, 3 a body
   *  to drop (after an early answer), 4 nothing (the connection is being closed). */
  state = 0
  readonly body = new BodyTracker()
  bodyDone = true
  head = false
  close = false
  up: Upstream | null = null
  /** The request as written, kept when it fit in one write: replayed once if a reused connection fails first. */
  replay: Buffer | null = null
  /** The request bytes waiting for a connection (queued at a full pool). */
  pending: Buffer | null = null
  sentAny = false

  constructor(readonly socket: net.Socket, readonly proxy: BytesProxy) {
    socket.setNoDelay(true)
    socket.on('data', (d: Buffer) => this.onData(d))
    socket.on('drain', () => this.up?.socket.resume())
    socket.on('error', () => { /* 'close' follows */ })
    socket.on('close', () => {
      this.state = 4
      const u = this.up
      this.up = null
      if (u !== null && u.client === this) { u.client = null; u.socket.destroy() }
      if (this.pending !== null) proxy.forget(this)
    })
  }

  onData(d: Buffer): void { // HOT PATH
    if (this.state === 4) return
    if (this.state === 1 || this.state === 3) {
      const n = this.body.feed(d, 0, d.length)
      if (this.state === 1) this.up!.socket.write(n === d.length ? d : d.subarray(0, n)) || this.socket.pause()
      if (n < d.length) this.keep(d.subarray(n)) // the next request's bytes, read once this one is answered
      if (this.body.done) this.requestBodyEnd()
      return
    }
    this.keep(d)
    if (this.state === 0) this.next()
    else if (this.buf!.length > MAX_HEAD) this.socket.pause() // pipelined requests beyond a head's worth wait in the kernel
  }

  private keep(d: Buffer): void {
    this.buf = this.buf === null ? d : Buffer.concat([this.buf, d])
  }

  /** Reads the next request head from `buf`, if whole, and sends it upstream. */
  next(): void {
    const buf = this.buf
    if (buf === null) return
    const end = buf.indexOf(CRLFCRLF)
    if (end < 0) { if (buf.length > MAX_HEAD) this.refuse(BAD_REQUEST); return }
    const headEnd = end + 4
    const head = latin1(buf, 0, headEnd)
    const sp = head.indexOf(' ')
    if (sp < 0) { this.refuse(BAD_REQUEST); return }
    const eol = head.indexOf('\r\n')
    const f = readFraming(head, head.charCodeAt(eol - 1) === 48 /* HTTP/1.0 */)
    this.head = sp === 4 && head.startsWith('HEAD')
    this.close = f.close
    this.body.start(f.body === UNTIL_CLOSE ? NONE : f.body, f.length)
    const n = this.body.feed(buf, headEnd, buf.length)
    const first = buf.subarray(0, headEnd + n)
    this.buf = headEnd + n < buf.length ? buf.subarray(headEnd + n) : null
    this.bodyDone = this.body.done
    this.replay = this.bodyDone ? first : null
    this.state = this.bodyDone ? 2 : 1
    this.sentAny = false
    this.socket.pause() // until an upstream connection takes the request
    this.proxy.acquire(this, first)
  }

  /** An upstream connection for the current request: write what is there. */
  send(up: Upstream, first: Buffer): void {
    if (this.state === 4) { up.proxy.release(up); return } // the client left while its request waited
    this.up = up
    up.client = this
    up.reusable = !this.close // a Connection: close passed upstream closes that connection too, whatever the answer says
    if (up.socket.isPaused()) up.socket.resume() // paused by the last client's window when its answer ended
    up.socket.write(first)
    this.socket.resume()
  }

  requestBodyEnd(): void {
    this.bodyDone = true
    if (this.state === 3) { this.state = 0; this.next() } else this.state = 2
  }

  write(b: Buffer): void { // HOT PATH
    this.sentAny = true
    if (!this.socket.write(b)) this.up?.socket.pause()
  }

  responseDone(closeClient: boolean): void {
    this.up = null
    if (closeClient || this.close) { this.state = 4; this.socket.end(); return }
    // an early answer: the rest of the body is read and dropped (the socket may be paused on the upstream's window)
    if (!this.bodyDone) { this.state = 3; this.socket.resume(); return }
    this.state = 0
    this.socket.resume()
    this.next()
  }

  upstreamFailed(up: Upstream): void {
    this.up = null
    // a reused connection the upstream closed while idle: the whole request, if kept, goes out once more on a new one
    if (!up.answered && !up.fresh && this.replay !== null) { const r = this.replay; this.replay = null; this.proxy.acquire(this, r, true); return }
    if (this.sentAny) this.socket.destroy()
    else this.refuse(BAD_GATEWAY)
  }

  refuse(answer: Buffer): void {
    this.buf = null
    this.state = 4
    this.socket.end(answer)
  }
}

class BytesProxy {
  private readonly replicas: Replica[]
  private nextReplica = 0
  private clock = 0
  private readonly sweep: NodeJS.Timeout

  constructor(upstreams: HostPort[], readonly connections: number, readonly keepAliveMs: number) {
    this.replicas = upstreams.map((addr) => ({ addr, idle: [], open: 0, waiting: [] }))
    // Idle connections past keepAliveMs are closed by a coarse sweep, so a request touches no timer.
    this.sweep = setInterval(() => {
      this.clock += 1000
      for (const r of this.replicas) for (const u of [...r.idle]) if (this.clock - u.idleSince > this.keepAliveMs) u.socket.destroy()
    }, 1000).unref()
  }

  /** Finds a connection for the client's request (round-robin over replicas): idle, new, or queued. HOT PATH. */
  acquire(c: Client, first: Buffer, fresh = false): void {
    const r = this.replicas[this.nextReplica]
    this.nextReplica = this.nextReplica + 1 === this.replicas.length ? 0 : this.nextReplica + 1
    const idle = fresh ? undefined : r.idle.pop()
    if (idle !== undefined) { c.send(idle, first); return }
    if (r.open < this.connections || fresh) { this.connect(r, c, first); return }
    c.pending = first
    r.waiting.push(c)
  }

  /** A queued client closed. */
  forget(c: Client): void {
    c.pending = null
    for (const r of this.replicas) { const i = r.waiting.indexOf(c); if (i >= 0) r.waiting.splice(i, 1) }
  }

  private take(r: Replica): { c: Client; first: Buffer } | undefined {
    const c = r.waiting.shift()
    if (c === undefined) return undefined
    const first = c.pending!
    c.pending = null
    return { c, first }
  }

  private connect(r: Replica, c: Client, first: Buffer): void {
    r.open++
    const s = net.connect(r.addr.port, r.addr.host)
    const up = new Upstream(s, r, this)
    up.client = c
    c.up = up
    s.once('connect', () => { if (up.client === c) c.send(up, first) })
  }

  release(up: Upstream): void {
    const r = up.replica
    const w = this.take(r)
    if (w !== undefined) { w.c.send(up, w.first); return }
    up.idleSince = this.clock
    r.idle.push(up)
  }

  /** A connection closed: a queued request may now open one. */
  wake(r: Replica): void {
    const w = this.take(r)
    if (w !== undefined) this.connect(r, w.c, w.first)
  }

  close(): void {
    clearInterval(this.sweep)
    for (const r of this.replicas) for (const u of [...r.idle]) u.socket.destroy()
  }
}

/** Starts the byte-level proxy. Resolves once it listens; close() stops it and its upstream connections. */
export async function startBytesProxy(opts: BytesProxyOptions): Promise<{ url: string; port: number; pid: number; close(): Promise<void> }> {
  if (opts.upstreams.length === 0) throw new Error('bytes: at least one upstream')
  const proxy = new BytesProxy(opts.upstreams, opts.connections, opts.keepAliveMs ?? 30_000)
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    new Client(s, proxy)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.listen.port, opts.listen.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as net.AddressInfo).port
  return {
    url: `http://${formatHostPort({ host: opts.listen.host, port })}`,
    port,
    pid: process.pid,
    async close() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy() })
      proxy.close()
    },
  }
}

if (isMain(import.meta.url)) {
  void runPeerMain('bytes', (a) => startBytesProxy({ listen: a.listen, upstreams: a.upstreams, connections: a.connections, keepAliveMs: a.keepAliveMs }))
}
