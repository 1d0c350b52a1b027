// The client side of a request as the runtime sees it: exactly the members of node:http's IncomingMessage and
// ServerResponse that the gateway uses, so either engine can serve it (settings `engine`): node:http's objects
// satisfy these interfaces structurally, runtime/http1's are built for them.
import type { IncomingHttpHeaders } from 'node:http'
import type { StageRequest } from '../config/context.js'

/** The client connection as the runtime reads it (also the key of the per-connection WeakSets in reply.ts and drain.ts). */
export interface EdgeSocket {
  readonly remoteAddress?: string
  /** Set on TLS sockets (never, today: gw has no TLS listener). */
  readonly encrypted?: boolean
}

/** A client request: its head, and its body as a stream of 'data' events ('end' after the last, 'error'). */
export interface EdgeRequest extends StageRequest {
  readonly method?: string
  readonly url?: string
  readonly headers: IncomingHttpHeaders
  /** [name, value, name, value, …] as received. */
  readonly rawHeaders: string[]
  readonly httpVersionMajor: number
  readonly httpVersionMinor: number
  readonly socket: EdgeSocket
  /** The whole body has been received. */
  readonly complete: boolean
  readonly destroyed: boolean
  on(event: 'data', listener: (chunk: Buffer) => void): this
  on(event: 'end' | 'close', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
  once(event: 'data', listener: (chunk: Buffer) => void): this
  once(event: 'end' | 'close', listener: () => void): this
  once(event: 'error', listener: (err: Error) => void): this
  off(event: 'data', listener: (chunk: Buffer) => void): this
  off(event: 'end' | 'close', listener: () => void): this
  off(event: 'error', listener: (err: Error) => void): this
  removeAllListeners(event?: 'data' | 'end' | 'error' | 'close'): this
  /** Stop delivering 'data' (the engine stops reading the connection once its buffer is full). */
  pause(): this
  resume(): this
  /** Closes the connection. */
  destroy(err?: Error): this
}

/** EdgeResponse.writeHead's `facts`: the rendered lines carry a Content-Length. */
export const HEAD_CONTENT_LENGTH = 1
/** EdgeResponse.writeHead's `facts`: the rendered lines carry a Date. */
export const HEAD_DATE = 2

/** The answer to a client request. */
export interface EdgeResponse {
  /**
   * The head, with the headers as flat [name, value, …] pairs; sent with the first write or end. The http1 engine
   * also takes field lines already rendered ("name: value\r\n…", after the pairs; runtime/headers.ts
   * writeUpstreamHead), with `facts` (HEAD_* bits) saying which framing fields they carry; they must carry no
   * Connection or Transfer-Encoding. node:http's response takes pairs only: the runtime decides at load which
   * form an engine gets (OutboundOptions.rendered), never per request.
   */
  writeHead(status: number, headers: string[], lines?: string, facts?: number): this
  /** false: the client is not keeping up, wait for 'drain'. */
  write(chunk: Buffer): boolean
  end(chunk?: Buffer | string): this
  /** Sends `100 Continue` (the client sent Expect: 100-continue). */
  writeContinue(): void
  readonly headersSent: boolean
  /** The status written (200 until writeHead). */
  readonly statusCode: number
  /** The connection closed, or the response finished and the response is done with. */
  readonly destroyed: boolean
  /** Every byte of the response was handed to the OS; false in 'close' = the client went away first. */
  readonly writableFinished: boolean
  /** Whether the connection stays open after this response; set false before the head to close it after. */
  shouldKeepAlive: boolean
  destroy(err?: Error): this
  /** 'close' when the response is done or the client went away; 'drain' after write() returned false. */
  on(event: 'close' | 'drain', listener: () => void): this
  once(event: 'close' | 'drain', listener: () => void): this
}
