// bench/runtime/kit/fake-http.ts: request and response stand-ins with exactly the fields the runtime's
// request path reads (readHead, the router, stages, header filtering, writeReply), and typical header sets.
// No sockets: the micro-benchmarks time the gateway's own code, not Node's HTTP parser.
import type { IncomingMessage, ServerResponse } from 'node:http'

export type RawHeaders = readonly (readonly [string, string])[]

export interface FakeRequestInit {
  method?: string
  /** The request target as sent (origin form, or absolute form). */
  url: string
  /** Header fields in wire order and case. */
  headers: RawHeaders
  remoteAddress?: string
  /** HTTP/1.x minor version (default 1). */
  minor?: number
  encrypted?: boolean
}

/**
 * Node's `headers` object as IncomingMessage builds it from rawHeaders: lower-case names, repeats joined
 * with ", " (cookie with "; ", set-cookie as an array). Node builds it lazily on first access; a fake has
 * it ready, so that cost (Node's, not the gateway's) is outside every measurement here.
 */
function headerObject(raw: RawHeaders): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {}
  for (const [name, value] of raw) {
    const k = name.toLowerCase()
    const prev = h[k]
    if (k === 'set-cookie') h[k] = prev === undefined ? [value] : [...(prev as string[]), value]
    else if (prev === undefined) h[k] = value
    else h[k] = `${prev}${k === 'cookie' ? '; ' : ', '}${value}`
  }
  return h
}

export function fakeRequest(i: FakeRequestInit): IncomingMessage {
  return {
    method: i.method ?? 'GET',
    url: i.url,
    headers: headerObject(i.headers),
    rawHeaders: i.headers.flatMap(([n, v]) => [n, v]),
    httpVersionMajor: 1,
    httpVersionMinor: i.minor ?? 1,
    complete: true,
    socket: { remoteAddress: i.remoteAddress ?? '198.51.100.23', encrypted: i.encrypted ?? false },
  } as unknown as IncomingMessage
}

/** A response that accepts writeHead/end and counts them (writeReply's only calls). */
export interface FakeResponse { res: ServerResponse; written: { heads: number; ends: number; lastHeaders: unknown } }

export function fakeResponse(): FakeResponse {
  const written = { heads: 0, ends: 0, lastHeaders: null as unknown }
  const res = {
    headersSent: false,
    statusCode: 200,
    writeHead(_status: number, headers: unknown) { written.heads++; written.lastHeaders = headers; return this },
    end() { written.ends++; return this },
  } as unknown as ServerResponse
  return { res, written }
}

/** What a current Chrome sends for a same-site XHR/fetch: 15 fields, ~900 bytes, a session cookie. */
export function browserHeaders(host: string, extra: RawHeaders = []): RawHeaders {
  return [
    ['Host', host],
    ['Connection', 'keep-alive'],
    ['sec-ch-ua', '"Chromium";v="128", "Not;A=Brand";v="24", "Google Chrome";v="128"'],
    ['sec-ch-ua-mobile', '?0'],
    ['sec-ch-ua-platform', '"macOS"'],
    ['User-Agent', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36'],
    ['Accept', 'application/json, text/plain, */*'],
    ['Sec-Fetch-Site', 'same-origin'],
    ['Sec-Fetch-Mode', 'cors'],
    ['Sec-Fetch-Dest', 'empty'],
    ['Referer', `https://${host}/app/orders?page=2`],
    ['Accept-Encoding', 'gzip, deflate, br, zstd'],
    ['Accept-Language', 'en-GB,en-US;q=0.9,en;q=0.8'],
    ['Cookie', '_ga=GA1.1.1234567890.1700000000; session=8f2a4c1e9b7d6a5f3e2c1b0a9f8e7d6c; theme=dark'],
    ...extra,
  ]
}

/** A typical upstream JSON answer's header fields, as undici hands them over (raw Buffers, name/value pairs). */
export function upstreamResponseRaw(extra: RawHeaders = []): Buffer[] {
  const fields: RawHeaders = [
    ['Content-Type', 'application/json; charset=utf-8'],
    ['Content-Length', '1423'],
    ['Date', 'Sun, 29 Nov 2026 01:50:00 GMT'],
    ['Connection', 'keep-alive'],
    ['Keep-Alive', 'timeout=5'],
    ['Cache-Control', 'private, max-age=0, must-revalidate'],
    ['ETag', 'W/"58f-1a2b3c4d5e6f"'],
    ['Vary', 'Accept-Encoding, Authorization'],
    ['X-Upstream-Instance', 'orders-2'],
    ...extra,
  ]
  return fields.flatMap(([n, v]) => [Buffer.from(n, 'latin1'), Buffer.from(v, 'latin1')])
}
