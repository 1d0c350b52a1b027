// Reads and validates a request's head before routing: the target (origin or absolute form), Host, framing
// that Node's parser lets through but RFC 9112 rejects, path normalisation, request id, trace context and
// the client address. A request refused here gets 400 and is never forwarded.
import type { BlockList } from 'node:net'
import { HOST_HEADER } from '../config/http.js'
import { normalizePath } from '../config/path.js'
import type { RequestContext } from './context.js'
import { newRequestId, newSpanId, parseTraceparent, saneRequestId } from './ids.js'

/** Header fields a request may carry (Envoy's default is 100; the byte limit still applies). */
export const MAX_HEADERS = 256

export interface HeadOptions {
  trusted: BlockList | null
}


function hostOnly(h: string): string {
  let host = h.charCodeAt(0) === 91 /* [ */ ? h.slice(0, h.indexOf(']') + 1) : (h.indexOf(':') >= 0 ? h.slice(0, h.indexOf(':')) : h)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host.toLowerCase()
}

/**
 * Whether an address is in the trusted-proxy list. BlockList#check builds a SocketAddress per call (~2 µs
 * measured); the peers a gateway sees are few (its load balancers), so answers are cached per address.
 */
const verdicts = new WeakMap<BlockList, Map<string, boolean>>()
function isTrusted(list: BlockList, addr: string): boolean { // HOT PATH (with trusted proxies configured)
  let cache = verdicts.get(list)
  if (cache === undefined) { cache = new Map(); verdicts.set(list, cache) }
  let v = cache.get(addr)
  if (v === undefined) {
    try { v = list.check(addr, addr.includes(':') ? 'ipv6' : 'ipv4') } catch { v = false }
    if (cache.size >= 4096) cache.clear() // bounded: X-Forwarded-For entries are client-chosen text
    cache.set(addr, v)
  }
  return v
}

/** The rightmost address in X-Forwarded-For that is not a trusted proxy (the client as far as we can tell). */
function clientFromXff(xff: string, trusted: BlockList): string | undefined {
  const parts = xff.split(',')
  for (let i = parts.length - 1; i >= 0; i--) {
    const a = parts[i].trim()
    if (a === '') continue
    if (!isTrusted(trusted, a)) return a
  }
  return undefined
}

/**
 * Fills ctx from the request head. Returns false when the request must be refused (the reason is left in
 * ctx.reason for the log and the rejected-requests metric; reply.ts headRefusal gives the answer, 400 unless
 * the reason says otherwise). HOT PATH.
 */
export function readHead(ctx: RequestContext, o: HeadOptions): boolean {
  const req = ctx.req
  const raw = req.rawHeaders
  // only HTTP/1.0 and 1.1 are spoken: node:http's llhttp also takes 0.9 and 2.0 (the http1 engine's parser refuses them)
  if (req.httpVersionMajor !== 1) { ctx.reason = 'bad_version'; return false }
  if (raw.length > MAX_HEADERS * 2) { ctx.reason = 'too_many_headers'; return false }
  let hosts = 0
  let te = false
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]
    if (n.length === 4) { if (n.toLowerCase() === 'host') hosts++ } else if (n.length === 17 && n.toLowerCase() === 'transfer-encoding') te = true
  }
  // RFC 9112 §3.2: exactly one Host. §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (hosts > 1) { ctx.reason = 'duplicate_host'; return false }
  if (te && req.httpVersionMinor === 0) { ctx.reason = 'http10_transfer_encoding'; return false }
  const headers = req.headers
  // Node removes only the chunked framing: any other coding (gzip, chunked) would reach the upstream still
  // coded but unnamed once Transfer-Encoding is dropped as hop-by-hop. RFC 9112 §6.1: answer 501.
  if (te && String(headers['transfer-encoding']).trim().toLowerCase() !== 'chunked') { ctx.reason = 'unsupported_transfer_coding'; return false }
  const hostHeader = headers.host
  if (hostHeader === undefined ? req.httpVersionMinor !== 0 : !HOST_HEADER.test(hostHeader)) { ctx.reason = 'bad_host'; return false }

  let target = req.url ?? ''
  if (target.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (RFC 9112 §3.2.2): the authority must name the same host as Host, or hops disagree.
    const m = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target)
    if (m === null) { ctx.reason = 'bad_target'; return false }
    if (hostHeader !== undefined && hostOnly(m[1]) !== hostOnly(hostHeader)) { ctx.reason = 'absolute_form_host_mismatch'; return false }
    target = m[2] === '' ? '/' : m[2]
    if (target.charCodeAt(0) !== 47) { ctx.reason = 'bad_target'; return false }
  }
  const q = target.indexOf('?')
  const rawPath = q < 0 ? target : target.slice(0, q)
  if (rawPath.indexOf('#') >= 0) { ctx.reason = 'bad_target'; return false }
  const path = normalizePath(rawPath)
  if (path === null) { ctx.reason = 'bad_path'; return false }
  ctx.path = path
  ctx.query = q < 0 ? '' : target.slice(q)
  // What goes upstream: the target itself when normalising changed nothing (the common case: no concatenation).
  ctx.upstreamPath = path === rawPath ? target : path + ctx.query
  ctx.host = hostHeader === undefined ? '' : hostOnly(hostHeader)

  const cl = headers['content-length']
  ctx.hasBody = te || (cl !== undefined && cl !== '0')
  // RFC 9110 §10.1.1: an HTTP/1.0 client's Expect is ignored; from HTTP/1.1 exactly `100-continue` is met,
  // anything else (another expectation, a list, two Expect lines) is refused with 417 here, on both engines alike.
  const expect = headers.expect
  if (expect !== undefined && req.httpVersionMinor === 1) {
    if (expect.toLowerCase() !== '100-continue') { ctx.reason = 'expectation_failed'; return false }
    ctx.expectContinue = true
  }

  const rid = headers['x-request-id']
  ctx.id = typeof rid === 'string' && saneRequestId(rid) ? rid : newRequestId()
  const tp = headers.traceparent
  ctx.trace = parseTraceparent(typeof tp === 'string' ? tp : undefined)
  ctx.spanId = newSpanId()

  const peer = req.socket.remoteAddress ?? ''
  ctx.clientIp = peer
  if (o.trusted !== null && peer !== '') {
    const trusted = isTrusted(o.trusted, peer)
    ctx.peerTrusted = trusted
    const xff = headers['x-forwarded-for']
    if (trusted && typeof xff === 'string') ctx.clientIp = clientFromXff(xff, o.trusted) ?? peer
  }
  return true
}

/** How many trusted-proxy verdicts are cached for `list` (for tests: the cache stays bounded). */
export const cachedVerdicts = (list: BlockList): number => verdicts.get(list)?.size ?? 0
