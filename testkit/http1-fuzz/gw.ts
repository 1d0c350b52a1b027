// gw's own HTTP/1.1 codec (runtime/http1/) driven the way an engine drives it: bytes arrive in pieces, a head is
// re-parsed from its start until complete, bodies are counted (Content-Length) or decoded (chunked), pipelined
// messages follow. The outcome has the shape of llhttp.ts's, so the two compare with deepEqual.
import { ChunkedDecoder, BodyFailure } from '../../runtime/http1/body.js'
import { HeadFailure, parseRequestHead, type HeadLimits } from '../../runtime/http1/request-parser.js'
import { parseResponseHead } from '../../runtime/http1/response-parser.js'
import type { Message, Outcome } from './llhttp.js'

/** Only CR and LF: what llhttp skips between messages and at the end of the input. */
function onlyLineBreaks(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 13 && b[i] !== 10) return false
  return true
}

/**
 * Parses `pieces` as a stream of requests (type 'request') or of responses to `requestMethod` ('response').
 * Stops after a message that ends the connection (no keep-alive, an upgrade, a read-until-close body).
 * `eof`: the input ends the connection (a message cut short is then an error: 'incomplete').
 */
export function gwParse(type: 'request' | 'response', pieces: Buffer[], limits: HeadLimits, opts: { requestMethod?: string; eof?: boolean } = {}): Outcome {
  const messages: Message[] = []
  let acc: Buffer = Buffer.alloc(0)
  let cur: Message | null = null
  let mode = 'head' as 'head' | 'length' | 'chunked' | 'close' | 'stop'
  let remaining = 0
  let decoder: ChunkedDecoder | null = null
  let ends = false // the current message ends the connection
  const sink = (b: Buffer): void => { if (cur !== null) cur.body += b.toString('latin1') }
  const finish = (): void => {
    if (cur !== null) cur.complete = true
    mode = ends ? 'stop' : 'head'
  }
  for (const piece of pieces) {
    acc = acc.length === 0 ? piece : Buffer.concat([acc, piece])
    while (acc.length > 0 && mode !== 'stop') {
      if (mode === 'head') {
        const r = type === 'request'
          ? parseRequestHead(acc, 0, acc.length, limits)
          : parseResponseHead(acc, 0, acc.length, limits, opts.requestMethod ?? 'GET')
        if (r === null) break
        if (r instanceof HeadFailure) return { messages, error: `${r.reason}: ${r.detail}` }
        cur = {
          method: 'method' in r ? r.method : '', target: 'target' in r ? r.target : '', status: 'status' in r ? r.status : 0,
          versionMajor: 1, versionMinor: r.versionMinor, rawHeaders: r.rawHeaders, upgrade: r.upgrade, keepAlive: r.keepAlive,
          body: '', complete: false, reason: 'reason' in r ? r.reason : '', headers: r.headers,
        }
        messages.push(cur)
        acc = acc.subarray(r.size)
        ends = r.upgrade || !r.keepAlive
        if (r.body === 'length') { mode = 'length'; remaining = r.contentLength; if (remaining === 0) finish() }
        else if (r.body === 'chunked') { mode = 'chunked'; decoder = new ChunkedDecoder() }
        else if (r.body === 'close') { mode = 'close' }
        else finish()
      } else if (mode === 'length') {
        const n = Math.min(remaining, acc.length)
        sink(acc.subarray(0, n))
        acc = acc.subarray(n)
        remaining -= n
        if (remaining === 0) finish()
      } else if (mode === 'close') {
        sink(acc)
        acc = acc.subarray(acc.length)
      } else if (mode === 'chunked' && decoder !== null) {
        const n = decoder.decode(acc, 0, acc.length, sink)
        if (n instanceof BodyFailure) return { messages, error: `${n.reason}: ${n.detail}` }
        acc = acc.subarray(n)
        if (decoder.done) finish()
      }
    }
    if (mode === 'stop') break
  }
  if (opts.eof === true) {
    if (mode === 'close') { if (cur !== null) cur.complete = true }
    else if (mode === 'length' || mode === 'chunked' || (mode === 'head' && !onlyLineBreaks(acc))) return { messages, error: 'incomplete' }
  }
  return { messages, error: null }
}
