// A recording upstream for proxy tests: several replicas, each a raw TCP server speaking just enough HTTP/1.1
// to read requests (Content-Length or chunked bodies, keep-alive, pipelining) and to misbehave on cue: reset
// the connection after reading a request, stall without answering, answer before the body arrives, close a
// kept-alive connection once idle, or send exact response bytes. Every request a replica received is
// recorded with its raw head bytes, so a test can count executions per replica and assert the exact request
// the gateway sent.
import { createServer, type Server, type Socket } from 'node:net'

/** What a replica received: one entry per request head read. */
export interface Received {
  /** Replica index (0-based) and its name (`r0`, `r1`, …). */
  replica: number
  name: string
  /** Connection number on this replica (1-based, in accept order): equal numbers = the same connection. */
  conn: number
  method: string
  target: string
  version: string
  /** The request head exactly as received, without the blank line ending it. */
  rawHead: string
  /** Header fields in the order and case received. */
  headers: [string, string][]
  /** The de-chunked body (empty until the whole body arrived; see `complete`). */
  body: Buffer
  /** The whole body arrived. */
  complete: boolean
  /** Every value of a header (case-insensitive), in order. */
  all(name: string): string[]
  /** The single value of a header, undefined when absent; throws when it appears more than once. */
  header(name: string): string | undefined
}

/** What a replica does with a request. */
export type Behaviour =
  /** A complete response (default 200, `{"replica":"rN"}`), after `delayMs`; keep-alive unless `close`. */
  | { kind: 'answer'; status?: number; reason?: string; headers?: [string, string][]; body?: string | Buffer; delayMs?: number; close?: boolean }
  /** Exactly these bytes, then the connection stays open (or closes with `close`). */
  | { kind: 'raw'; bytes: string | Buffer; close?: boolean }
  /** Read the whole request, then reset the connection (RST): the request was written and may have run. */
  | { kind: 'reset' }
  /** Read the request and never answer (the connection stays open until the test closes the upstream). */
  | { kind: 'stall' }
  /** Answer as soon as the head arrives, before reading the body, then read and discard the body. */
  | { kind: 'early'; status?: number; headers?: [string, string][]; body?: string | Buffer; close?: boolean }

export type Script = Behaviour | ((r: Received) => Behaviour)

export interface ReplicaOptions {
  /** What to do with each request (default: answer 200). */
  behaviour?: Script
  /** Close a kept-alive connection after it has been idle this long, without a Connection: close. */
  idleCloseMs?: number
}

export interface RecordingReplica {
  index: number
  name: string
  port: number
  /** `127.0.0.1:PORT`, for a `replicas` line. */
  addr: string
  /** Requests this replica received, in order. */
  received: Received[]
  /** Connections accepted so far. */
  connections: number
  /** Change what it does from the next request on. */
  behave(s: Script): void
  setIdleClose(ms: number | undefined): void
}

export interface RecordingUpstream {
  replicas: RecordingReplica[]
  /** `host:port host:port …` of every replica, for a `replicas` line. */
  addrs: string
  /** Every request any replica received, in arrival order. */
  received: Received[]
  /** Requests per replica name, e.g. { r0: 1, r1: 0 }. */
  counts(): Record<string, number>
  /** Forget what was received (connection numbers keep counting, so `conn` stays unambiguous). */
  reset(): void
  close(): Promise<void>
}

const REASONS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'No Content', 400: 'Bad Request', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }

function responseBytes(name: string, b: { status?: number; reason?: string; headers?: [string, string][]; body?: string | Buffer; close?: boolean }): Buffer {
  const status = b.status ?? 200
  const body = b.body === undefined ? Buffer.from(JSON.stringify({ replica: name })) : Buffer.isBuffer(b.body) ? b.body : Buffer.from(b.body)
  const headers = b.headers ?? [['content-type', 'application/json'], ['x-replica', name]]
  const lines = [`HTTP/1.1 ${status} ${b.reason ?? REASONS[status] ?? 'Status'}`, ...headers.map(([k, v]) => `${k}: ${v}`)]
  if (!headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) lines.push(`content-length: ${body.length}`)
  if (b.close === true) lines.push('connection: close')
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body])
}

/** Parses one request head; null when more bytes are needed. */
function parseHead(buf: Buffer): { end: number; method: string; target: string; version: string; head: string; headers: [string, string][] } | null {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return null
  const head = buf.subarray(0, end).toString('latin1')
  const lines = head.split('\r\n')
  const [method, target, version] = lines[0].split(' ')
  const headers = lines.slice(1).map(l => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string] })
  return { end: end + 4, method, target, version, head, headers }
}

/** How much of `buf` a chunked body takes and the de-chunked bytes; null when incomplete. */
function parseChunked(buf: Buffer): { used: number; body: Buffer } | null {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = buf.indexOf('\r\n', at)
    if (eol < 0) return null
    const size = parseInt(buf.subarray(at, eol).toString('latin1').split(';')[0], 16)
    if (size === 0) {
      let t = eol + 2
      for (;;) {
        const e = buf.indexOf('\r\n', t)
        if (e < 0) return null
        if (e === t) return { used: e + 2, body: Buffer.concat(parts) }
        t = e + 2
      }
    }
    if (buf.length < eol + 2 + size + 2) return null
    parts.push(buf.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

function startReplica(index: number, o: ReplicaOptions, all: Received[]): Promise<RecordingReplica & { server: Server; sockets: Set<Socket> }> {
  const name = `r${index}`
  let script: Script = o.behaviour ?? { kind: 'answer' }
  let idleCloseMs = o.idleCloseMs
  const sockets = new Set<Socket>()
  const rep = {
    index, name, port: 0, addr: '', received: [] as Received[], connections: 0, server: null as unknown as Server, sockets,
    behave(s: Script) { script = s },
    setIdleClose(ms: number | undefined) { idleCloseMs = ms },
  }
  const server = createServer(sock => {
    sockets.add(sock)
    const conn = ++rep.connections
    let buf: Buffer = Buffer.alloc(0)
    let busy = false // a request is being answered (stall/delay): later pipelined ones wait
    let idle: NodeJS.Timeout | null = null
    const armIdle = () => {
      if (idle !== null) clearTimeout(idle)
      idle = idleCloseMs === undefined ? null : setTimeout(() => sock.end(), idleCloseMs)
    }
    sock.on('close', () => { sockets.delete(sock); if (idle !== null) clearTimeout(idle) })
    sock.on('error', () => undefined)
    /** The request being read: its record and how its body is framed. */
    let cur: { r: Received; len: number | 'chunked'; b: Behaviour; answered: boolean } | null = null
    const pump = () => {
      for (;;) {
        if (busy || sock.destroyed) return
        if (cur === null) {
          const h = parseHead(buf)
          if (h === null) return
          if (idle !== null) { clearTimeout(idle); idle = null }
          buf = buf.subarray(h.end)
          const all_ = (n: string) => h.headers.filter(x => x[0].toLowerCase() === n.toLowerCase()).map(x => x[1])
          const r: Received = {
            replica: index, name, conn, method: h.method, target: h.target, version: h.version, rawHead: h.head, headers: h.headers,
            body: Buffer.alloc(0), complete: false, all: all_,
            header: n => { const v = all_(n); if (v.length > 1) throw new Error(`${n} appears ${v.length} times`); return v[0] },
          }
          rep.received.push(r)
          all.push(r)
          const te = all_('transfer-encoding').join(',').toLowerCase()
          const len: number | 'chunked' = te.endsWith('chunked') ? 'chunked' : Number(all_('content-length')[0] ?? 0)
          const b = typeof script === 'function' ? script(r) : script
          cur = { r, len, b, answered: false }
          if (b.kind === 'early') { sock.write(responseBytes(name, b)); cur.answered = true; if (b.close === true) { sock.end(); return } }
        }
        // the body
        if (cur.len === 'chunked') {
          const c = parseChunked(buf)
          if (c === null) return
          cur.r.body = Buffer.from(c.body)
          buf = buf.subarray(c.used)
        } else {
          if (buf.length < cur.len) return
          cur.r.body = Buffer.from(buf.subarray(0, cur.len))
          buf = buf.subarray(cur.len)
        }
        cur.r.complete = true
        const { b, answered } = cur
        cur = null
        if (answered) { armIdle(); continue }
        switch (b.kind) {
          case 'reset': sock.resetAndDestroy(); return
          case 'stall': busy = true; return
          case 'raw': sock.write(b.bytes); if (b.close === true) { sock.end(); return } armIdle(); continue
          case 'answer': {
            const out = responseBytes(name, b)
            if ((b.delayMs ?? 0) > 0) {
              busy = true
              setTimeout(() => {
                busy = false
                if (sock.destroyed) return
                sock.write(out)
                if (b.close === true) sock.end(); else { armIdle(); pump() }
              }, b.delayMs)
              return
            }
            sock.write(out)
            if (b.close === true) { sock.end(); return }
            armIdle()
            continue
          }
          case 'early': continue // (answered above)
        }
      }
    }
    sock.on('data', (c: Buffer) => { buf = buf.length === 0 ? c : Buffer.concat([buf, c]); pump() })
  })
  rep.server = server
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      rep.port = (server.address() as { port: number }).port
      rep.addr = `127.0.0.1:${rep.port}`
      resolve(rep)
    })
  })
}

/** Starts `n` replicas (or one per options entry), each answering 200 unless told otherwise. */
export async function startRecordingUpstream(replicas: number | ReplicaOptions[]): Promise<RecordingUpstream> {
  const opts = typeof replicas === 'number' ? Array.from({ length: replicas }, () => ({})) : replicas
  const received: Received[] = []
  const reps = await Promise.all(opts.map((o, i) => startReplica(i, o, received)))
  return {
    replicas: reps,
    addrs: reps.map(r => r.addr).join(' '),
    received,
    counts: () => Object.fromEntries(reps.map(r => [r.name, r.received.length])),
    reset() { received.length = 0; for (const r of reps) r.received.length = 0 },
    async close() {
      await Promise.all(reps.map(r => new Promise<void>(resolve => {
        for (const s of r.sockets) s.destroy()
        r.server.close(() => resolve())
      })))
    },
  }
}
