// Shared by test/runtime/http1/upstream-*.test.ts: a handler that records what the http1 engine's upstream pool
// (runtime/http1/upstream-pool.ts) hands it, and raw upstream servers on node:net that see the exact bytes.
import { createServer, type Server, type Socket } from 'node:net'
import { after } from 'node:test'
import type { Duplex } from 'node:stream'
import { Http1Pool, type Http1PoolOptions } from '../../../runtime/http1/upstream-pool.js'
import type { UpstreamDispatch, UpstreamHandler } from '../../../runtime/upstream/pool.js'

export interface Outcome {
  status: number
  headers: string[]
  body: Buffer
  interim: number[]
  error: (Error & { code?: string }) | null
  upgraded: { status: number; headers: string[]; socket: Duplex } | null
}

/** Records one dispatch; `pause` makes onData return false (the test calls `resume()`). */
export class Recorder implements UpstreamHandler {
  status = 0
  headers: string[] = []
  interim: number[] = []
  chunks: Buffer[] = []
  received = 0
  connected = false
  abortFn: ((err?: Error) => void) | null = null
  resumeFn: (() => void) | null = null
  pause = false
  readonly done: Promise<Outcome>
  private settle!: (o: Outcome) => void
  private error: Error | null = null
  private upgraded: Outcome['upgraded'] = null

  constructor() { this.done = new Promise(resolve => { this.settle = resolve }) }

  private outcome(): Outcome {
    return { status: this.status, headers: this.headers, body: Buffer.concat(this.chunks), interim: this.interim, error: this.error, upgraded: this.upgraded }
  }

  onConnect(abort: (err?: Error) => void): void { this.connected = true; this.abortFn = abort }
  onHeaders(status: number, raw: Buffer[] | string[], resume: () => void): boolean {
    if (status < 200) { this.interim.push(status); return true }
    this.status = status
    this.headers = raw as string[]
    this.resumeFn = resume
    return true
  }
  onData(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk))
    this.received += chunk.length
    return !this.pause
  }
  onComplete(): void { this.settle(this.outcome()) }
  onError(err: Error): void { this.error = err; this.settle(this.outcome()) }
  onUpgrade(status: number, raw: Buffer[] | string[], socket: Duplex): void {
    this.upgraded = { status, headers: raw as string[], socket }
    this.settle(this.outcome())
  }
}

/** Dispatches and waits for the outcome. */
export function send(pool: Http1Pool, opts: Partial<UpstreamDispatch> = {}): Promise<Outcome> {
  const r = new Recorder()
  pool.dispatch({ method: 'GET', path: '/', headers: [], body: null, ...opts }, r)
  return r.done
}

/** One accepted connection of a RawUpstream: every byte it received, as latin1. */
export interface RawConn { n: number; socket: Socket; data: string; closed: boolean }

/**
 * A raw upstream: `onRequest(conn, head)` is called each time a complete request head (and its
 * Content-Length / chunked body) has arrived on a connection; it answers by writing to conn.socket.
 */
export class RawUpstream {
  readonly conns: RawConn[] = []
  port = 0
  private readonly server: Server

  constructor(private readonly onRequest: (c: RawConn, request: string) => void) {
    this.server = createServer(socket => {
      const c: RawConn = { n: this.conns.length + 1, socket, data: '', closed: false }
      this.conns.push(c)
      let pending = ''
      socket.on('error', () => undefined)
      socket.on('close', () => { c.closed = true })
      socket.on('data', (b: Buffer) => {
        const s = b.toString('latin1')
        c.data += s
        pending += s
        for (;;) {
          const len = requestLength(pending)
          if (len < 0) return
          const one = pending.slice(0, len)
          pending = pending.slice(len)
          this.onRequest(c, one)
        }
      })
    })
  }

  async listen(): Promise<this> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as { port: number }).port
    return this
  }

  /** Every request received, across connections, in order of connections. */
  get requests(): string[] {
    return this.conns.flatMap(c => splitRequests(c.data))
  }

  pool(o: Partial<Http1PoolOptions> = {}): Http1Pool {
    return new Http1Pool({ host: '127.0.0.1', port: this.port, connections: 4, idleMs: 30_000, connectTimeoutMs: 2000, bodyIdleMs: 5000, ...o })
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}

/** Length of the first complete request in `s` (head + Content-Length or chunked body), -1 if incomplete. */
export function requestLength(s: string): number {
  const h = s.indexOf('\r\n\r\n')
  if (h < 0) return -1
  const head = s.slice(0, h)
  const cl = /\r\ncontent-length: *(\d+)/i.exec(head)
  if (cl !== null) return s.length >= h + 4 + Number(cl[1]) ? h + 4 + Number(cl[1]) : -1
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const end = s.indexOf('\r\n0\r\n\r\n', h)
    return end < 0 ? -1 : end + 7
  }
  return h + 4
}

function splitRequests(s: string): string[] {
  const out: string[] = []
  for (let len = requestLength(s); len > 0; len = requestLength(s)) { out.push(s.slice(0, len)); s = s.slice(len) }
  return out
}

export const ok = (body = 'ok', extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`

export const delay = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await delay(5)
  }
}

/** A RawUpstream starter for one test file: every upstream it starts is closed after the file's tests. */
export function upstreamsClosedAfter(): (onRequest: ConstructorParameters<typeof RawUpstream>[0]) => Promise<RawUpstream> {
  const ups: RawUpstream[] = []
  after(async () => { for (const u of ups) await u.close() })
  return async onRequest => {
    const u = await new RawUpstream(onRequest).listen()
    ups.push(u)
    return u
  }
}
