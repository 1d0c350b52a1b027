// The client listener: node:http with edge-safe limits, JSON answers for requests Node's parser refuses
// (malformed → 400, header block too large → 431, too slow → 408), upgrades handed to Gateway.handleUpgrade
// (tunnels where the route says `upgrade`, runtime/tunnel/), and a clear refusal for CONNECT, which gw does not proxy.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type { Settings } from '../config/settings.js'
import type { EdgeRequest } from './edge.js'
import { ERROR_REPLIES, errorBody, type RefusalCode } from './errors.js'
import type { Gateway } from './gateway.js'
import { newRequestId, saneRequestId } from './ids.js'

/**
 * Answers on the bare socket what never became a request the gateway handles (Node's parser refused it,
 * it timed out, it asked for an upgrade or CONNECT) the way every gateway error is answered: the JSON body
 * with the request id, X-Request-Id, Connection: close, and an access-log line. `req` is there for upgrades
 * and CONNECT (the client's sane X-Request-Id is kept, as for any request); the parser's refusals have none.
 * The http1 engine (runtime/http1/server.ts) answers its refusals with it too.
 */
export function refuse(gw: Gateway, socket: Duplex, reason: string, code: RefusalCode, req?: EdgeRequest): void {
  const status = ERROR_REPLIES[code].status
  const rid = req?.headers['x-request-id']
  const id = typeof rid === 'string' && saneRequestId(rid) ? rid : newRequestId()
  const body = errorBody(code, id)
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`)
  // no query string in the log (docs/operations.md, Logs)
  const url = req?.url ?? ''
  const q = url.indexOf('?')
  gw.refusedRaw({
    id, method: req?.method ?? '', host: (req?.headers.host ?? '').toLowerCase(), path: q < 0 ? url : url.slice(0, q),
    ip: (socket as Socket).remoteAddress ?? '', status, err: code, reason,
  })
}

export function createClientServer(gw: Gateway, s: Settings): Server {
  const server = createServer({
    maxHeaderSize: s.maxHeaderBytes,
    // A missing Host is refused by the gateway itself (same JSON 400 as every other refusal).
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    insecureHTTPParser: false,
    // Node checks the header and request timeouts on this period; the default (30s) makes them coarse.
    connectionsCheckingInterval: 1000,
    requestTimeout: s.requestTimeoutMs,
    headersTimeout: Math.min(s.headersTimeoutMs, s.requestTimeoutMs || s.headersTimeoutMs),
    keepAliveTimeout: s.keepAliveTimeoutMs,
  }, gw.handle)
  server.keepAliveTimeout = s.keepAliveTimeoutMs
  // Node's default keeps the first 1,000 header pairs and silently drops the rest; the gateway would then
  // forward a truncated request. No count limit here: the byte limit bounds it and readHead refuses more
  // than MAX_HEADERS with 431.
  server.maxHeadersCount = 0
  server.on('checkContinue', gw.handle)
  // any other Expect too: readHead decides (417 JSON unless exactly 100-continue), as on the http1 engine
  server.on('checkExpectation', gw.handle)
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return }
    // A request timeout can fire while a response is already on its way (a slow upload answered early):
    // a second status line inside it would corrupt it, so the connection is only closed (as Node does).
    const res = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage
    if (res != null && res.headersSent) { socket.destroy(); return }
    if (err.code === 'HPE_HEADER_OVERFLOW') { refuse(gw, socket, 'headers_too_large', 'GW_ERR_HEADERS_TOO_LARGE'); return }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') { refuse(gw, socket, 'request_timeout', 'GW_ERR_REQUEST_TIMEOUT'); return }
    refuse(gw, socket, 'malformed', 'GW_ERR_BAD_REQUEST')
  })
  // WebSocket and other upgrades: routed, checked by the route's stages and tunnelled where the route says
  // `upgrade` (Gateway.handleUpgrade; docs/operations.md, "WebSocket and other upgrades").
  server.on('upgrade', gw.handleUpgrade)
  server.on('connect', (req: IncomingMessage, socket: Duplex) => { refuse(gw, socket, 'connect', 'GW_ERR_METHOD_NOT_ALLOWED', req) })
  return server
}
