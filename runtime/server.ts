// The client listener: node:http with edge-safe limits, JSON answers for requests Node's parser refuses
// (malformed → 400, header block too large → 431, too slow → 408), and a clear refusal for protocol
// upgrades and CONNECT, which gw does not proxy.
import { createServer, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Settings } from '../config/settings.js'
import type { Gateway } from './gateway.js'
import { newRequestId } from './ids.js'

/** An answer written straight to the socket (no request object exists), with a fresh request id like every other. */
function rawReply(socket: Duplex, status: number, reason: string, error: string): void {
  const id = newRequestId()
  const body = `{"error":"${error}","request_id":"${id}"}`
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\nx-request-id: ${id}\r\n\r\n${body}`)
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
  const rejected = (reason: string) => gw.metrics.rejected.child(reason).inc()
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return }
    if (err.code === 'HPE_HEADER_OVERFLOW') { rejected('headers_too_large'); rawReply(socket, 431, 'Request Header Fields Too Large', 'headers_too_large'); return }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') { rejected('request_timeout'); rawReply(socket, 408, 'Request Timeout', 'request_timeout'); return }
    rejected('malformed')
    rawReply(socket, 400, 'Bad Request', 'bad_request')
  })
  // WebSocket and other upgrades are refused, never half-proxied (docs/operations.md says why).
  server.on('upgrade', (_req, socket: Duplex) => { rejected('upgrade'); rawReply(socket, 501, 'Not Implemented', 'upgrade_not_supported') })
  server.on('connect', (_req, socket: Duplex) => { rejected('connect'); rawReply(socket, 405, 'Method Not Allowed', 'method_not_allowed') })
  return server
}
