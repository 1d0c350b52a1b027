// lab/peers/floor.ts: the floor proxy: the least a Node reverse proxy can do (node:http in, one undici Pool
// per upstream replica out, raw dispatch, streaming with backpressure both ways, hop-by-hop headers dropped,
// round-robin). No request ids, no metrics: the reference the gateway's tax is measured against.
//   node dist/lab/peers/floor.js --listen 127.0.0.1:8081 --upstream 127.0.0.1:9001,127.0.0.1:9002
import http, { type IncomingMessage, type ServerResponse, type IncomingHttpHeaders } from 'node:http'
import { Pool, type Dispatcher } from 'undici'
import { connectionTokens, formatHostPort, HOP_BY_HOP, isMain, runPeerMain, type HostPort } from './common.js'

export interface FloorOptions {
  listen: HostPort
  upstreams: HostPort[]
  /** Keep-alive connections per replica. */
  connections: number
  keepAliveMs?: number
}

interface Replica { pool: Pool; host: string }

const kCall = Symbol('floorCall')
type ProxiedResponse = ServerResponse & { [kCall]: ProxyCall }

/** Shared listeners (`this` is the response), so a request allocates no closures. */
function onResponseClose(this: ProxiedResponse): void { this[kCall].clientClosed() }
function onResponseDrain(this: ProxiedResponse): void { this[kCall].controller?.resume() }

const CLIENT_GONE = 'client closed the connection'

/**
 * One proxied request, also its undici dispatch handler. The controller-style callbacks (onRequestStart…)
 * are undici 7's current API and the only one undici 8 keeps; undici 7 adapts them onto its core for the
 * price of one controller object and a parsed header object per response, which this proxy needs anyway.
 * HOT PATH throughout.
 */
class ProxyCall implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | null = null
  headers: string[] = []
  hasBody = false
  done = false
  gone = false
  drainHooked = false

  constructor(readonly res: ProxiedResponse) {}

  /** Forwarded request headers: hop-by-hop, Connection-listed, Host and Expect dropped; Host set to the replica. */
  prepare(raw: string[], host: string): void {
    const out = this.headers
    let connection: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      // Only names of 19 characters or fewer ('proxy-authorization') can need a decision.
      const lower = name.length <= 19 ? name.toLowerCase() : ''
      if (lower !== '') {
        if (HOP_BY_HOP.has(lower)) {
          if (lower === 'connection') connection = connection === undefined ? raw[i + 1] : `${connection},${raw[i + 1]}`
          else if (lower === 'transfer-encoding') this.hasBody = true
          continue
        }
        // Expect: node:http has already answered 100-continue, and undici refuses to send it.
        if (lower === 'host' || lower === 'expect') continue
        if (lower === 'content-length' && raw[i + 1] !== '0') this.hasBody = true
      }
      out.push(name, raw[i + 1])
    }
    out.push('host', host)
    if (connection !== undefined) {
      const listed = connectionTokens(connection)
      if (listed.length > 0) {
        const kept: string[] = []
        for (let i = 0; i < out.length; i += 2) if (!listed.includes(out[i].toLowerCase())) kept.push(out[i], out[i + 1])
        this.headers = kept
      }
    }
  }

  clientClosed(): void {
    if (this.done) return
    this.gone = true
    this.controller?.abort(new Error(CLIENT_GONE))
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.gone) controller.abort(new Error(CLIENT_GONE))
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (this.gone) return
    const out: IncomingHttpHeaders = {}
    for (const k in headers) if (!HOP_BY_HOP.has(k)) out[k] = headers[k]
    if (headers.connection !== undefined) for (const t of connectionTokens(headers.connection)) delete out[t]
    this.res.writeHead(statusCode, out)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.gone) return
    if (!this.res.write(chunk)) {
      // Backpressure: stop reading the upstream socket until the client has taken what we wrote.
      controller.pause()
      if (!this.drainHooked) { this.drainHooked = true; this.res.on('drain', onResponseDrain) }
    }
  }

  onResponseEnd(): void {
    this.done = true
    if (!this.gone) this.res.end()
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.done = true
    if (this.gone) return
    if (!this.res.headersSent) {
      this.res.writeHead(502, { 'content-length': '0' })
      this.res.end()
    } else {
      this.res.destroy(err) // mid-body: the client must see a truncated response, not a clean end
    }
  }
}

/** Starts the floor proxy. Resolves once it listens; close() stops it and its pools. */
export async function startFloor(opts: FloorOptions): Promise<{ url: string; port: number; pid: number; server: http.Server; close(): Promise<void> }> {
  if (opts.upstreams.length === 0) throw new Error('floor: at least one upstream')
  const replicas: Replica[] = opts.upstreams.map((u) => ({
    pool: new Pool(`http://${formatHostPort(u)}`, { connections: opts.connections, pipelining: 1, keepAliveTimeout: opts.keepAliveMs ?? 30_000 }),
    host: formatHostPort(u),
  }))
  let next = 0
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => { // HOT PATH
    const replica = replicas[next]
    next = next + 1 === replicas.length ? 0 : next + 1
    const r = res as ProxiedResponse
    const call = new ProxyCall(r)
    r[kCall] = call
    r.on('close', onResponseClose)
    call.prepare(req.rawHeaders, replica.host)
    replica.pool.dispatch({
      method: req.method as Dispatcher.HttpMethod,
      path: req.url as string,
      headers: call.headers,
      body: call.hasBody ? req : null,
    }, call)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.listen.port, opts.listen.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as { port: number }).port
  return {
    url: `http://${formatHostPort({ host: opts.listen.host, port })}`,
    port,
    pid: process.pid,
    server,
    async close() {
      await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() })
      await Promise.all(replicas.map((r) => r.pool.destroy()))
    },
  }
}

if (isMain(import.meta.url)) {
  void runPeerMain('floor', (a) => startFloor({ listen: a.listen, upstreams: a.upstreams, connections: a.connections, keepAliveMs: a.keepAliveMs }))
}
