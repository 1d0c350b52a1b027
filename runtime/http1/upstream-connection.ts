// One connection of the http1 engine's upstream pool (upstream-pool.ts): a node:net socket carrying one
// exchange at a time. It writes the request (upstream-writer.ts; a stream body as the socket drains), parses
// the answer (response-parser.ts, ChunkedDecoder) and hands it to the dispatch's handler with backpressure
// (onData false pauses the socket until resume()), and watches the connect, keep-alive and body idle times.
//
// Stale sockets: a request given to a connection that has carried one before is written one event-loop turn
// later (the pool's setImmediate, as undici does), so an upstream's FIN or RST already waiting on the idle
// socket is seen first; the request, not written, then goes out on another connection. Once a byte was
// written a failure is an error for the exchange to judge (it retries idempotent requests only).
import { connect, type Socket } from 'node:net'
import type { Readable } from 'node:stream'
import type { UpstreamDispatch, UpstreamHandler } from '../upstream/pool.js'
import { BodyFailure, ChunkedDecoder } from './body.js'
import { carryOver } from './fields.js'
import type { HeadLimits } from './request-parser.js'
import { HeadFailure, parseResponseHead, type ResponseHead } from './response-parser.js'
import { CHUNKED_END, RequestFraming, chunkStart, expectsPayload, renderRequestHead } from './upstream-writer.js'
import type { Http1Pool } from './upstream-pool.js'

/** An error with the code the exchange maps to an outcome (runtime/upstream/exchange.ts). */
export class UpstreamError extends Error {
  constructor(readonly code: string, message: string) { super(message) }
}

// Connection states.
/** The socket is connecting; a request may be waiting on it. */
export const CONNECTING = 0
/** In the pool's idle list. */
export const IDLE = 1
/** A request waits one turn before it is written to this (used) socket. */
export const VALIDATING = 2
/** The request is (being) written; its answer's head has not arrived. */
export const HEAD = 3
/** Reading the answer's body. */
export const BODY = 4
/** Closed, or handed over (upgrade). */
export const CLOSED = 5

/** How the answer's body ends (ResponseHead.body). */
const B_NONE = 0, B_LENGTH = 1, B_CHUNKED = 2, B_CLOSE = 3

/** Response heads as large as node:http (and so undici) takes them; the byte limit bounds the field count. */
const LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 16 * 1024 }
/** undici subtracts this from an upstream's Keep-Alive hint (a connection about to expire is not reused). */
const KEEP_ALIVE_THRESHOLD_MS = 2000
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/
const EMPTY = Buffer.alloc(0)

const otherSideClosed = (): UpstreamError => new UpstreamError('UND_ERR_SOCKET', 'other side closed')

export class UpstreamConnection {
  state = CONNECTING
  readonly socket: Socket
  /** The socket connected (it counts in the pool's connect/disconnect events). */
  connected = false
  /** The current exchange. */
  opts: UpstreamDispatch | null = null
  handler: UpstreamHandler | null = null
  private method = ''
  /** Inside handler.onConnect: an abort there drops the request before any byte is written. */
  private starting = false
  /** The request body (a stream) is still being written. */
  private writing = false
  private body: Readable | null = null
  private readonly framing = new RequestFraming()
  /** The head of a stream body's request, written with its first chunk (or at its end when empty), as undici does. */
  private headPending: string | null = null
  private bodyWritten = 0
  /** The connection is not reused after this exchange. */
  private reset = false
  /** Unparsed response bytes: buf[start, end). */
  private buf: Buffer = EMPTY
  private start = 0
  private end = 0
  private bodyKind = B_NONE
  private bodyLeft = 0
  private decoder: ChunkedDecoder | null = null
  /** onData said false: the socket is paused until resume(). */
  private paused = false
  /** The upstream's FIN arrived while reading was paused (a body framed by the close ends on resume). */
  private eof = false
  /** How long this connection may sit idle (the pool's, shortened by the upstream's Keep-Alive hint). */
  keepAliveMs: number
  /** Start of the current idle or body wait (performance.now()). */
  mark = 0
  private timer: NodeJS.Timeout | null = null
  private due = 0
  private connectTimer: NodeJS.Timeout | null = null
  private socketError: Error | null = null
  private readonly pool: Http1Pool

  constructor(pool: Http1Pool) {
    this.pool = pool
    this.keepAliveMs = pool.idleMs
    const s = this.socket = connect({ host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 })
    s.on('connect', this.onConnected)
    s.on('data', this.onData)
    s.on('end', this.onEnd)
    s.on('error', this.onSocketError)
    s.on('close', this.onClose)
    s.on('drain', this.onDrain)
    if (pool.connectTimeoutMs > 0) this.connectTimer = setTimeout(this.onConnectTimeout, pool.connectTimeoutMs)
  }

  /** Give this connection a request (the pool chose it: connecting, or idle). */
  assign(opts: UpstreamDispatch, handler: UpstreamHandler): void { // HOT PATH
    this.opts = opts
    this.handler = handler
    if (this.state === CONNECTING) return // written once connected
    this.state = VALIDATING
    this.socket.ref()
    this.pool.validate(this)
  }

  /** The request is written now: after the connect, or the turn a used socket waits. */
  write(): void { // HOT PATH
    const h = this.handler!, opts = this.opts!
    const method = this.method = opts.method
    this.state = HEAD
    this.reset = method === 'HEAD' || opts.upgrade != null
    this.starting = true
    h.onConnect(this.abort)
    this.starting = false
    if (this.handler !== h) { this.pool.release(this); return } // aborted in onConnect: nothing was written
    const f = this.framing
    try {
      renderRequestHead(f, opts, this.pool.hostHeader, method === 'HEAD')
    } catch (err) {
      this.handler = null
      this.opts = null
      this.pool.release(this)
      h.onError(err as Error)
      return
    }
    const body = opts.body
    const socket = this.socket
    if (body === null || (Buffer.isBuffer(body) && body.length === 0)) {
      socket.write(expectsPayload(method) ? f.head + 'content-length: 0\r\n\r\n' : f.head + '\r\n', 'latin1')
    } else if (Buffer.isBuffer(body)) {
      if (!expectsPayload(method)) this.reset = true // a body the method does not define: not reused (undici)
      socket.cork()
      socket.write(f.head + 'content-length: ' + body.length + '\r\n\r\n', 'latin1')
      socket.write(body)
      socket.uncork()
    } else {
      this.writing = true
      this.body = body
      this.headPending = f.head
      this.bodyWritten = 0
      body.on('data', this.onBodyData)
      body.on('end', this.onBodyEnd)
      body.on('error', this.onBodyError)
      body.on('close', this.onBodyClose)
      body.resume()
    }
  }

  private readonly onBodyData = (chunk: Buffer): void => { // HOT PATH
    if (!this.writing) return
    const len = chunk.length
    if (len === 0) return
    const cl = this.framing.contentLength
    if (cl >= 0 && this.bodyWritten + len > cl) { this.fail(new UpstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header')); return }
    const socket = this.socket
    socket.cork()
    if (this.headPending !== null) {
      socket.write(cl >= 0 ? this.headPending + 'content-length: ' + cl + '\r\n\r\n' : this.headPending + 'transfer-encoding: chunked\r\n', 'latin1')
      this.headPending = null
      if (!expectsPayload(this.method)) this.reset = true
    }
    if (cl < 0) socket.write(chunkStart(len), 'latin1')
    this.bodyWritten += len
    const ok = socket.write(chunk)
    socket.uncork()
    if (!ok) this.body!.pause()
  }

  private readonly onDrain = (): void => { if (this.writing) this.body!.resume() }

  private readonly onBodyEnd = (): void => {
    if (!this.writing) return
    this.detachBody(false)
    const cl = this.framing.contentLength
    if (this.headPending !== null) {
      this.socket.write(expectsPayload(this.method) ? this.headPending + 'content-length: 0\r\n\r\n' : this.headPending + '\r\n', 'latin1')
      this.headPending = null
    } else if (cl < 0) this.socket.write(CHUNKED_END, 'latin1')
    else if (this.bodyWritten !== cl) this.fail(new UpstreamError('UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'Request body length does not match content-length header'))
  }

  private readonly onBodyError = (err: Error): void => { if (this.writing) this.fail(err) }

  /** 'close' may come before 'error' for a broken stream: wait a tick (as undici). */
  private readonly onBodyClose = (): void => { if (this.writing) queueMicrotask(this.onBodyClosed) }
  private readonly onBodyClosed = (): void => { if (this.writing) this.fail(new UpstreamError('UND_ERR_ABORTED', 'Request aborted')) }

  private detachBody(destroy: boolean): void {
    const body = this.body!
    this.writing = false
    this.body = null
    body.off('data', this.onBodyData)
    body.off('end', this.onBodyEnd)
    body.off('error', this.onBodyError)
    body.off('close', this.onBodyClose)
    if (destroy) body.destroy()
  }

  /** Given to the handler in onConnect (one per connection, not per request: see UpstreamHandler). */
  private readonly abort = (err?: Error): void => {
    const h = this.handler
    if (h === null) return
    const e = err ?? new UpstreamError('UND_ERR_ABORTED', 'Request aborted')
    this.handler = null
    this.opts = null
    if (this.starting) { h.onError(e); return } // nothing written: write() gives the connection back
    this.kill()
    h.onError(e)
  }

  private readonly onConnected = (): void => {
    if (this.connectTimer !== null) { clearTimeout(this.connectTimer); this.connectTimer = null }
    if (this.state !== CONNECTING) return
    this.connected = true
    this.pool.emitConnect()
    if (this.handler !== null) this.write()
    else this.pool.release(this)
  }

  private readonly onConnectTimeout = (): void => {
    this.connectTimer = null
    if (this.state === CONNECTING) this.socket.destroy(new UpstreamError('UND_ERR_CONNECT_TIMEOUT', 'Connect Timeout Error'))
  }

  private readonly onSocketError = (err: Error): void => { this.socketError ??= err }

  private readonly onData = (chunk: Buffer): void => { // HOT PATH
    const st = this.state
    if (st !== HEAD && st !== BODY) { this.unusable(); return } // bytes nobody asked for: the connection is not trusted again
    this.buf = carryOver(this.buf, this.start, this.end, chunk)
    this.start = 0
    this.end = this.buf.length
    this.process()
  }

  /** Parse and deliver what is buffered, as far as the state and the handler's backpressure allow. */
  private process(): void { // HOT PATH
    for (;;) {
      if (this.paused) return
      const st = this.state
      if (st === HEAD) {
        if (this.start === this.end) return
        const r = parseResponseHead(this.buf, this.start, this.end, LIMITS, this.method)
        if (r === null) return
        if (r instanceof HeadFailure) { this.fail(new UpstreamError('GW_ERR_UPSTREAM_PROTOCOL', `malformed response from upstream: ${r.detail}`)); return }
        this.start += r.size
        if (r.upgrade) { this.upgraded(r); return }
        if (r.status < 200) { // interim (100, 103, …): reported, then the final answer follows
          const h = this.handler!
          h.onHeaders(r.status, r.rawHeaders, this.resume, r.reason)
          if (this.handler !== h) return
          continue
        }
        if (!this.begin(r)) return
      } else if (st === BODY) {
        if (this.start === this.end) { if (this.eof) this.finished(); return }
        if (!this.feed()) return
      } else return
    }
  }

  /** A final answer's head: keep-alive decided, the handler told, the body's framing set. False: stop. */
  private begin(r: ResponseHead): boolean { // HOT PATH
    let keep = r.keepAlive && !this.reset
    if (keep) {
      const hint = r.headers['keep-alive']
      const m = typeof hint === 'string' ? KEEP_ALIVE_TIMEOUT.exec(hint) : null
      if (m === null) this.keepAliveMs = this.pool.idleMs
      else {
        // The hint may shorten the pool's idle time, never lengthen it (undici's keepAliveMaxTimeout).
        const t = Number(m[1]) * 1000 - KEEP_ALIVE_THRESHOLD_MS
        if (t <= 0) keep = false
        else this.keepAliveMs = Math.min(t, this.pool.idleMs)
      }
    }
    if (!keep) this.reset = true
    const kind = r.body
    this.bodyKind = kind === 'none' ? B_NONE : kind === 'length' ? B_LENGTH : kind === 'chunked' ? B_CHUNKED : B_CLOSE
    this.bodyLeft = r.contentLength
    this.decoder = kind === 'chunked' ? new ChunkedDecoder() : null
    this.state = BODY
    const h = this.handler!
    h.onHeaders(r.status, r.rawHeaders, this.resume, r.reason)
    if (this.handler !== h) return false
    if (this.bodyKind === B_NONE || (this.bodyKind === B_LENGTH && this.bodyLeft === 0)) { this.finished(); return this.state === BODY }
    this.mark = performance.now()
    if (this.pool.bodyIdleMs > 0) this.clock(this.pool.bodyIdleMs)
    return true
  }

  /** Body bytes from the buffer to the handler. False: stop processing (paused, done or failed). */
  private feed(): boolean { // HOT PATH
    const h = this.handler!
    const buf = this.buf
    let ok: boolean
    this.mark = performance.now()
    if (this.bodyKind === B_CHUNKED) {
      this.sinkOk = true
      const n = this.decoder!.decode(buf, this.start, this.end, this.sink)
      if (this.handler !== h) return false
      if (n instanceof BodyFailure) { this.fail(new UpstreamError('GW_ERR_UPSTREAM_PROTOCOL', `malformed response body from upstream: ${n.detail}`)); return false }
      this.start += n
      if (this.decoder!.done) { this.finished(); return false }
      ok = this.sinkOk
    } else {
      const n = this.bodyKind === B_LENGTH ? Math.min(this.bodyLeft, this.end - this.start) : this.end - this.start
      const chunk = this.start === 0 && n === buf.length ? buf : buf.subarray(this.start, this.start + n)
      this.start += n
      this.bodyLeft -= n
      ok = h.onData(chunk)
      if (this.handler !== h) return false
      if (this.bodyKind === B_LENGTH && this.bodyLeft === 0) { this.finished(); return false }
    }
    if (!ok) { this.paused = true; this.socket.pause(); return false }
    return true
  }

  private sinkOk = true
  private readonly sink = (chunk: Buffer): void => {
    const h = this.handler
    if (h !== null && !h.onData(chunk)) this.sinkOk = false
  }

  /** Given to onHeaders: reading resumes after onData said false. */
  private readonly resume = (): void => {
    if (!this.paused) return
    this.paused = false
    this.mark = performance.now()
    this.process()
    if (!this.paused && this.state !== CLOSED) this.socket.resume()
  }

  /** The answer is complete: the handler is told, then the connection goes back to the pool or closes. */
  private finished(): void { // HOT PATH
    const h = this.handler!
    this.handler = null
    this.opts = null
    this.decoder = null
    this.state = HEAD // no longer reading a body (the pool sets the next state)
    const leftover = this.start !== this.end
    this.buf = EMPTY
    this.start = this.end = 0
    h.onComplete(null)
    if (this.state !== HEAD) return // the handler's own doing closed it
    // An answer before the whole request body was written: the connection's framing is unknown now, so it
    // is not reused (undici too); nor after a connection: close, a HEAD, bytes past the answer, a FIN.
    if (this.writing) { this.detachBody(true); this.kill(); return }
    if (this.reset || leftover || this.eof) { this.kill(); return }
    this.pool.release(this)
  }

  private readonly onEnd = (): void => {
    const st = this.state
    if (st === BODY && this.bodyKind === B_CLOSE) {
      this.eof = true
      if (!this.paused && this.start === this.end) this.finished()
      return
    }
    if (st === HEAD || st === BODY) { this.fail(otherSideClosed()); return }
    this.unusable()
  }

  private readonly onClose = (): void => {
    if (this.state === CLOSED) return
    if (this.state === VALIDATING || this.state === IDLE) { this.unusable(); return }
    const h = this.handler
    this.handler = null
    this.opts = null
    if (this.writing) this.detachBody(true)
    this.kill()
    if (h !== null) h.onError(this.socketError ?? otherSideClosed())
  }

  /**
   * The socket closed, or sent what nobody asked for, while idle or waiting its turn: it is dropped, and a
   * request waiting to be written on it (nothing was written) goes to another connection.
   */
  private unusable(): void {
    const st = this.state
    const opts = this.opts, h = this.handler
    this.handler = null
    this.opts = null
    this.kill()
    if (st === VALIDATING && h !== null) this.pool.place(opts!, h, true)
  }

  /** The exchange failed: the handler is told and the connection closed. */
  fail(err: Error): void {
    const h = this.handler
    this.handler = null
    this.opts = null
    if (this.writing) this.detachBody(true)
    this.kill()
    if (h !== null) h.onError(err)
  }

  /** 101: the socket leaves the pool for the handler (the bytes after the head put back in its read buffer). */
  private upgraded(r: ResponseHead): void {
    const h = this.handler!
    const socket = this.socket
    if (this.opts!.upgrade == null || h.onUpgrade === undefined) { this.fail(new UpstreamError('GW_ERR_UPSTREAM_PROTOCOL', 'upgrade not requested')); return }
    this.handler = null
    this.opts = null
    socket.pause()
    socket.off('connect', this.onConnected)
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('error', this.onSocketError)
    socket.off('close', this.onClose)
    socket.off('drain', this.onDrain)
    const rest = this.start < this.end ? this.buf.subarray(this.start, this.end) : null
    this.buf = EMPTY
    this.start = this.end = 0
    this.closeState()
    if (rest !== null) socket.unshift(rest)
    h.onUpgrade(r.status, r.rawHeaders, socket)
  }

  /** Close the socket and leave the pool (synchronously: the pool may open another at once). */
  kill(): void {
    if (this.state === CLOSED) return
    this.closeState()
    this.socket.destroy()
  }

  private closeState(): void {
    this.state = CLOSED
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null }
    if (this.connectTimer !== null) { clearTimeout(this.connectTimer); this.connectTimer = null }
    this.pool.removed(this)
  }

  /** Back in the idle list (called by the pool). */
  idle(now: number): void { // HOT PATH
    this.state = IDLE
    this.eof = false
    this.paused = false
    this.mark = now
    this.socket.unref()
    this.clock(this.keepAliveMs)
  }

  /** Make sure the clock fires no later than `ms` after `mark` (one timer per connection, re-armed lazily). */
  private clock(ms: number): void { // HOT PATH
    const due = this.mark + ms
    if (this.timer !== null) {
      if (this.due <= due) return
      clearTimeout(this.timer)
    }
    this.due = due
    this.timer = setTimeout(this.onClock, Math.max(1, due - performance.now()))
    this.timer.unref()
  }

  private readonly onClock = (): void => {
    this.timer = null
    const st = this.state
    const now = performance.now()
    if (st === IDLE) {
      if (now - this.mark >= this.keepAliveMs) { this.kill(); return }
      this.clock(this.keepAliveMs)
    } else if (st === BODY && this.pool.bodyIdleMs > 0) {
      if (this.paused) { this.mark = now; this.clock(this.pool.bodyIdleMs); return } // waiting on the client, not the upstream
      if (now - this.mark >= this.pool.bodyIdleMs) { this.fail(new UpstreamError('UND_ERR_BODY_TIMEOUT', 'Body Timeout Error')); return }
      this.clock(this.pool.bodyIdleMs)
    }
  }
}
