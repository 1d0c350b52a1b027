// The request body as undici reads it: a stream that pulls from the client's request only when undici
// asks for data. Two reasons it is not the request itself: undici destroys a body stream when the upstream
// fails or answers early, which would destroy the client's connection before the gateway's answer is
// written; and until undici has read anything the attempt can be retried with a fresh one (a connection
// refused never consumed the body). It also counts bytes against the route's max_body for bodies of
// unknown length.
import { Readable } from 'node:stream'
import type { EdgeRequest } from '../edge.js'
import { GatewayError } from '../errors.js'

export class RequestBody extends Readable {
  /** Undici has asked for data: the client's bytes are being consumed and cannot be replayed. */
  started = false
  private seen = 0
  private readonly onData = (chunk: Buffer): void => {
    this.seen += chunk.length
    if (this.seen > this.max) { this.detach(); this.destroy(new GatewayError('GW_ERR_BODY_TOO_LARGE', `request body over ${this.max} bytes`)); return }
    if (!this.push(chunk)) this.req.pause()
  }
  private readonly onEnd = (): void => { this.detach(); this.push(null) }
  private readonly onError = (err: Error): void => { clientFailures.add(err); this.detach(); this.destroy(err) }

  constructor(private readonly req: EdgeRequest, private readonly max: number) { super() }

  override _read(): void {
    if (!this.started) {
      this.started = true
      this.req.on('data', this.onData)
      this.req.once('end', this.onEnd)
      this.req.once('error', this.onError)
    }
    this.req.resume()
  }

  private detach(): void {
    this.req.off('data', this.onData)
    this.req.off('end', this.onEnd)
    this.req.off('error', this.onError)
  }

  /**
   * The exchange is over while the client may still be sending (an upstream that answered early): read and
   * discard the rest so the connection stays usable, still counting against the limit (past it, the
   * connection is closed: the answer has been sent, the rest of an oversized body is not worth reading).
   */
  drain(): void {
    const req = this.req
    this.detach()
    if (req.complete || req.destroyed) return
    req.on('data', (c: Buffer) => { this.seen += c.length; if (this.seen > this.max) req.destroy() })
    req.resume()
  }

  /** undici is done with it: let go of the request without destroying it. */
  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    this.detach()
    cb(err)
  }
}

/**
 * Errors of a client's request (its connection lost or broken mid-body) that a RequestBody handed on to undici:
 * the attempt they end is the client's doing, not the replica's (the http1 engine reports a lost client this way
 * before the response's 'close' tells the exchange the client is gone).
 */
export const clientFailures = new WeakSet<Error>()
