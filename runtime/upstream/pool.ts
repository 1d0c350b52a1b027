// The contract between a replica's connection pool and what sends requests through it (the exchange, the
// tunnel handshake). undici's Pool satisfies it on the `node` engine; runtime/http1/upstream-pool.ts implements
// it on node:net on the `http1` engine. It is undici 7's dispatch API, narrowed to what gw uses.
import type { Duplex, Readable } from 'node:stream'

export interface UpstreamDispatch {
  method: string
  path: string
  /** Flat [name, value, …] pairs (undici's form), or complete header lines "name: value\r\n…" already rendered
   *  (http1 engine only): written as they are (the first line Host, which goes before the pool's connection line), without
   *  Content-Length / Transfer-Encoding (the pool frames the body from `body` and `contentLength`). */
  headers: string[] | string
  body: Readable | Buffer | null
  /** For a stream body: its Content-Length, or -1 to send it chunked. Ignored for a Buffer (its length) or null.
   *  With pairs, a content-length pair gives it when this is absent (as undici reads it). */
  contentLength?: number
  /** The Upgrade offer (tunnels): the answer is a 101 handed over with the socket, or a normal response. */
  upgrade?: string | null
}

/**
 * One request's callbacks. `abort` (given to onConnect, just before the request is written) may be called
 * until the handler has seen onComplete, onError or onUpgrade, and not after: the http1 pool hands each
 * connection's one abort function to every request it carries.
 */
export interface UpstreamHandler {
  onConnect(abort: (err?: Error) => void): void
  /** rawHeaders: undici gives Buffer[]; the http1 pool gives latin1 strings. Return value ignored. */
  onHeaders(status: number, rawHeaders: Buffer[] | string[], resume: () => void, statusText: string): boolean
  /** false = pause reading the upstream until resume() is called. */
  onData(chunk: Buffer): boolean
  onComplete(trailers: string[] | null): void
  onError(err: Error): void
  onUpgrade?(status: number, rawHeaders: Buffer[] | string[], socket: Duplex): void
}

export interface UpstreamPool {
  dispatch(opts: UpstreamDispatch, handler: UpstreamHandler): boolean
  /** Finish what is in flight and queued, then close. */
  close(): Promise<void>
  /** Close now: queued and in-flight requests fail. */
  destroy(): Promise<void>
  on(event: 'connect' | 'disconnect', listener: () => void): this
}

/** Raw response headers as latin1 strings, whichever pool delivered them. */
export function headerStrings(raw: Buffer[] | string[]): string[] {
  if (raw.length === 0 || typeof raw[0] === 'string') return raw as string[]
  return (raw as Buffer[]).map(b => b.toString('latin1'))
}
