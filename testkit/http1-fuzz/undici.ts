// The socket-level half of the response comparison: a raw node:net server writes a case's bytes as the answer
// (then closes), undici (what gw uses upstream today) requests it, and what undici reports (status, headers,
// body, or an error) is compared with what gw's response codec makes of the same bytes.
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Client } from 'undici'
import { compareCase } from './compare.js'
import { gwParse } from './gw.js'
import type { Case } from './gen.js'

export interface UndiciSeen { status: number; headers: Record<string, string | string[]>; body: string }
/** kind: 'agree'; 'stricter:<class>' (gw refuses, undici accepts: a listed class, or 'llhttp' when node's own
 *  parser refuses the bytes too); 'undici:<class>' (undici refuses what gw takes, RFC 9110 on gw's side, listed
 *  in docs/operations.md); 'disagree'. */
export interface UndiciVerdict { kind: string; why: string; undici: UndiciSeen | string; gw: UndiciSeen | string }

/** A server answering every connection with the bytes queued for it, then ending the connection. */
export class RawResponder {
  private server: Server
  private next: Buffer = Buffer.alloc(0)
  private sockets = new Set<Socket>()
  constructor() {
    this.server = createServer(sock => {
      this.sockets.add(sock)
      sock.on('close', () => this.sockets.delete(sock))
      sock.on('error', () => {})
      const bytes = this.next
      // Answer once the request head is in (undici writes it first), then close: read-until-close bodies end.
      sock.once('data', () => { sock.end(bytes) })
    })
  }
  async listen(): Promise<number> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.address() as AddressInfo).port
  }
  answerWith(b: Buffer): void { this.next = b }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}

/** undici's view of a raw header list: lower-case names, a repeated name becomes an array. */
function undiciHeaders(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i].toLowerCase()
    const prev = Object.hasOwn(out, k) ? out[k] : undefined
    if (prev === undefined) out[k] = raw[i + 1]
    else if (Array.isArray(prev)) prev.push(raw[i + 1])
    else out[k] = [prev, raw[i + 1]]
  }
  return out
}

/** What gw's codec makes of a response: the final (non-1xx) message, or the refusal. */
export function gwFinal(c: Case): UndiciSeen | string {
  const o = gwParse('response', [c.bytes], { maxHeadBytes: c.maxHeaderSize, maxHeaders: 100000 }, { requestMethod: c.requestMethod, eof: true })
  const final = o.messages.find(m => m.status >= 200 || m.status === 101)
  if (final === undefined || !final.complete) return o.error ?? 'no final response'
  if (final.status === 101) return 'switching protocols'
  return { status: final.status, headers: undiciHeaders(final.rawHeaders), body: final.body }
}

/** Requests `c`'s answer through undici from `responder` on a fresh connection. */
export async function undiciFetch(port: number, responder: RawResponder, c: Case): Promise<UndiciSeen | string> {
  responder.answerWith(c.bytes)
  const client = new Client(`http://127.0.0.1:${port}`, { maxHeaderSize: c.maxHeaderSize, headersTimeout: 2000, bodyTimeout: 2000 })
  try {
    const r = await client.request({ path: '/', method: c.requestMethod })
    let body = ''
    for await (const chunk of r.body) body += (chunk as Buffer).toString('latin1')
    const headers: Record<string, string | string[]> = {}
    // undici keeps a value's trailing whitespace; node:http (and gw, RFC 9110 §5.5) trim it: compared trimmed.
    const trim = (x: string): string => x.replace(/[ \t]+$/, '')
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.map(trim) : trim(v)
    return { status: r.statusCode, headers, body }
  } catch (e) {
    return `${(e as { code?: string }).code ?? 'ERROR'}: ${(e as Error).message}`
  } finally {
    await client.destroy().catch(() => {})
  }
}

/** Compares undici's and gw's views of one response case. */
export async function compareUndici(port: number, responder: RawResponder, c: Case): Promise<UndiciVerdict> {
  const u = await undiciFetch(port, responder, c)
  const g = gwFinal(c)
  const v = (kind: string, why: string): UndiciVerdict => ({ kind, why, undici: u, gw: g })
  if (typeof u === 'string' && typeof g === 'string') return v('agree', 'both refuse')
  if (typeof u === 'string') {
    const text = c.bytes.toString('latin1')
    // RFC 9110 §15.2.1: a client must take 1xx it did not ask for; undici fails the request on a 100.
    if (u.includes('bad response') && /^[\r\n]*HTTP\/1\.[01] 1\d\d/.test(text)) return v('undici:unsolicited-1xx', u)
    // RFC 9110 §8.6, §15.4.5: a 304 may carry the Content-Length of the representation; undici checks it as a body length.
    if (u.includes('CONTENT_LENGTH_MISMATCH') && typeof g !== 'string' && g.status === 304) return v('undici:304-content-length', u)
    return v('disagree', `undici refuses (${u}), gw accepts`)
  }
  if (typeof g === 'string') {
    const k = compareCase(c).kind
    if (k.startsWith('stricter:')) return v(k, g)
    if (k === 'agree') return v('stricter:llhttp', `${g} (node's llhttp refuses these bytes too)`)
    return v('disagree', `gw refuses (${g}), undici accepts`)
  }
  if (u.status !== g.status) return v('disagree', `status ${u.status} vs ${g.status}`)
  if (u.body !== g.body) return v('disagree', 'body differs')
  if (JSON.stringify(u.headers) !== JSON.stringify(g.headers)) return v('disagree', 'headers differ')
  return v('agree', 'same')
}
