// The built-in endpoints that do not stream a generated body: /healthz, /echo, /upload, /status/CODE, /delay/MS,
// /hang, /reset, /early, /hop; plus the `builtin(path)` lookup the replica dispatches through.
//
// Reserved paths (exact; they win over rules, draw nothing from the PRNG, and ignore the rule overrides):
//   GET  /healthz            200 {"ok":true}, or 503 once flipped (setHealthy, POST /__stub/health?ok=0)
//   ANY  /echo               {replica, method, url, httpVersion, rawHeaders, remoteAddress, remotePort,
//                            bodyBytes, bodySha256}: the body is hashed as it streams, never buffered
//   ANY  /upload             {replica, bytes, sha256} of the streamed body
//   GET  /bytes/N            N pattern bytes (N <= 256 MiB), content-length + x-body-sha256, backpressured
//   GET  /chunked?n=4&size=16&interval=0    chunked body in n writes of size bytes (<= 64 KiB), x-body-sha256
//   GET  /sse?n=5&interval=100              text/event-stream, one event per interval; n=0 = until the client leaves
//   ANY  /status/CODE        that status (200..599), small JSON (no body for 204/304)
//   ANY  /delay/MS           200 after MS
//   ANY  /hang               never answers; counted as aborted when the client leaves
//   ANY  /reset              destroys the connection (RST) with no response; counted in `resets`
//   ANY  /early?status=413&close=0          answers at once without reading the body (see handleEarly)
//   ANY  /hop?close=1        response with hop-by-hop headers: Connection: close, x-hop; Keep-Alive; X-Hop;
//                            Proxy-Connection; plus an end-to-end X-End-To-End a proxy must keep
//   /__stub/stats|reset|health|rules        control plane, see control.ts (not counted)
// Every response carries `x-stub-replica: <name>`. Any other path is rule-driven (rules.ts, replica.ts).
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { boolParam, intIn, intParam, MAX_DELAY_MS } from './params.js'
import type { Replica } from './replica.js'
import { handleBytes, handleChunked, handleSse } from './streams.js'

/** A built-in endpoint. `x-stub-replica` is already set; `path` has no query; `q` is undefined without one. */
export type Handler = (rep: Replica, req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams | undefined) => void

const EXACT = new Map<string, Handler>([
  ['/healthz', handleHealthz],
  ['/echo', handleEcho],
  ['/upload', handleUpload],
  ['/chunked', handleChunked],
  ['/sse', handleSse],
  ['/hang', handleHang],
  ['/reset', handleReset],
  ['/early', handleEarly],
  ['/hop', handleHop],
])

/** The handler a reserved path maps to, or undefined for rule-driven paths. HOT PATH: one Map get, three prefix tests. */
export function builtin(path: string): Handler | undefined {
  const h = EXACT.get(path)
  if (h !== undefined) return h
  if (path.startsWith('/bytes/')) return handleBytes
  if (path.startsWith('/status/')) return handleStatus
  if (path.startsWith('/delay/')) return handleDelay
  return undefined
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

function handleHealthz(rep: Replica, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, rep.healthy ? 200 : 503, { ok: rep.healthy, replica: rep.name })
}

/**
 * Hash the request body as it streams in (never holding more than a chunk) and call `done` at its end. An aborted
 * upload never calls `done`; the response's 'close' does the counting. The 'error' listener is there so that an
 * abort is not an unhandled error event.
 */
export function hashBody(req: IncomingMessage, done: (bytes: number, sha256: string) => void): void {
  const hash = createHash('sha256')
  let bytes = 0
  req.on('data', (chunk: Buffer) => { bytes += chunk.length; hash.update(chunk) })
  req.on('end', () => done(bytes, hash.digest('hex')))
  req.on('error', () => {})
}

export function handleEcho(rep: Replica, req: IncomingMessage, res: ServerResponse): void {
  hashBody(req, (bodyBytes, bodySha256) => sendJson(res, 200, {
    replica: rep.name, method: req.method, url: req.url, httpVersion: req.httpVersion, rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, bodyBytes, bodySha256,
  }))
}

export function handleUpload(rep: Replica, req: IncomingMessage, res: ServerResponse): void {
  hashBody(req, (bytes, sha256) => sendJson(res, 200, { replica: rep.name, bytes, sha256 }))
}

function handleStatus(rep: Replica, _req: IncomingMessage, res: ServerResponse, path: string): void {
  const status = intIn(path.slice('/status/'.length), 'status', 200, 599)
  if (status === 204 || status === 304) { res.writeHead(status); res.end(); return }
  sendJson(res, status, { status, replica: rep.name })
}

function handleDelay(rep: Replica, _req: IncomingMessage, res: ServerResponse, path: string): void {
  const ms = intIn(path.slice('/delay/'.length), 'delay', 0, MAX_DELAY_MS)
  // Cleared when the client leaves, so a long /delay/N does not pin the response until N elapses.
  const t = setTimeout(() => sendJson(res, 200, { delayed: ms, replica: rep.name }), ms)
  res.once('close', () => clearTimeout(t))
}

/** Never answers. The client leaving closes the response, which counts it as aborted. */
export function handleHang(): void {}

/** Destroys the connection with no response (an RST where Node supports it): the 502 case for a proxy. */
export function handleReset(rep: Replica, _req: IncomingMessage, res: ServerResponse): void {
  rep.resetConnection(res)
}

/**
 * Answers at once (`?status=`, default 413; `?close=1` adds `Connection: close`) without reading the body.
 * What Node (20) then does with the unread body: when the response finishes, the server calls `req._dump()`
 * (resOnFinish in _http_server.js), which reads and discards the rest of the body so the keep-alive connection can
 * carry the next request. With `Connection: close` it also destroys the socket once the response is flushed, so
 * body bytes still in flight meet a closed socket and the client may see EPIPE/ECONNRESET mid-upload (undici 7
 * usually still reports the 413). The stub itself never sees an error either way.
 */
function handleEarly(rep: Replica, _req: IncomingMessage, res: ServerResponse, _path: string, q: URLSearchParams | undefined): void {
  const status = intParam(q, 'status', 413, 200, 599)
  if (boolParam(q, 'close', false)) res.setHeader('connection', 'close')
  sendJson(res, status, { early: true, status, replica: rep.name })
}

/** Hop-by-hop response headers /hop sends; a proxy must drop all of these and keep `x-end-to-end`. */
export const HOP_HEADERS = ['connection', 'keep-alive', 'x-hop', 'proxy-connection'] as const

/** A response carrying hop-by-hop headers (`?close=0` says `keep-alive, x-hop` instead of `close, x-hop`). */
function handleHop(rep: Replica, _req: IncomingMessage, res: ServerResponse, _path: string, q: URLSearchParams | undefined): void {
  res.setHeader('connection', boolParam(q, 'close', true) ? 'close, x-hop' : 'keep-alive, x-hop')
  res.setHeader('keep-alive', 'timeout=5, max=100')
  res.setHeader('x-hop', 'must-be-stripped')
  res.setHeader('proxy-connection', 'keep-alive')
  res.setHeader('x-end-to-end', 'must-be-kept')
  sendJson(res, 200, { hopByHop: HOP_HEADERS, endToEnd: ['x-end-to-end'], replica: rep.name })
}
