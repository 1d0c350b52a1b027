// Compares gw's codec with llhttp on one case and says what the difference is: agreement, one of the deliberate
// stricter refusals listed in docs/operations.md ("HTTP/1.1 parser: deliberate stricter refusals"), or a
// disagreement (a bug to fix, or a refusal to argue and list).
import { isDeepStrictEqual } from 'node:util'
import { pieces, type Case } from './gen.js'
import { gwParse } from './gw.js'
import { llhttpParse, type Message, type Outcome } from './llhttp.js'

export interface Verdict {
  /** 'agree', 'stricter:<class>', or 'disagree'. */
  kind: string
  gw: Outcome
  llhttp: Outcome
  /** For a disagreement: what differs. */
  why?: string
}

/**
 * The refusals gw makes on purpose where llhttp accepts. Each is a docs/operations.md entry and a pinned test
 * (test/runtime/http1/differential-requests.test.ts, differential-responses.test.ts). `m` is the message
 * llhttp accepted at the position gw refused; `err` gw's refusal.
 */
export const STRICTER: Array<{ name: string; test: (m: Message, err: string, c: Case) => boolean }> = [
  // HTTP/0.9 (a request line without a version: "GET /a#fragHTTP/1.1" is one) and HTTP/2.0 in an HTTP/1 parser.
  { name: 'version', test: m => !(m.versionMajor === 1 && m.versionMinor <= 1) },
  { name: 'content-length-range', test: (m, err) => err.includes('Content-Length') && fieldValues(m, 'content-length').some(v => /^\d+$/.test(v) && Number(v) > Number.MAX_SAFE_INTEGER) },
  // llhttp ignores an empty Transfer-Encoding (no body, and no conflict with Content-Length); gw refuses it.
  { name: 'empty-transfer-encoding', test: (m, err) => /Transfer-Encoding|unsupported_transfer_coding/.test(err) && fieldValues(m, 'transfer-encoding').includes('') },
  { name: 'chunk-size-range', test: (_m, err) => err.includes('chunk size too large') },
  { name: 'status-range', test: (m, err) => err.includes('status line') && m.status < 100 },
  { name: 'reason-phrase-ctl', test: (m, err) => err.includes('status line') && /[\x00-\x08\x0a-\x1f\x7f]/.test(m.reason) },
  { name: 'http10-transfer-encoding', test: (_m, err) => err.startsWith('http10_transfer_encoding') },
  // llhttp skips its Transfer-Encoding checks for CONNECT and Upgrade requests; gw does not.
  { name: 'upgrade-framing', test: (m, err) => m.upgrade && /Transfer-Encoding/.test(err) },
  { name: 'switching-without-upgrade', test: (m, err) => err.includes('101 without Upgrade') && m.status === 101 },
  // llhttp takes "\r\r" as the end of a status line; gw wants CRLF there as everywhere.
  { name: 'status-line-bare-cr', test: (_m, err, c) => err.includes('status line') && /^[^\n]*\r\r/.test(c.bytes.toString('latin1').replace(/^[\r\n]+/, '')) },
  // llhttp also parses RTSP/1.x and ICE/1.x messages (and RTSP's methods with them); gw speaks HTTP only.
  { name: 'not-http', test: (_m, _err, c) => /^[\r\n]*[^\r\n]*\b(RTSP|ICE)\/\d/.test(c.bytes.toString('latin1')) },
  { name: 'no-content-length', test: (m, err) => err.includes('204 with a non-zero Content-Length') && m.status === 204 },
  { name: 'head-size', test: (_m, err) => err.startsWith('headers_too_large') || err.startsWith('trailers_too_large') },
]

function fieldValues(m: Message, lower: string): string[] {
  const out: string[] = []
  for (let i = 0; i < m.rawHeaders.length; i += 2) if (m.rawHeaders[i].toLowerCase() === lower) out.push(m.rawHeaders[i + 1])
  return out
}

const LIMITS_COUNT = 100000 // no count limit in the comparison: llhttp has none (gw's 256 is tested apart)

/** The fields both sides report, in one shape (headers: gw's own object vs node's folding of llhttp's raw list). */
function view(m: Message, withBody: boolean): unknown {
  return [m.method, m.target, m.status, m.versionMajor, m.versionMinor, m.rawHeaders, m.upgrade, m.keepAlive, withBody ? m.body : '', m.complete, m.headers]
}

export function compareCase(c: Case): Verdict {
  const input = pieces(c.bytes, c.splits)
  const opts = { requestMethod: c.requestMethod, eof: true }
  const gw = gwParse(c.type, input, { maxHeadBytes: c.maxHeaderSize, maxHeaders: LIMITS_COUNT }, opts)
  const ll = llhttpParse(c.type, input, c.maxHeaderSize, opts)
  // llhttp refuses bytes after a message that closes the connection; gw stops reading there (the engine closes).
  // llhttp stops at any 101 (node's client then hands the socket over): for the comparison that is an upgrade.
  for (const m of ll.messages) if (m.status === 101) m.upgrade = true
  // After a complete message without keep-alive gw stops reading (the connection closes); llhttp refuses more
  // requests there (HPE_CLOSED_CONNECTION) or parses on (responses). Neither is compared.
  const closing = ll.messages.findIndex(m => m.complete && !m.keepAlive)
  const llOut: Outcome = closing < 0 ? ll : { messages: ll.messages.slice(0, closing + 1), error: null }
  const llErr = llOut.error
  const v = (kind: string, why?: string): Verdict => ({ kind, gw, llhttp: ll, why })
  // After an upgrade head the bytes belong to the tunnel (how much of a body llhttp reads first is its own
  // affair: node's 'upgrade' gets what it left): heads are compared up to it, nothing after it.
  const cutAtUpgrade = (o: Outcome, err: string | null): [Message[], string | null] => {
    const u = o.messages.findIndex(m => m.upgrade)
    if (u < 0) return [o.messages, err]
    return [o.messages.slice(0, u + 1).map((m, i) => i === u ? { ...m, body: '', complete: true } : m), null]
  }
  const [gwMessages, gwError] = cutAtUpgrade(gw, gw.error)
  const [llMessages, llError] = cutAtUpgrade(llOut, llErr)
  const a0: Outcome = { messages: gwMessages, error: gwError }
  const b0: Outcome = { messages: llMessages, error: llError }

  const gwRefused = a0.error !== null
  const llRefused = b0.error !== null
  const complete = (o: Outcome): Message[] => o.messages.filter(m => m.complete)
  if (!gwRefused && !llRefused) {
    if (a0.messages.length !== b0.messages.length) return v('disagree', `message count gw ${a0.messages.length} llhttp ${b0.messages.length}`)
    for (let i = 0; i < a0.messages.length; i++) {
      if (!isDeepStrictEqual(view(a0.messages[i], true), view(b0.messages[i], true))) return v('disagree', `message ${i} differs`)
    }
    return v('agree')
  }
  if (gwRefused && llRefused) {
    // Both refuse: what both completed before must be the same.
    const a = complete(a0)
    const b = complete(b0)
    const n = Math.min(a.length, b.length)
    for (let i = 0; i < n; i++) if (!isDeepStrictEqual(view(a[i], true), view(b[i], true))) return v('disagree', `message ${i} differs before both refused`)
    return v('agree')
  }
  if (!gwRefused) return v('disagree', `llhttp refuses (${b0.error}), gw accepts`)
  // gw refuses, llhttp accepts: which message did gw refuse, and is it a listed class?
  const k = complete(a0).length
  const m = b0.messages[k]
  const err = a0.error as string
  if (m !== undefined) for (const s of STRICTER) if (s.test(m, err, c)) return v(`stricter:${s.name}`)
  if (err.startsWith('headers_too_large')) return v('stricter:head-size')
  return v('disagree', `gw refuses (${err}), llhttp accepts`)
}

/** A case as a one-line JSON string (bytes as latin1 text), for reports and pinned tests. */
export const show = (c: Case): string => JSON.stringify({ type: c.type, text: c.bytes.toString('latin1'), splits: c.splits, requestMethod: c.requestMethod, maxHeaderSize: c.maxHeaderSize })

/** The names of the deliberate stricter refusals (each has a docs/operations.md entry). */
export const STRICTER_CLASSES: readonly string[] = [...STRICTER.map(s => s.name)]
