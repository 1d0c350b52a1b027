// Enforces a route's `max_body` on request bodies of unknown length (chunked): counts bytes as they stream
// to the upstream and fails the upload as soon as the limit is passed. Bodies with a Content-Length are
// checked up front and never pass through here.
import { Transform, type TransformCallback } from 'node:stream'
import { GatewayError } from '../errors.js'

export class BodyLimit extends Transform {
  private seen = 0
  constructor(private readonly max: number) { super() }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length
    if (this.seen > this.max) { done(new GatewayError('GW_ERR_BODY_TOO_LARGE', `request body over ${this.max} bytes`)); return }
    done(null, chunk)
  }
}
