// Answers written on an upgrade request's bare socket (no ServerResponse exists for it): a stage's reply,
// a gateway refusal, or the upstream's non-101 answer. It offers the few members runtime/reply.ts's
// writeReply uses, so those answers carry exactly the headers of any other (X-Request-Id, Server-Timing,
// Via, the route's response edits), plus `Connection: close`: the connection is never reused after an upgrade
// request that did not become a tunnel (the client may already be sending tunnel bytes behind it).
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

export class RawResponse {
  headersSent = false
  statusCode = 0
  writableFinished = false
  private head = ''

  constructor(private readonly socket: Duplex) {}

  get destroyed(): boolean { return this.socket.destroyed }

  /** `headers`: flat [name, value, …] strings (already checked: gateway-made, or parsed by undici). */
  writeHead(status: number, headers: readonly string[]): this {
    let h = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i].toLowerCase() === 'connection') continue
      h += `${headers[i]}: ${headers[i + 1]}\r\n`
    }
    this.head = h + 'connection: close\r\n\r\n'
    this.statusCode = status
    this.headersSent = true
    return this
  }

  end(body?: Buffer | string): void {
    if (this.socket.destroyed) return
    const s = this.socket
    s.write(this.head, 'latin1')
    this.writableFinished = true
    s.end(body)
    // a client that keeps the connection open (or keeps sending) is not waited for
    s.once('finish', () => setTimeout(() => s.destroy(), 1000).unref())
  }

  destroy(): void { this.socket.destroy() }
}
