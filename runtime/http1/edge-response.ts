// The answer to one request on the http1 engine: writeHead renders the head (runtime/http1/writer.ts) and
// keeps it until the first write or end, which send it with the first body bytes in one write. 'close' is
// emitted once the last byte was handed to the OS (writableFinished true) or the connection closed first
// (writableFinished false: the client went away; runtime/gateway.ts's done() counts it as aborted).
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { EdgeResponse } from '../edge.js'
import { CONTINUE, hasToken, LAST_CHUNK, renderHead, type HeadState } from './writer.js'

/** What a response needs of its connection (implemented by Connection). */
export interface ResponseSink {
  readonly socket: Socket
  readonly keepAliveSeconds: number
  /**
   * end() was called: the connection queues `res` for `written` and may go on to the next request (bytes
   * stay in order on the socket).
   */
  ended(res: Http1Response): void
  /** The write callback of every response's last write: the connection's one function, not one per response. */
  readonly written: (err?: Error | null) => void
}

const EMPTY = Buffer.alloc(0)
/** Bodies up to this size are copied behind the head into one buffer (one write, no writev). */
const COPY_MAX = 16 * 1024

export class Http1Response extends EventEmitter implements EdgeResponse, HeadState {
  statusCode = 200
  headersSent = false
  destroyed = false
  writableFinished = false
  /** end() was called. */
  finished = false
  shouldKeepAlive: boolean
  chunked = false
  last = false
  /** The rendered head, until it is written. */
  private head = ''
  private readonly hasBody: boolean
  private sent100 = false
  /** 'drain' is wanted (a write returned false). */
  needDrain = false

  constructor(
    private readonly sink: ResponseSink,
    keepAlive: boolean,
    private readonly isHead: boolean,
    /** An HTTP/1.0 client: no chunked coding (a body of unknown length ends with the connection). */
    private readonly chunkedByDefault: boolean,
    private readonly expectContinue: boolean,
  ) {
    super()
    this.shouldKeepAlive = keepAlive
    this.hasBody = !isHead
  }

  writeHead(status: number, headers: string[], lines = '', facts = 0): this { // HOT PATH
    if (this.headersSent) throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' })
    this.statusCode = status
    this.headersSent = true
    // node:http: a client that asked for 100-continue and never got it may still be sending; do not reuse the connection
    if (this.expectContinue && !this.sent100) this.shouldKeepAlive = false
    const bodyAllowed = this.hasBody && status !== 204 && status !== 304 && !(status >= 100 && status < 200)
    this.head = renderHead(this, status, headers, bodyAllowed, this.chunkedByDefault, this.sink.keepAliveSeconds, lines, facts)
    if (!bodyAllowed) this.bodyless = true
    return this
  }

  /** No body may be sent (HEAD, 1xx, 204, 304): writes are ignored, as node:http does. */
  private bodyless = false

  writeContinue(): void {
    if (this.destroyed || !this.sink.socket.writable) return
    this.sent100 = true
    this.sink.socket.write(CONTINUE, 'latin1')
  }

  write(chunk: Buffer): boolean { // HOT PATH
    if (this.finished || this.destroyed) return false
    if (!this.headersSent) this.writeHead(this.statusCode, [])
    const socket = this.sink.socket
    if (!socket.writable) return false // closed, or ended by a refusal: 'close' comes with the socket's
    if (this.bodyless || chunk.length === 0) {
      if (this.head !== '') { const h = this.head; this.head = ''; return this.track(socket.write(h, 'latin1')) }
      return true
    }
    let ok: boolean
    if (this.chunked) {
      socket.cork()
      if (this.head !== '') { socket.write(this.head, 'latin1'); this.head = '' }
      socket.write(chunk.length.toString(16) + '\r\n', 'latin1')
      socket.write(chunk)
      ok = socket.write('\r\n', 'latin1')
      socket.uncork()
    } else if (this.head !== '') {
      ok = writeHeadAnd(socket, this.head, chunk, null)
      this.head = ''
    } else ok = socket.write(chunk)
    return this.track(ok)
  }

  end(chunk?: Buffer | string): this { // HOT PATH
    if (this.finished) return this
    if (this.destroyed) { this.finished = true; return this }
    if (!this.headersSent) this.writeHead(this.statusCode, [])
    this.finished = true
    const socket = this.sink.socket
    if (!socket.writable) { this.sink.ended(this); return this } // 'close' comes with the socket's
    const data = chunk === undefined || this.bodyless ? EMPTY : typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    const done = this.sink.written
    if (this.chunked) {
      socket.cork()
      if (this.head !== '') { socket.write(this.head, 'latin1'); this.head = '' }
      if (data.length > 0) { socket.write(data.length.toString(16) + '\r\n', 'latin1'); socket.write(data); socket.write('\r\n', 'latin1') }
      socket.write(LAST_CHUNK, 'latin1', done)
      socket.uncork()
    } else if (this.head !== '') {
      writeHeadAnd(socket, this.head, data, done)
      this.head = ''
    } else if (data.length === 0 && socket.writableLength === 0) {
      // Everything was already handed to the OS (the common end of a proxied body): no empty write, whose
      // system call the profile showed on every response. Earlier write callbacks are queued ahead of this one.
      process.nextTick(done)
    } else socket.write(data, done)
    this.sink.ended(this)
    return this
  }

  destroy(err?: Error): this {
    this.sink.socket.destroy(err)
    return this
  }

  private track(ok: boolean): boolean {
    if (!ok) this.needDrain = true
    return ok
  }

  /** The last byte was handed to the OS (called by the connection, in response order). */
  flushed(): void {
    if (this.destroyed) return
    this.writableFinished = true
    this.closed()
  }

  /** The response is over: finished, or its connection closed first. */
  closed(): void {
    if (this.destroyed) return
    this.destroyed = true
    process.nextTick(emitClose, this)
  }
}

function emitClose(res: Http1Response): void { res.emit('close') }

/** The head and the first body bytes in one write: one buffer when small, else one writev (cork). */
function writeHeadAnd(socket: Socket, head: string, body: Buffer, cb: ((err?: Error | null) => void) | null): boolean { // HOT PATH
  if (body.length <= COPY_MAX) {
    const n = head.length
    const out = Buffer.allocUnsafe(n + body.length)
    ;(out as unknown as { latin1Write(s: string, o: number, n: number): number }).latin1Write(head, 0, n)
    body.copy(out, n)
    return cb === null ? socket.write(out) : socket.write(out, cb)
  }
  socket.cork()
  socket.write(head, 'latin1')
  const ok = cb === null ? socket.write(body) : socket.write(body, cb)
  socket.uncork()
  return ok
}

/**
 * Whether a body of unknown length is sent chunked (node:http's ServerResponse#useChunkedEncodingByDefault): to
 * an HTTP/1.1 client, or to an HTTP/1.0 one whose TE header lists chunked; otherwise it ends with the connection.
 */
export function chunkedByDefault(versionMinor: number, te: string | string[] | undefined): boolean { // HOT PATH
  return versionMinor === 1 || (typeof te === 'string' && hasToken(te, 'chunked'))
}
