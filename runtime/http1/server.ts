// The client listener of the http1 engine (settings `engine: http1`): gw's own HTTP/1.1 server on node:net.
// It serves the same callbacks as runtime/server.ts (gw.handle for requests, gw.handleUpgrade for upgrades)
// and answers what never becomes a request the same way (refuse(): JSON body, X-Request-Id,
// Connection: close, an access-log line). Timeouts are checked by one sweep over the connections, as
// node:http's connectionsCheckingInterval does: no timer per request or connection.
import { Server as NetServer, type Socket } from 'node:net'
import type { Settings } from '../../config/settings.js'
import type { RefusalCode } from '../errors.js'
import type { Gateway } from '../gateway.js'
import { refuse } from '../server.js'
import type { BodyFailure } from './body.js'
import { BODY, Connection, DONE, HEAD } from './connection.js'
import { Http1Request } from './edge-request.js'
import type { Http1Response } from './edge-response.js'
import type { HeadFailure, HeadLimits, RequestHead } from './request-parser.js'

/** The sweep never runs less often than this (node:http's connectionsCheckingInterval as gw sets it). */
const CHECK_MAX_MS = 1000

export class Http1Server extends NetServer {
  readonly limits: HeadLimits
  private readonly conns = new Set<Connection>()
  private readonly timer: NodeJS.Timeout
  private readonly headersTimeoutMs: number
  private readonly requestTimeoutMs: number
  private readonly keepAliveTimeoutMs: number

  constructor(readonly gw: Gateway, readonly settings: Settings) {
    super({ allowHalfOpen: true, noDelay: true })
    // No count limit of the parser's own: the byte limit bounds the fields, and the gateway refuses more than
    // MAX_HEADERS with 431 (runtime/request-head.ts), as with node:http.
    this.limits = { maxHeadBytes: settings.maxHeaderBytes, maxHeaders: settings.maxHeaderBytes }
    this.requestTimeoutMs = settings.requestTimeoutMs
    this.headersTimeoutMs = Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs || settings.headersTimeoutMs)
    this.keepAliveTimeoutMs = settings.keepAliveTimeoutMs
    const smallest = Math.min(...[this.headersTimeoutMs, this.requestTimeoutMs, this.keepAliveTimeoutMs].filter(t => t > 0))
    const every = Math.max(10, Math.min(CHECK_MAX_MS, Math.floor(smallest / 4)))
    this.timer = setInterval(() => this.sweep(performance.now()), every).unref()
    this.on('connection', (s: Socket) => { this.conns.add(new Connection(s, this, performance.now())) })
  }

  /** A request head was read: the gateway serves it (node:http's 'request' / 'checkContinue' path). */
  dispatch(req: Http1Request, res: Http1Response): void { // HOT PATH
    this.gw.handle(req, res) // an Expect other than 100-continue is refused there (request-head.ts), as on node:http
  }

  /** An Upgrade or CONNECT request: CONNECT is refused as runtime/server.ts does; an upgrade goes to the gateway's tunnel entry point. */
  upgrade(conn: Connection, head: RequestHead, rest: Buffer): void {
    const req = new Http1Request(head, conn.socket, conn)
    if (head.method === 'CONNECT') { refuse(this.gw, conn.socket, 'connect', 'GW_ERR_METHOD_NOT_ALLOWED', req); return }
    conn.detach()
    this.gw.handleUpgrade(req, conn.socket, rest)
  }

  /**
   * The parser refused a head. Its 431 is always the byte limit: the parser scans at most maxHeadBytes bytes
   * and a field takes at least four ("a:" CRLF), so the count limit set to the same number is never reached
   * (more than MAX_HEADERS fields are the gateway's 431, runtime/request-head.ts).
   */
  refuseHead(conn: Connection, f: HeadFailure): void {
    const code: RefusalCode = f.status === 431 ? 'GW_ERR_HEADERS_TOO_LARGE' : f.status === 501 ? 'GW_ERR_TRANSFER_CODING' : 'GW_ERR_BAD_REQUEST'
    this.refuseRaw(conn, f.reason, code)
  }

  /** A chunked body's framing was invalid. */
  refuseBody(conn: Connection, f: BodyFailure): void { this.refuseRaw(conn, f.reason, 'GW_ERR_BAD_REQUEST') }

  /** The client closed its side in the middle of a head or a body (node:http: a parse error at EOF). */
  refuseMalformed(conn: Connection): void { this.refuseRaw(conn, 'malformed', 'GW_ERR_BAD_REQUEST') }

  // As runtime/server.ts's clientError: a response already on its way is not interrupted by a second status
  // line; the connection is only closed.
  private refuseRaw(conn: Connection, reason: string, code: RefusalCode): void {
    conn.state = DONE
    const s = conn.socket
    const res = (s as Socket & { _httpMessage?: Http1Response | null })._httpMessage
    if (!s.writable || (res != null && res.headersSent)) { s.destroy(); return }
    refuse(this.gw, s, reason, code)
  }

  /** Header, request and keep-alive timeouts of every connection. */
  private sweep(now: number): void {
    const ht = this.headersTimeoutMs, rt = this.requestTimeoutMs, kt = this.keepAliveTimeoutMs
    for (const c of this.conns) {
      const st = c.state
      if (st === HEAD) {
        if (c.headStart >= 0) { if (ht > 0 && now - c.headStart > ht) this.refuseRaw(c, 'request_timeout', 'GW_ERR_REQUEST_TIMEOUT') }
        else if (c.idleSince >= 0 && kt > 0 && now - c.idleSince > kt) c.socket.destroy()
      } else if (st === BODY && rt > 0 && c.requestStart >= 0 && now - c.requestStart > rt) {
        this.refuseRaw(c, 'request_timeout', 'GW_ERR_REQUEST_TIMEOUT')
      }
    }
  }

  /** The connection closed or was handed over. */
  forget(c: Connection): void { this.conns.delete(c) }

  override close(cb?: (err?: Error) => void): this {
    clearInterval(this.timer)
    return super.close(cb)
  }
}

/** The http1 engine's client listener (runtime/serve.ts picks it with `engine: http1`). */
export function createHttp1Server(gw: Gateway, s: Settings): Http1Server {
  return new Http1Server(gw, s)
}
