// One client connection on the http1 engine: reads bytes, parses request heads (request-parser.ts), delivers
// bodies (by Content-Length, or ChunkedDecoder) to the request with backpressure, and serves requests one at
// a time in arrival order. A pipelined request is parsed only once the response before it has ended, and
// while it waits the connection stops reading past one head's worth of bytes (bounded read-ahead).
import type { Socket } from 'node:net'
import { BodyFailure, ChunkedDecoder } from './body.js'
import { Http1Request, type BodySource } from './edge-request.js'
import { chunkedByDefault, Http1Response, type ResponseSink } from './edge-response.js'
import { carryOver } from './fields.js'
import { HeadFailure, parseRequestHead, type RequestHead } from './request-parser.js'
import type { Http1Server } from './server.js'

// Connection states.
/** Waiting for (or reading) a request head. */
export const HEAD = 0
/** Reading the current request's body. */
export const BODY = 1
/** The request was read; its response has not ended yet (a pipelined request waits in the buffer). */
export const WAIT = 2
/** Closing, closed, or handed over (upgrade): nothing more is parsed. */
export const DONE = 3

/** Why the socket is paused (bits): the body consumer is full; a pipelined head waits for its turn. */
const PAUSE_BODY = 1, PAUSE_AHEAD = 2

const EMPTY = Buffer.alloc(0)

export class Connection implements BodySource, ResponseSink {
  state: number = HEAD
  /** Unparsed bytes: buf[start, end). */
  private buf: Buffer = EMPTY
  private start = 0
  private end = 0
  req: Http1Request | null = null
  res: Http1Response | null = null
  /** Body bytes still to read (Content-Length), or -1 with a chunked decoder. */
  private bodyLeft = 0
  private decoder: ChunkedDecoder | null = null
  private paused = 0
  /** Responses ended whose last write has not completed, oldest first. */
  private readonly finishing: Http1Response[] = []
  /** performance.now() when the current head began (the connection opened, or its first byte), -1 when idle. */
  headStart: number
  /** performance.now() when the current request began (its head's first byte). */
  requestStart = -1
  /** performance.now() when the connection became idle (last response ended), -1 while busy. */
  idleSince = -1
  readonly keepAliveSeconds: number
  private processScheduled = false

  constructor(readonly socket: Socket, readonly server: Http1Server, now: number) {
    this.headStart = now
    this.keepAliveSeconds = Math.floor(server.settings.keepAliveTimeoutMs / 1000)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('drain', this.onDrain)
  }

  private readonly onData = (chunk: Buffer): void => { // HOT PATH
    if (this.state === DONE) return
    this.buf = carryOver(this.buf, this.start, this.end, chunk)
    this.start = 0
    this.end = this.buf.length
    this.process()
  }

  /** Parse and deliver what is buffered, as far as the current state allows. */
  process(): void { // HOT PATH
    this.processScheduled = false
    for (;;) {
      const st = this.state
      if (st === HEAD) {
        if (this.start === this.end) { this.buf = EMPTY; this.start = this.end = 0; return }
        if (this.headStart < 0) this.headStart = performance.now()
        const server = this.server
        const r = parseRequestHead(this.buf, this.start, this.end, server.limits)
        if (r === null) return
        if (r instanceof HeadFailure) { server.refuseHead(this, r); return }
        this.start += r.size
        this.begin(r)
      } else if (st === BODY) {
        if (this.start === this.end) return
        const n = this.feedBody(this.buf, this.start, this.end)
        if (n < 0) return
        this.start += n
      } else {
        if (st === WAIT && this.end - this.start > this.server.limits.maxHeadBytes) this.pause(PAUSE_AHEAD)
        return
      }
    }
  }

  /** A head was parsed: make the request and response and hand them to the gateway. */
  private begin(head: RequestHead): void { // HOT PATH
    const server = this.server
    this.idleSince = -1
    const socket = this.socket
    if (head.upgrade) { this.state = DONE; server.upgrade(this, head, this.rest()); return }
    this.requestStart = this.headStart
    this.headStart = -1
    const req = new Http1Request(head, socket, this)
    const res = new Http1Response(this, head.keepAlive, head.method === 'HEAD', chunkedByDefault(head.versionMinor, head.headers.te), head.expectContinue)
    this.req = req
    this.res = res
    ;(socket as SocketWithMessage)._httpMessage = res
    if (head.body === 'chunked') { this.decoder = new ChunkedDecoder(); this.bodyLeft = -1; this.state = BODY }
    else if (head.contentLength > 0) { this.decoder = null; this.bodyLeft = head.contentLength; this.state = BODY }
    else this.state = WAIT
    server.dispatch(req, res)
  }

  /** Body bytes in buf[start, end): returns how many were consumed, -1 when the connection was closed. */
  private feedBody(buf: Buffer, start: number, end: number): number { // HOT PATH
    const req = this.req!
    const d = this.decoder
    if (d === null) {
      const n = Math.min(this.bodyLeft, end - start)
      this.bodyLeft -= n
      req.push(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n))
      if (this.bodyLeft === 0) this.bodyDone()
      return n
    }
    const n = d.decode(buf, start, end, this.sink)
    if (n instanceof BodyFailure) { this.server.refuseBody(this, n); return -1 }
    if (d.done) { this.decoder = null; this.bodyDone() }
    return n
  }

  /** Chunked body data goes to the current request (one function per connection). */
  private readonly sink = (chunk: Buffer): void => { this.req!.push(chunk) }

  private bodyDone(): void {
    this.req!.finish()
    if (this.state === DONE) return // answered with Connection: close while the last bytes were delivered
    if (this.res!.finished) this.next(false) // answered early: the body was read (and dropped) to reach the next head
    else this.state = WAIT
  }

  /** The current response ended: go on with the next request once the body has been read. */
  ended(res: Http1Response): void {
    this.finishing.push(res)
    if (res !== this.res || this.state === DONE) return
    if (res.last) { this.close(); return }
    const req = this.req!
    // The rest of the body is read before the next head; dropped here unless someone reads it (node:http dumps
    // a body nobody started to read; the gateway drains one it was forwarding, counting it against max_body).
    if (!req.complete) { if (!req.consuming) req.dump(); return }
    this.next(true)
  }

  private next(schedule: boolean): void {
    this.req!.release(); this.req = null // read whole: its queue, read or not, no longer holds the socket
    this.res = null
    this.state = HEAD
    this.headStart = -1
    this.requestStart = -1
    this.idleSince = performance.now()
    this.resume(PAUSE_AHEAD)
    // not from inside the handler's end(): the next request starts on a fresh stack
    if (schedule && this.start < this.end && !this.processScheduled) { this.processScheduled = true; process.nextTick(processNT, this) }
  }

  readonly written = (err?: Error | null): void => {
    const r = this.finishing.shift()
    if (r === undefined) return
    const s = this.socket as SocketWithMessage
    if (s._httpMessage === r) s._httpMessage = null
    if (err != null) r.closed() // the socket failed first: 'close' with writableFinished false
    else r.flushed()
  }

  /** Close after what was written: FIN once written, then the socket is destroyed (node:http's destroySoon). */
  close(): void {
    this.state = DONE
    const s = this.socket
    if (!s.writable) { s.destroy(); return }
    s.end()
    if (s.writableFinished) s.destroy()
    else s.once('finish', destroySoon)
  }

  backpressure(on: boolean): void { if (on) this.pause(PAUSE_BODY); else this.resume(PAUSE_BODY) }

  destroySocket(err?: Error): void { this.socket.destroy(err) }

  private pause(bit: number): void {
    if (this.paused === 0) this.socket.pause()
    this.paused |= bit
  }

  private resume(bit: number): void {
    if ((this.paused & bit) === 0) return
    this.paused &= ~bit
    if (this.paused === 0) this.socket.resume()
  }

  /** What was read past the head (the first bytes of an upgraded protocol). */
  rest(): Buffer {
    const b = Buffer.from(this.buf.subarray(this.start, this.end))
    this.start = this.end = 0
    this.buf = EMPTY
    return b
  }

  /** Hands the socket over (upgrade): the connection stops listening to it. */
  detach(): void {
    this.state = DONE
    const s = this.socket
    s.off('data', this.onData)
    s.off('end', this.onEnd)
    s.off('error', this.onError)
    s.off('drain', this.onDrain)
    this.server.forget(this)
  }

  private readonly onDrain = (): void => {
    const s = this.socket as SocketWithMessage
    const res = s._httpMessage as Http1Response | null | undefined
    if (res != null && res.needDrain && !res.destroyed) { res.needDrain = false; res.emit('drain') }
  }

  // The client closed its side. Between requests: close ours. A head or a body cut short: malformed (node:http
  // answers its parse error at end of input with 400, unless a response is already on its way). A request read
  // whole and being served: abandoned (node:http ends the socket; the response has nowhere to go).
  private readonly onEnd = (): void => {
    const st = this.state
    if (st === DONE) return
    if (st === BODY || (st === HEAD && this.start < this.end)) { this.server.refuseMalformed(this); return }
    if (st === HEAD && this.res === null) { this.close(); return }
    this.socket.destroy()
  }

  private readonly onError = (): void => { this.socket.destroy() }

  private readonly onClose = (): void => {
    this.state = DONE
    this.server.forget(this)
    const req = this.req
    if (req !== null) req.gone()
    for (const r of this.finishing) r.closed()
    this.finishing.length = 0
    if (this.res !== null) this.res.closed()
  }
}

interface SocketWithMessage extends Socket { _httpMessage?: Http1Response | null }

function processNT(c: Connection): void { c.process() }
function destroySoon(this: Socket): void { this.destroy() }
