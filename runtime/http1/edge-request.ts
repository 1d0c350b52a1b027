// A client request on the http1 engine: the parsed head, and the body as 'data' events with Node's flowing
// semantics (a 'data' listener or resume() starts the flow, pause() stops it; 'end' after the last byte was
// delivered). While the consumer is paused, received body bytes queue here; past HIGH_WATER the connection
// stops reading the socket, so a slow consumer pushes back on the client.
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { EdgeRequest } from '../edge.js'
import type { RequestHead } from './request-parser.js'

/** Bytes queued for a paused consumer before the socket is paused (node:http's Readable default is 16 KiB). */
export const HIGH_WATER = 64 * 1024

/** What the request asks of its connection (implemented by Connection). */
export interface BodySource {
  /** The consumer's queue is full (true) or has room again (false). */
  backpressure(on: boolean): void
  /** Tear the connection down (req.destroy()). */
  destroySocket(err?: Error): void
}

const enum Flow { Unset = 0, Flowing = 1, Paused = 2 }

export class Http1Request extends EventEmitter implements EdgeRequest {
  readonly method: string
  readonly url: string
  readonly headers: RequestHead['headers']
  readonly rawHeaders: string[]
  readonly httpVersionMajor = 1
  readonly httpVersionMinor: number
  complete: boolean
  destroyed = false
  /** The response was sent before the body was read: the rest of the body is read and dropped. */
  dumping = false
  private flow = Flow.Unset
  private queue: Buffer[] | null = null
  private queued = 0
  private ended = false
  private flowScheduled = false
  private pressing = false

  constructor(head: RequestHead, readonly socket: Socket, private readonly source: BodySource) {
    super()
    this.method = head.method
    this.url = head.target
    this.headers = head.headers
    this.rawHeaders = head.rawHeaders
    this.httpVersionMinor = head.versionMinor
    this.complete = head.body === 'none' || head.contentLength === 0
  }

  // Node's Readable: adding a 'data' listener starts the flow unless the stream was paused explicitly.
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener)
    if (event === 'data' && this.flow === Flow.Unset) this.resume()
    return this
  }

  override addListener(event: string | symbol, listener: (...args: any[]) => void): this { return this.on(event, listener) }

  /** Someone started reading the body (a 'data' listener or resume()). */
  get consuming(): boolean { return this.flow !== Flow.Unset }

  pause(): this {
    this.flow = Flow.Paused
    return this
  }

  resume(): this {
    this.flow = Flow.Flowing
    // Asynchronous, as in Node: listeners attached right after resume() (once('end')) see every event.
    if (!this.flowScheduled) { this.flowScheduled = true; process.nextTick(flowNT, this) }
    return this
  }

  destroy(err?: Error): this {
    if (!this.destroyed) this.source.destroySocket(err)
    return this
  }

  /** Body bytes from the connection (a view into the socket's chunk: not copied). */
  push(chunk: Buffer): void { // HOT PATH
    if (this.dumping || this.destroyed) return
    if (this.flow === Flow.Flowing && this.queue === null) { this.emit('data', chunk); return }
    ;(this.queue ??= []).push(chunk)
    this.queued += chunk.length
    if (this.queued >= HIGH_WATER && !this.pressing) { this.pressing = true; this.source.backpressure(true) }
  }

  /** The last body byte arrived. */
  finish(): void {
    this.complete = true
    if (this.flow === Flow.Flowing && this.queue === null && !this.flowScheduled) { this.flowScheduled = true; process.nextTick(flowNT, this) }
  }

  /** Deliver what is queued while flowing; 'end' once complete and empty. */
  flush(): void {
    this.flowScheduled = false
    if (this.destroyed) return
    const q = this.queue
    if (q !== null) {
      while (this.flow === Flow.Flowing && q.length > 0) {
        const c = q.shift()!
        this.queued -= c.length
        this.emit('data', c)
      }
      if (q.length > 0) return
      this.queue = null
      this.queued = 0
    }
    if (this.pressing) { this.pressing = false; this.source.backpressure(false) }
    if (this.complete && !this.ended && this.flow === Flow.Flowing) { this.ended = true; this.emit('end') }
  }

  /**
   * The response ended and the body arrived whole: the connection moves on to the next request. A queue still
   * unread (the gateway answered without reading it, e.g. 503 while waiting for an upstream connection) keeps
   * what it holds for a late reader, but no longer pauses the socket, and a later flush does not resume it.
   */
  release(): void {
    if (this.pressing) { this.pressing = false; this.source.backpressure(false) }
  }

  /** The response is done and the body was not read: drop what is queued and what still arrives. */
  dump(): void {
    if (this.complete || this.dumping) return
    this.dumping = true
    this.queue = null
    this.queued = 0
    if (this.pressing) { this.pressing = false; this.source.backpressure(false) }
  }

  /** The connection closed. An unfinished body is an error for whoever reads it (ECONNRESET, as node:http). */
  gone(): void {
    if (this.destroyed) return
    this.destroyed = true
    if (!this.complete && !this.dumping && this.listenerCount('error') > 0) {
      const e = new Error('aborted') as NodeJS.ErrnoException
      e.code = 'ECONNRESET'
      this.emit('error', e)
    }
    this.emit('close')
  }
}

function flowNT(req: Http1Request): void { req.flush() }
