// A raw-socket HTTP/1.1 client for tests that pin what crosses the wire: it sends exactly the bytes given (no
// client library normalises them) and reads back exactly what the server sent: the response head as bytes,
// headers in their order and case, the body framed by Content-Length or chunked coding (or read to close).
// Variable header values (request id, timing) can be masked so a whole head compares with assert.equal.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

export interface WireResponse {
  /** Interim 1xx heads that came before the final response, as text. */
  interim: string[]
  /** The final response head exactly as received, without the blank line ending it. */
  head: string
  status: number
  reason: string
  /** Header fields in the order and case received. */
  headers: [string, string][]
  /** The body as received after de-chunking (raw chunked framing is in `rawBody`). */
  body: Buffer
  /** The body bytes as they crossed the wire (chunk framing included). */
  rawBody: Buffer
  /** The body as latin1 text. */
  text: string
  /** Every value of a header (case-insensitive), in order. */
  all(name: string): string[]
  /** The single value of a header, undefined when absent; throws when it appears more than once. */
  header(name: string): string | undefined
}

/** An open connection: send exact bytes, read responses one at a time. */
export class WireConnection {
  private buf = Buffer.alloc(0)
  private ended = false
  private error: Error | null = null
  private wake: (() => void) | null = null
  /** Resolves when the server has closed the connection (FIN or RST). */
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => { this.buf = Buffer.concat([this.buf, c]); this.poke() })
    this.closed = new Promise(resolve => {
      const done = () => { this.ended = true; this.poke(); resolve() }
      socket.once('end', done)
      socket.once('close', done)
      socket.once('error', e => { this.error = e; done() })
    })
  }

  static open(port: number, host = '127.0.0.1'): Promise<WireConnection> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host)
      s.once('connect', () => { s.removeListener('error', reject); resolve(new WireConnection(s)) })
      s.once('error', reject)
    })
  }

  /** Whether the server closed its side. */
  get isClosed(): boolean { return this.ended }

  private poke(): void { const w = this.wake; this.wake = null; w?.() }

  private async more(deadline: number, what: string): Promise<void> {
    if (this.ended) throw new Error(`connection closed while waiting for ${what} (${this.buf.length} bytes unread${this.error !== null ? `, ${this.error.message}` : ''})`)
    const left = deadline - Date.now()
    if (left <= 0) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 200))}`)
    await new Promise<void>(resolve => {
      const t = setTimeout(() => { this.wake = null; resolve() }, left)
      this.wake = () => { clearTimeout(t); resolve() }
    })
  }

  /** Writes exact bytes (several parts are written with `gapMs` between them). */
  async write(data: string | Buffer | (string | Buffer)[], gapMs = 0): Promise<void> {
    const parts = Array.isArray(data) ? data : [data]
    for (let i = 0; i < parts.length; i++) {
      if (i > 0 && gapMs > 0) await new Promise(r => setTimeout(r, gapMs))
      await new Promise<void>((resolve, reject) => this.socket.write(typeof parts[i] === 'string' ? Buffer.from(parts[i] as string, 'latin1') : parts[i], e => e ? reject(e) : resolve()))
    }
  }

  /**
   * Reads the next response. `head: true` for a response to HEAD (no body whatever its framing). Rejects when
   * the connection closes first or nothing complete arrives within `timeoutMs`.
   */
  async read(o: { timeoutMs?: number; head?: boolean } = {}): Promise<WireResponse> {
    const deadline = Date.now() + (o.timeoutMs ?? 5000)
    const interim: string[] = []
    for (;;) {
      let end: number
      while ((end = this.buf.indexOf('\r\n\r\n')) < 0) await this.more(deadline, 'a response head')
      const head = this.buf.subarray(0, end).toString('latin1')
      this.buf = this.buf.subarray(end + 4)
      const lines = head.split('\r\n')
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0])
      if (m === null) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`)
      const status = Number(m[1])
      if (status >= 100 && status < 200 && status !== 101) { interim.push(head); continue }
      const headers = lines.slice(1).map(l => { const i = l.indexOf(':'); return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string] })
      const all = (name: string) => headers.filter(h => h[0].toLowerCase() === name.toLowerCase()).map(h => h[1])
      const header = (name: string) => { const v = all(name); if (v.length > 1) throw new Error(`${name} appears ${v.length} times`); return v[0] }
      let body: Buffer, rawBody: Buffer
      // a 101 has no body: what follows it belongs to the protocol switched to (the socket stays open for it)
      const noBody = o.head === true || status === 101 || status === 204 || status === 304
      const te = all('transfer-encoding').join(',').toLowerCase()
      const cl = all('content-length')
      if (noBody) { body = rawBody = Buffer.alloc(0) } else if (te.endsWith('chunked')) {
        ;[body, rawBody] = await this.readChunked(deadline)
      } else if (cl.length > 0) {
        const n = Number(cl[0])
        while (this.buf.length < n) await this.more(deadline, `a ${n}-byte body`)
        body = rawBody = Buffer.from(this.buf.subarray(0, n))
        this.buf = this.buf.subarray(n)
      } else {
        while (!this.ended) await this.more(deadline, 'the end of a close-delimited body')
        body = rawBody = this.buf
        this.buf = Buffer.alloc(0)
      }
      return { interim, head, status, reason: m[2] ?? '', headers, body, rawBody, text: body.toString('latin1'), all, header }
    }
  }

  private async readChunked(deadline: number): Promise<[Buffer, Buffer]> {
    const parts: Buffer[] = []
    let at = 0
    for (;;) {
      let eol: number
      while ((eol = this.buf.indexOf('\r\n', at)) < 0) await this.more(deadline, 'a chunk size')
      const size = parseInt(this.buf.subarray(at, eol).toString('latin1').split(';')[0], 16)
      if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(this.buf.subarray(at, eol).toString('latin1'))}`)
      if (size === 0) {
        // trailer section: lines until an empty one
        let t = eol + 2
        for (;;) {
          let e: number
          while ((e = this.buf.indexOf('\r\n', t)) < 0) await this.more(deadline, 'the chunked trailer')
          if (e === t) { t = e + 2; break }
          t = e + 2
        }
        const raw = Buffer.from(this.buf.subarray(0, t))
        this.buf = this.buf.subarray(t)
        return [Buffer.concat(parts), raw]
      }
      while (this.buf.length < eol + 2 + size + 2) await this.more(deadline, `a ${size}-byte chunk`)
      parts.push(Buffer.from(this.buf.subarray(eol + 2, eol + 2 + size)))
      at = eol + 2 + size + 2
    }
  }

  /** Sends `data` and reads one response. */
  async send(data: string | Buffer | (string | Buffer)[], o: { timeoutMs?: number; head?: boolean; gapMs?: number } = {}): Promise<WireResponse> {
    await this.write(data, o.gapMs)
    return this.read(o)
  }

  /** Any bytes received and not yet read as a response. */
  unread(): Buffer { return this.buf }

  close(): void { this.socket.destroy() }
}

/** One request on a fresh connection: send exact bytes, read one response, close. */
export async function wireExchange(port: number, data: string | Buffer | (string | Buffer)[], o: { timeoutMs?: number; head?: boolean; gapMs?: number } = {}): Promise<WireResponse> {
  const c = await WireConnection.open(port)
  try { return await c.send(data, o) } finally { c.close() }
}

/**
 * A head with the values of the named headers replaced by `*` (case-insensitive names), so a head carrying a
 * request id or a timing compares exactly with assert.equal.
 */
export function maskHead(head: string, names: readonly string[]): string {
  const lower = new Set(names.map(n => n.toLowerCase()))
  return head.split('\r\n').map((l, i) => {
    if (i === 0) return l
    const c = l.indexOf(':')
    return c > 0 && lower.has(l.slice(0, c).toLowerCase()) ? `${l.slice(0, c)}: *` : l
  }).join('\r\n')
}

/** Builds request bytes from lines: `req('GET / HTTP/1.1', 'Host: a')` → "GET / HTTP/1.1\r\nHost: a\r\n\r\n". */
export const req = (...lines: string[]): string => lines.map(l => l + '\r\n').join('') + '\r\n'

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))
/** A bound for Promise.race that does not keep the process alive once the race is won. */
export const bound = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms).unref())

/** Both ends of one loopback TCP connection (the connecting side first), each allowed to half-close. */
export async function socketPair(): Promise<[Socket, Socket]> {
  const srv = createServer({ allowHalfOpen: true })
  srv.listen(0, '127.0.0.1')
  await new Promise(r => srv.once('listening', r))
  const accepted = new Promise<Socket>(r => srv.once('connection', r))
  const c = connect({ port: (srv.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true })
  const a = await accepted
  srv.close()
  return [c, a]
}
