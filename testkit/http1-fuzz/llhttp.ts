// Node's own HTTP/1.1 parser (llhttp through node's internal HTTPParser binding), driven in-process the way
// node:http's server and client drive it (strict: no lenient flags), and its outcome in a comparable shape.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const common = require('_http_common') as { HTTPParser: HTTPParserCtor; methods: string[] }

interface HTTPParserInstance {
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void
  execute(buf: Buffer): number | (Error & { code?: string; bytesParsed?: number; reason?: string })
  finish(): undefined | (Error & { code?: string })
  close(): void
  [k: number]: unknown
}
interface HTTPParserCtor {
  new (): HTTPParserInstance
  REQUEST: number; RESPONSE: number
  kOnMessageBegin: number; kOnHeaders: number; kOnHeadersComplete: number; kOnBody: number; kOnMessageComplete: number; kOnExecute: number
}
const { HTTPParser } = common
const { IncomingMessage } = require('node:http') as typeof import('node:http')

/** node:http's own folding of a raw header list (IncomingMessage.headers, joinDuplicateHeaders off). */
export function nodeHeaders(raw: string[]): Record<string, string | string[] | undefined> {
  const m = new IncomingMessage(null as never) as unknown as { _addHeaderLines(h: string[], n: number): void; headers: Record<string, string | string[] | undefined> }
  m._addHeaderLines(raw, raw.length)
  return m.headers
}

/** One message as a parser saw it. Body bytes are latin1 text, so two outcomes compare with deepEqual. */
export interface Message {
  method: string; target: string; status: number; versionMajor: number; versionMinor: number
  rawHeaders: string[]; upgrade: boolean; keepAlive: boolean; body: string; complete: boolean
  /** Response reason phrase ('' for requests). */
  reason: string
  /** IncomingMessage.headers of this head (node's folding of rawHeaders; for gw, its parser's own object). */
  headers: Record<string, string | string[] | undefined>
}
export interface Outcome {
  messages: Message[]
  /** null when everything was accepted; else the refusal (llhttp's code, or gw's reason). */
  error: string | null
}

/**
 * Feeds `input` (in the given pieces) to a fresh llhttp parser. For a response, `requestMethod` tells what
 * the message answers (HEAD: no body), as node's client tells llhttp. `eof`: the connection ends after the
 * input (llhttp's finish: what completes a read-until-close body and what refuses a truncated message).
 */
export function llhttpParse(type: 'request' | 'response', pieces: Buffer[], maxHeaderSize: number, opts: { requestMethod?: string; eof?: boolean } = {}): Outcome {
  const p = new HTTPParser()
  p.initialize(type === 'request' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {}, maxHeaderSize, 0)
  const messages: Message[] = []
  let pending: string[] = []
  let pendingUrl = ''
  let cur: Message | null = null
  p[HTTPParser.kOnHeaders] = (h: string[], url: string): void => { pending = pending.concat(h); pendingUrl += url }
  p[HTTPParser.kOnHeadersComplete] = (maj: number, min: number, headers: string[] | undefined, method: number, url: string | undefined,
    status: number, msg: string | undefined, upgrade: boolean, ka: boolean): number => {
    const raw = headers === undefined ? pending : pending.concat(headers)
    cur = {
      method: type === 'request' ? (methodNames.get(method) ?? `#${method}`) : '', target: type === 'request' ? pendingUrl + (url ?? '') : '',
      status: type === 'response' ? status : 0, versionMajor: maj, versionMinor: min,
      rawHeaders: raw, upgrade, keepAlive: ka, body: '', complete: false, reason: msg ?? '', headers: nodeHeaders(raw),
    }
    pending = []
    pendingUrl = ''
    messages.push(cur)
    // What node's client answers for a HEAD request (skip body) and for 1xx/204/304 llhttp knows itself.
    if (type === 'response' && opts.requestMethod === 'HEAD') return 1
    return 0
  }
  p[HTTPParser.kOnBody] = (b: Buffer): void => { if (cur !== null) cur.body += b.toString('latin1') }
  // Fields that arrive after the head (a chunked body's trailers) come through kOnHeaders too: dropped.
  p[HTTPParser.kOnMessageBegin] = (): void => { pending = []; pendingUrl = '' }
  p[HTTPParser.kOnMessageComplete] = (): void => { if (cur !== null) cur.complete = true; pending = []; pendingUrl = '' }
  let error: string | null = null
  try {
    for (const piece of pieces) {
      const r = p.execute(piece)
      if (typeof r !== 'number') { error = r.code ?? 'ERROR'; break }
      if (messages.length > 0 && messages[messages.length - 1].upgrade && messages[messages.length - 1].complete) break
    }
    if (error === null && opts.eof === true) {
      const r = p.finish()
      if (r !== undefined) error = r.code ?? 'ERROR'
    }
  } finally { p.close() }
  return { messages, error }
}

/**
 * llhttp's method numbers (node's server maps them through a binding table that _http_common does not
 * export): learnt once by parsing one request line per method node:http knows.
 */
const methodNames = new Map<number, string>()
for (const name of (require('node:http') as typeof import('node:http')).METHODS) {
  const p = new HTTPParser()
  p.initialize(HTTPParser.REQUEST, {}, 0, 0)
  p[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, method: number): number => { methodNames.set(method, name); return 0 }
  p.execute(Buffer.from(`${name} ${name === 'CONNECT' ? 'a:1' : '/'} HTTP/1.1\r\n\r\n`, 'latin1'))
  p.close()
}
