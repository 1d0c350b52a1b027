// lab/harness/raw-http.ts: a minimal HTTP/1.1 client over one raw socket, for checks where the client itself
// must not paper over what the server does (undici would retry, queue, or hide a hung connection): parse
// responses as they arrive (content-length, chunked, or until close), and see exactly when the socket ends.
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  /** Header names lowercased; repeated headers joined with ", ". */
  headers: Record<string, string>
  bodyBytes: number
  /** ms since the reader was created when the head arrived / the body ended. */
  headAt: number
  endAt: number
}

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunked'; state: 'size' | 'data' | 'crlf' | 'trailer'; left: number } | { kind: 'close' }

/**
 * Feeds bytes in, gets whole responses out. Responses to HEAD and 1xx are not special-cased (the checks never send
 * HEAD, and a 100 Continue is reported as its own response). `end()` finishes a read-until-close body.
 */
export class ResponseReader {
  private buf: Buffer = Buffer.alloc(0)
  private cur: { status: number; headers: Record<string, string>; bodyBytes: number; headAt: number; mode: BodyMode } | null = null
  readonly done: RawResponse[] = []
  constructor(private readonly now: () => number) {}

  feed(chunk: Buffer): RawResponse[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const out: RawResponse[] = []
    for (;;) {
      if (this.cur === null) {
        const end = this.buf.indexOf('\r\n\r\n')
        if (end < 0) break
        const head = this.buf.subarray(0, end).toString('latin1').split('\r\n')
        this.buf = this.buf.subarray(end + 4)
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0])
        if (m === null) throw new Error(`bad status line ${JSON.stringify(head[0])}`)
        const headers: Record<string, string> = {}
        for (const line of head.slice(1)) {
          const i = line.indexOf(':')
          if (i <= 0) continue
          const k = line.slice(0, i).trim().toLowerCase()
          const v = line.slice(i + 1).trim()
          headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`
        }
        const status = Number(m[1])
        let mode: BodyMode
        if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) mode = { kind: 'chunked', state: 'size', left: 0 }
        else if (headers['content-length'] !== undefined) mode = { kind: 'length', left: Number(headers['content-length']) }
        else if (status === 204 || status === 304 || (status >= 100 && status < 200)) mode = { kind: 'length', left: 0 }
        else mode = { kind: 'close' }
        this.cur = { status, headers, bodyBytes: 0, headAt: this.now(), mode }
      }
      if (!this.body()) break
      const c = this.cur
      const r: RawResponse = { status: c.status, headers: c.headers, bodyBytes: c.bodyBytes, headAt: c.headAt, endAt: this.now() }
      this.cur = null
      this.done.push(r)
      out.push(r)
    }
    return out
  }

  /** The socket ended: a read-until-close body is complete now. */
  end(): RawResponse[] {
    const c = this.cur
    if (c === null || c.mode.kind !== 'close') return []
    c.bodyBytes += this.buf.length
    this.buf = Buffer.alloc(0)
    const r: RawResponse = { status: c.status, headers: c.headers, bodyBytes: c.bodyBytes, headAt: c.headAt, endAt: this.now() }
    this.cur = null
    this.done.push(r)
    return [r]
  }

  /** Consumes body bytes of the current response; true when it is complete. */
  private body(): boolean {
    const c = this.cur!
    const mode = c.mode
    if (mode.kind === 'close') { c.bodyBytes += this.buf.length; this.buf = Buffer.alloc(0); return false }
    if (mode.kind === 'length') {
      const take = Math.min(mode.left, this.buf.length)
      mode.left -= take
      c.bodyBytes += take
      this.buf = this.buf.subarray(take)
      return mode.left === 0
    }
    for (;;) {
      if (mode.state === 'size' || mode.state === 'crlf' || mode.state === 'trailer') {
        const eol = this.buf.indexOf('\r\n')
        if (eol < 0) return false
        const line = this.buf.subarray(0, eol).toString('latin1')
        this.buf = this.buf.subarray(eol + 2)
        if (mode.state === 'crlf') { mode.state = 'size'; continue }
        if (mode.state === 'trailer') { if (line === '') return true; continue }
        const size = parseInt(line.split(';')[0], 16)
        if (!Number.isFinite(size)) throw new Error(`bad chunk size ${JSON.stringify(line)}`)
        if (size === 0) { mode.state = 'trailer'; continue }
        mode.state = 'data'
        mode.left = size
      }
      const take = Math.min(mode.left, this.buf.length)
      mode.left -= take
      c.bodyBytes += take
      this.buf = this.buf.subarray(take)
      if (mode.left > 0) return false
      mode.state = 'crlf'
    }
  }
}

export interface RawConnection {
  socket: Socket
  reader: ResponseReader
  /** ms since connect() was called. */
  now(): number
  /** Resolves with the next complete response, or rejects on close/error/timeout. */
  next(timeoutMs: number): Promise<RawResponse>
  /** Writes `data`, resolving when the kernel took it (false if the socket closed first). */
  write(data: Buffer | string): Promise<boolean>
  readonly closed: boolean
  readonly closeReason: string | null
  close(): void
}

/** Opens one TCP connection; resolves once connected. */
export function rawConnect(host: string, port: number): Promise<RawConnection> {
  const t0 = performance.now()
  const now = (): number => performance.now() - t0
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true })
    const reader = new ResponseReader(now)
    const queue: RawResponse[] = []
    let waiter: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | null = null
    let closed = false
    let closeReason: string | null = null
    const settleClose = (why: string): void => {
      if (closed) return
      closed = true
      closeReason = why
      try { for (const r of reader.end()) queue.push(r) } catch { /* half a response */ }
      if (waiter !== null) {
        const w = waiter
        waiter = null
        const r = queue.shift()
        if (r !== undefined) w.resolve(r)
        else w.reject(new Error(`connection ${why}`))
      }
    }
    socket.on('data', (chunk: Buffer) => {
      let got: RawResponse[]
      try { got = reader.feed(chunk) } catch (e) { socket.destroy(); settleClose(`sent garbage: ${(e as Error).message}`); return }
      queue.push(...got)
      if (waiter !== null && queue.length > 0) { const w = waiter; waiter = null; w.resolve(queue.shift()!) }
    })
    socket.on('error', (e: NodeJS.ErrnoException) => settleClose(e.code === 'ECONNRESET' ? 'reset by peer' : `error ${e.code ?? e.message}`))
    socket.on('end', () => settleClose('closed by peer'))
    socket.on('close', () => settleClose('closed'))
    socket.once('connect', () => resolve({
      socket, reader, now,
      get closed() { return closed },
      get closeReason() { return closeReason },
      next(timeoutMs) {
        const r = queue.shift()
        if (r !== undefined) return Promise.resolve(r)
        if (closed) return Promise.reject(new Error(`connection ${closeReason}`))
        return new Promise<RawResponse>((res, rej) => {
          const timer = setTimeout(() => { waiter = null; rej(new Error(`no response in ${timeoutMs} ms`)) }, timeoutMs)
          waiter = { resolve: (x) => { clearTimeout(timer); res(x) }, reject: (e) => { clearTimeout(timer); rej(e) } }
        })
      },
      write(data) {
        if (closed || socket.destroyed) return Promise.resolve(false)
        return new Promise<boolean>((res) => {
          const ok = socket.write(data)
          if (ok) return res(true)
          const onDrain = (): void => { socket.off('close', onClose); res(true) }
          const onClose = (): void => { socket.off('drain', onDrain); res(false) }
          socket.once('drain', onDrain)
          socket.once('close', onClose)
        })
      },
      close() { socket.destroy() },
    }))
    socket.once('error', reject)
  })
}
