// Request heads as the http1 engine's upstream pool writes them: the same bytes undici writes for the same
// dispatch (runtime/upstream/pool.ts), so an upstream cannot tell the engines apart: the request line,
// `host` first (the client's, or the replica's address), `connection: keep-alive` (`close` after a HEAD,
// `upgrade` + the offer for a tunnel), the headers in order, then the framing the pool adds from the body
// (Content-Length, or Transfer-Encoding: chunked for a stream of unknown length).
import type { UpstreamDispatch } from '../upstream/pool.js'

/** What a head says about the request it starts (the connection keeps these). */
export class RequestFraming {
  /** Content-Length the body must match, -1 for chunked (a stream of unknown length). */
  contentLength = -1
  /** The request line, host, connection and headers, without framing or the blank line. */
  head = ''
}

/** Methods whose requests carry a body by definition: an empty one is sent as `content-length: 0` (undici). */
export function expectsPayload(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'QUERY' || method === 'PROPFIND' || method === 'PROPPATCH'
}

/**
 * Bytes no header value may carry. Every value is checked where it comes from (the client's by the request
 * parser, a policy's by the compiler (E0306), a token's claims by the auth stage); this is the last line, as
 * undici has: a value that would split the head fails the request instead. Names are not re-checked: they are
 * the parser's tokens, the compiler's or the gateway's own (a regex test per value costs ~0.1 µs per header).
 */
const FORBIDDEN = /[\r\n\0]/

export class HeaderError extends Error {
  readonly code = 'UND_ERR_INVALID_ARG'
  constructor(name: string) { super(`invalid ${name.replace(FORBIDDEN, '?')} header`) }
}

/**
 * Renders `opts`' head into `out` (host defaults to `defaultHost`, "host: …\r\n"). With pairs, a `host` pair
 * is written first and a `content-length` pair gives the stream's length (as undici reads them); both are
 * left out of the header lines. Throws HeaderError for a CR, LF or NUL in a value. HOT PATH.
 */
export function renderRequestHead(out: RequestFraming, opts: UpstreamDispatch, defaultHost: string, close: boolean): void {
  const headers = opts.headers
  let host: string | null = null
  let cl = opts.contentLength ?? -1
  let lines: string
  if (typeof headers === 'string') lines = headers
  else {
    lines = ''
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i], value = headers[i + 1]
      if (FORBIDDEN.test(value)) throw new HeaderError(name)
      const n = name.length
      if (n === 4 && host === null && name.toLowerCase() === 'host') { host = value; continue }
      if (n === 14 && name.toLowerCase() === 'content-length') { if (opts.contentLength === undefined) cl = Number(value); continue }
      lines += name + ': ' + value + '\r\n'
    }
  }
  const conn = opts.upgrade != null ? 'connection: upgrade\r\nupgrade: ' + opts.upgrade + '\r\n'
    : close ? 'connection: close\r\n' : 'connection: keep-alive\r\n'
  if (typeof headers === 'string') {
    // rendered lines start with their Host line (renderUpstreamHeaders): it goes first, then connection, as undici writes
    const e = headers.indexOf('\n') + 1
    out.head = opts.method + ' ' + opts.path + ' HTTP/1.1\r\n' + headers.slice(0, e) + conn + headers.slice(e)
  } else out.head = opts.method + ' ' + opts.path + ' HTTP/1.1\r\n' + (host === null ? defaultHost : 'host: ' + host + '\r\n') + conn + lines
  out.contentLength = Number.isInteger(cl) && cl >= 0 ? cl : -1
}

/** Before a chunk's bytes (RFC 9112 §7.1): the CRLF ending what came before (the head, or the previous chunk's
 *  bytes), then its size line; undici frames chunks the same way. */
export const chunkStart = (n: number): string => '\r\n' + n.toString(16) + '\r\n'
/** After the last chunk's bytes: its CRLF, the last-chunk and the empty trailer section. */
export const CHUNKED_END = '\r\n0\r\n\r\n'
