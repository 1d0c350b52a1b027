// Shared plumbing for the runtime integration tests: a stub upstream plus a real gateway whose policy names
// the stub's replica ports, raw-socket requests (for framing undici would never send), echo parsing, polling.
import { connect } from 'node:net'
import { Agent, Client, type Dispatcher } from 'undici'
import { startStub, type Stub, type StubOptions } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

export interface Rig {
  stub: Stub
  gw: TestGateway
  /** Gateway client port. */
  port: number
  /** A keep-alive client for the gateway, closed by close(). */
  agent: Agent
  close(): Promise<void>
}

/** `host:port host:port …` of a stub group (or all replicas), for a `replicas` line. */
export function replicaAddrs(stub: Stub, group?: string): string {
  return stub.replicas.filter(r => group === undefined || r.group === group).map(r => `${r.host}:${r.port}`).join(' ')
}

/**
 * Starts the stub, then a gateway from `policy(stub)` (replica ports are only known once the stub listens).
 * Everything is closed by `close()`, also when the gateway fails to start.
 */
export async function startRig(stubOpts: StubOptions, policy: (stub: Stub) => string, settings: Record<string, unknown> = {}): Promise<Rig> {
  const stub = await startStub(stubOpts)
  let gw: TestGateway
  try { gw = await startGateway(policy(stub), settings) } catch (e) { await stub.close(); throw e }
  const agent = new Agent({ keepAliveTimeout: 10_000, connections: 32 })
  return {
    stub, gw, agent,
    port: gw.running.address.port,
    async close() {
      await agent.destroy().catch(() => undefined)
      await gw.close()
      await stub.close()
    },
  }
}

export interface RawResponse {
  /** Everything the server sent until it closed, a full response arrived, or the wait ended. */
  text: string
  /** Status of the first response, or null when none arrived. */
  status: number | null
  /** Header block of the first response, names lower-case (last value wins). */
  headers: Record<string, string>
  body: string
  /** The server closed the connection. */
  closed: boolean
}

function parseFirst(text: string): { status: number | null; headers: Record<string, string>; body: string; complete: boolean } {
  // Skip interim 1xx responses (100 Continue) to reach the final one.
  let rest = text
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) return { status: null, headers: {}, body: '', complete: false }
    const lines = rest.slice(0, end).split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0])
    if (m === null) return { status: null, headers: {}, body: '', complete: false }
    const status = Number(m[1])
    if (status >= 100 && status < 200) { rest = rest.slice(end + 4); continue }
    const headers: Record<string, string> = {}
    for (const l of lines.slice(1)) { const i = l.indexOf(':'); if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim() }
    const body = rest.slice(end + 4)
    const cl = headers['content-length']
    const complete = cl !== undefined ? Buffer.byteLength(body, 'latin1') >= Number(cl) : false
    return { status, headers, body: cl !== undefined ? body.slice(0, Number(cl)) : body, complete }
  }
}

/**
 * Sends raw bytes to `port` and collects the answer. Resolves when the server closes, when a response with a
 * Content-Length has fully arrived (unless `untilClose`: pipelined requests), or after `waitMs` (then the
 * socket is destroyed).
 */
export function rawRequest(port: number, data: string | Buffer | (string | Buffer)[], opts: { waitMs?: number; gapMs?: number; untilClose?: boolean } = {}): Promise<RawResponse> {
  const parts = Array.isArray(data) ? data : [data]
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let done = false
    const sock = connect(port, '127.0.0.1')
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sock.destroy()
      const text = Buffer.concat(chunks).toString('latin1')
      const p = parseFirst(text)
      resolve({ text, status: p.status, headers: p.headers, body: p.body, closed })
    }
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 3000)
    sock.on('data', (c: Buffer) => { chunks.push(c); if (!opts.untilClose && parseFirst(Buffer.concat(chunks).toString('latin1')).complete) finish(false) })
    sock.on('end', () => finish(true))
    sock.on('close', () => finish(true))
    sock.on('error', () => finish(true))
    sock.on('connect', async () => {
      for (let i = 0; i < parts.length; i++) {
        if (i > 0 && opts.gapMs) await new Promise(r => setTimeout(r, opts.gapMs))
        if (!sock.destroyed) sock.write(parts[i])
      }
    })
  })
}

/** What /echo reports, with header lookup over the raw list the upstream received. */
export interface Echo {
  replica: string
  method: string
  url: string
  httpVersion: string
  rawHeaders: string[]
  bodyBytes: number
  bodySha256: string
}

/** All values of a header (case-insensitive) in an echo's raw header list, in order. */
export function echoed(e: Echo, name: string): string[] {
  const out: string[] = []
  for (let i = 0; i < e.rawHeaders.length; i += 2) if (e.rawHeaders[i].toLowerCase() === name.toLowerCase()) out.push(e.rawHeaders[i + 1])
  return out
}

/** Polls `cond` every 20 ms until it is true; throws after `timeoutMs` with `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

/** The admin /metrics text. */
export async function metricsText(gw: TestGateway): Promise<string> {
  const c = new Client(gw.adminUrl)
  try {
    const res = await c.request({ path: '/metrics', method: 'GET' })
    return await res.body.text()
  } finally { await c.close() }
}

/** A request with an explicit, un-normalised path (undici's URL parsing would resolve dot-segments). */
export async function requestPath(dispatcher: Dispatcher, origin: string, path: string, opts: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await dispatcher.request({ origin, path, method: (opts.method ?? 'GET') as Dispatcher.HttpMethod, headers: opts.headers })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

/** Counts each distinct value in a list. */
export function tally(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of xs) out[x] = (out[x] ?? 0) + 1
  return out
}
