// Every header the gateway makes or changes, in one place. At the proxy boundary (RFC 9110 §7.6): hop-by-hop
// headers and those named in Connection are dropped both ways; X-Forwarded-* are extended only when the peer
// is a trusted proxy and replaced otherwise; identity headers are stripped from every client request (only
// the gateway may set them, from verified claims). A route's `headers` edits are applied last in each direction:
// its head plan (runtime/head-plan.ts, precomputed by gwc), then the edits stages recorded per request
// (`ctx.setRequestHeader` & co.); every answer carries X-Request-Id, Server-Timing and Via.
import { GATEWAY_REQUEST_HEADERS, HOP_BY_HOP } from '../config/http.js'
import type { RequestContext } from './context.js'
import { HEAD_CONTENT_LENGTH, HEAD_DATE } from './edge.js'
import { NO_PLAN, type NameSet } from './head-plan.js'
import { formatTraceparent } from './ids.js'

/** Lower-case tokens of a Connection header value ("close, X-Foo" → ["close", "x-foo"]). */
function connectionTokens(v: string | string[] | undefined): string[] | null {
  if (v === undefined) return null
  // the common values name no header: no split, no allocation
  if (v === 'keep-alive' || v === 'close' || v === 'Keep-Alive' || v === 'Close') return null
  const s = Array.isArray(v) ? v.join(',') : v
  const out: string[] = []
  for (const t of s.split(',')) { const x = t.trim().toLowerCase(); if (x !== '' && x !== 'close' && x !== 'keep-alive') out.push(x) }
  return out.length === 0 ? null : out
}

export interface OutboundOptions {
  /** Lower-case identity header names (the trust boundary). */
  identity: ReadonlySet<string>
  via: boolean
  /**
   * The client side takes pre-rendered head lines (EdgeResponse.writeHead's `lines`: the http1 engine), so an
   * upstream's answer is written as lines, never as pairs. Decided at load from the engine; absent = false.
   */
  rendered?: boolean
}

// What the client's lines say about the gateway's own lines, gathered while they are copied (one request at a
// time: the copy loops below never yield, so module scratch is safe and allocates nothing).
let xff: string | undefined, xfp: string | undefined, xfh: string | undefined, via: string | undefined

/**
 * Whether a client request line goes upstream as it is: not hop-by-hop, not an identity header (only the gateway
 * sets those), not named in Connection, not one the gateway sets itself (those are gathered into the scratch
 * above), not a consumed credential, not dropped by the route's plan. HOT PATH.
 */
function passes(ctx: RequestContext, o: OutboundOptions, strip: ReadonlySet<string> | null, conn: string[] | null, drop: NameSet | null, lower: string, value: string): boolean {
  if (HOP_BY_HOP.has(lower) || o.identity.has(lower)) return false
  if (conn !== null && conn.includes(lower)) return false
  if (GATEWAY_REQUEST_HEADERS.has(lower)) {
    if (ctx.peerTrusted) {
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`
      else if (lower === 'x-forwarded-proto') xfp ??= value
      else if (lower === 'x-forwarded-host') xfh ??= value
      else if (lower === 'forwarded') return drop === null || !drop.hasLower(lower)
    }
    if (lower === 'via') via = via === undefined ? value : `${via}, ${value}`
    return false
  }
  if (lower === 'tracestate' && !ctx.trace!.propagated) return false
  if (strip !== null && strip.has(lower)) return false // credentials a stage consumed (RouteIR.consumes)
  return drop === null || !drop.hasLower(lower)
}

/**
 * The header list sent upstream, as flat [name, value, …] strings (undici's form). Client order and case are
 * kept for everything passed through; the gateway's lines follow (X-Forwarded-*, request id, traceparent, Via,
 * identity headers), then the lines of the route's `headers request` plan, then edits recorded per request.
 * HOT PATH.
 */
export function upstreamRequestHeaders(ctx: RequestContext, o: OutboundOptions, strip: ReadonlySet<string> | null): string[] {
  const req = ctx.req
  const raw = req.rawHeaders
  const conn = connectionTokens(req.headers.connection)
  const plan = ctx.reqPlan
  const drop = plan === null ? null : plan.drop
  const out: string[] = []
  xff = xfp = xfh = via = undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (passes(ctx, o, strip, conn, drop, name.toLowerCase(), raw[i + 1])) out.push(name, raw[i + 1])
  }
  const p = plan ?? NO_PLAN
  if (!p.dropsXff) out.push('x-forwarded-for', forwardedFor(ctx))
  if (!p.dropsXfp) out.push('x-forwarded-proto', xfp ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'))
  if (!p.dropsXfh) out.push('x-forwarded-host', xfh ?? (req.headers.host ?? ''))
  out.push('x-request-id', ctx.id, 'traceparent', formatTraceparent(ctx.trace!.traceId, ctx.spanId, ctx.trace!.flags))
  const v = viaValue(ctx, o)
  if (v !== undefined && !p.dropsVia) out.push('via', v)
  const id = ctx.state.identity
  if (id !== null) for (let i = 0; i < id.length; i++) if (drop === null || !drop.has(id[i].header)) out.push(id[i].header, id[i].value)
  const add = p.pairs
  for (let i = 0; i < add.length; i++) out.push(add[i])
  const edits = ctx.reqEdits
  if (edits === null) return out
  return applyEdits(out, edits)
}

const forwardedFor = (ctx: RequestContext): string => {
  const peer = ctx.req.socket.remoteAddress ?? ''
  return xff === undefined ? peer : `${xff}, ${peer}`
}

/** This hop's Via (appended to earlier hops' chain), or the chain unchanged when via is off; undefined: none. */
const viaValue = (ctx: RequestContext, o: OutboundOptions): string | undefined =>
  o.via ? (via === undefined ? `1.${ctx.req.httpVersionMinor} gwp` : `${via}, 1.${ctx.req.httpVersionMinor} gwp`) : via

/**
 * The request head's field lines for the upstream as one latin1 string (UpstreamDispatch.headers' string form,
 * runtime/upstream/pool.ts): complete "name: value\r\n" lines. Host comes first, as `host: …` (what undici
 * writes from the pairs: the first Host among them, else `host`, the replica's host:port), then the other lines
 * of upstreamRequestHeaders in its order, Content-Length left out (the pool frames the body). The kept client
 * lines are copied, the gateway's dynamic ones filled, the route's block appended as it is. Wiring it in: see
 * docs/architecture.md "Headers". HOT PATH.
 */
export function renderUpstreamHeaders(ctx: RequestContext, o: OutboundOptions, strip: ReadonlySet<string> | null, host: string): string {
  if (ctx.reqEdits !== null) return pairsToLines(upstreamRequestHeaders(ctx, o, strip), host) // an edit recorded per request: the generic path
  const req = ctx.req
  const raw = req.rawHeaders
  const conn = connectionTokens(req.headers.connection)
  const p = ctx.reqPlan ?? NO_PLAN
  const drop = ctx.reqPlan === null ? null : p.drop
  let out = ''
  let first: string | null = null
  xff = xfp = xfh = via = undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    const lower = name.toLowerCase()
    if (!passes(ctx, o, strip, conn, drop, lower, raw[i + 1])) continue
    const n = lower.length
    if (n === 4) { if (first === null && lower === 'host') { first = raw[i + 1]; continue } }
    else if (n === 14 && lower === 'content-length') continue
    out += name + ': ' + raw[i + 1] + '\r\n'
  }
  if (!p.dropsXff) out += 'x-forwarded-for: ' + forwardedFor(ctx) + '\r\n'
  if (!p.dropsXfp) out += 'x-forwarded-proto: ' + (xfp ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http')) + '\r\n'
  if (!p.dropsXfh) out += 'x-forwarded-host: ' + (xfh ?? (req.headers.host ?? '')) + '\r\n'
  out += 'x-request-id: ' + ctx.id + '\r\ntraceparent: ' + formatTraceparent(ctx.trace!.traceId, ctx.spanId, ctx.trace!.flags) + '\r\n'
  const v = viaValue(ctx, o)
  if (v !== undefined && !p.dropsVia) out += 'via: ' + v + '\r\n'
  const id = ctx.state.identity
  if (id !== null) for (let i = 0; i < id.length; i++) if (drop === null || !drop.has(id[i].header)) out += id[i].header + ': ' + id[i].value + '\r\n'
  // a plan's Host replaces the client's (the plan drops it), so at most one of the two is there
  if (first !== null) return 'host: ' + first + '\r\n' + out + p.block
  return (p.blockHost !== '' ? p.blockHost : 'host: ' + host + '\r\n') + out + p.blockNoHost
}

/** Flat pairs as request field lines, as undici writes them: the first Host first, Content-Length left out (renderUpstreamHeaders' generic path). */
export function pairsToLines(h: readonly string[], host: string): string {
  let out = ''
  let first: string | null = null
  for (let i = 0; i < h.length; i += 2) {
    const n = h[i].length
    if (n === 4 && first === null && h[i].toLowerCase() === 'host') { first = h[i + 1]; continue }
    if (n === 14 && h[i].toLowerCase() === 'content-length') continue
    out += h[i] + ': ' + h[i + 1] + '\r\n'
  }
  return 'host: ' + (first ?? host) + '\r\n' + out
}

/**
 * The upstream's response headers as flat strings for the client, hop-by-hop and Connection-named ones
 * removed. undici hands them over as raw Buffers. HOT PATH.
 */
export function clientResponseHeaders(raw: readonly (Buffer | string)[]): string[] {
  const out: string[] = []
  let conn: string[] | null = null
  for (let i = 0; i < raw.length; i += 2) {
    const name = latin1(raw[i])
    // Only names as long as a hop-by-hop one need lower-casing and a set lookup (most headers are not).
    if (HOP_LENGTHS[name.length] === 1) {
      const lower = name.toLowerCase()
      if (lower === 'connection') conn = connectionTokens(latin1(raw[i + 1]))
      if (HOP_BY_HOP.has(lower)) continue
    }
    out.push(name, latin1(raw[i + 1]))
  }
  if (conn === null) return out
  // headers the upstream named in Connection are dropped too
  const kept: string[] = []
  for (let i = 0; i < out.length; i += 2) if (!conn.includes(out[i].toLowerCase())) kept.push(out[i], out[i + 1])
  return kept
}

/** Buffer → latin1 string without Buffer#toString's argument handling (measured ~30% faster per header); a string (the http1 pool's) as it is. */
const latin1 = (b: Buffer | string): string => typeof b === 'string' ? b : (b as unknown as { latin1Slice(s: number, e: number): string }).latin1Slice(0, b.length)

const HOP_LENGTHS = new Uint8Array(64)
for (const h of HOP_BY_HOP) HOP_LENGTHS[h.length] = 1

/**
 * Applies flat [name, value|null] edits (null = remove) to flat headers (either direction); names lower-case.
 * An edit whose name slot is null is an add, the triple [null, name, value]: the line is appended and the
 * lines of that name already there are kept (ctx.addResponseHeader).
 *
 * The result is that of applying the edits one after another (a set removes every line of its name, in any
 * case, and appends one; a remove removes them; an add appends), computed in one pass: a line already in
 * `headers` stays unless some set or remove names it, and a line an edit appends stays unless a later set or
 * remove names it; kept lines keep their order and case, appended ones follow in edit order. `headers` is
 * edited in place and returned (every caller passes a list it has just built). HOT PATH: no allocation, no
 * lower-cased copies (names are compared case-insensitively in place, lengths first).
 */
export function applyEdits(headers: string[], edits: readonly (string | null)[]): string[] {
  let w = 0
  for (let i = 0; i < headers.length; i += 2) {
    if (clearedFrom(edits, 0, headers[i])) continue
    if (w !== i) { headers[w] = headers[i]; headers[w + 1] = headers[i + 1] }
    w += 2
  }
  headers.length = w
  for (let e = 0; e < edits.length; e += 2) {
    const add = edits[e] === null
    const name = (add ? edits[e + 1] : edits[e]) as string
    const value = add ? edits[e + 2] : edits[e + 1]
    if (add) e++
    if (value !== null && !clearedFrom(edits, e + 2, name)) headers.push(name, value)
  }
  return headers
}

/** Whether a set or remove among edits[from…] names `name` (any case; edit names are lower-case). */
function clearedFrom(edits: readonly (string | null)[], from: number, name: string): boolean {
  for (let e = from; e < edits.length; e += 2) {
    const n = edits[e]
    if (n === null) { e++; continue }
    if (n.length === name.length && equalsLower(name, n)) return true
  }
  return false
}

/** name, ASCII-lower-cased, equals `lower` (same length checked by the caller). */
function equalsLower(name: string, lower: string): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i)
    if (c >= 65 && c <= 90) c += 32
    if (c !== lower.charCodeAt(i)) return false
  }
  return true
}

/** The Server-Timing value: the gateway's time so far, and the upstream's when there was one. */
function serverTiming(ctx: RequestContext, now: number): string { // HOT PATH
  // Math.round then concatenation: cheaper than toFixed on the hot path, same three decimals
  const gw = Math.round((now - ctx.start) * 1000) / 1000
  return ctx.upstreamMs >= 0 ? `gw;dur=${gw}, upstream;dur=${Math.round(ctx.upstreamMs * 1000) / 1000}` : `gw;dur=${gw}`
}

/**
 * Gateway headers on every response, as pairs: the lines of `headers` (an upstream's, filtered, or a gateway
 * answer's own) less those the route's response plan drops, request id, timing, Via, the plan's lines, then the
 * edits recorded per request. Edits `headers` in place and returns it. HOT PATH.
 */
export function gatewayResponseHeaders(ctx: RequestContext, headers: string[], via: boolean, now: number): string[] { // HOT PATH
  const plan = ctx.resPlan
  if (plan !== null) dropNamed(headers, plan.drop)
  headers.push('x-request-id', ctx.id, 'server-timing', serverTiming(ctx, now))
  const p = plan ?? NO_PLAN
  const add = via ? p.pairsVia : p.pairs
  for (let i = 0; i < add.length; i++) headers.push(add[i])
  return ctx.resEdits === null ? headers : applyEdits(headers, ctx.resEdits)
}

/**
 * The response edits alone (the route's plan, then the recorded edits) over `headers`, in place: what `gwc test`
 * reports as the answer's headers, which has no request id, timing or Via of its own.
 */
export function editResponseHeaders(ctx: RequestContext, headers: string[]): string[] {
  const plan = ctx.resPlan
  if (plan !== null) {
    dropNamed(headers, plan.drop)
    for (let i = 0; i < plan.pairs.length; i++) headers.push(plan.pairs[i])
  }
  return ctx.resEdits === null ? headers : applyEdits(headers, ctx.resEdits)
}

/** Removes, in place, the pairs whose name (any case) is in `drop`. */
function dropNamed(headers: string[], drop: NameSet): void {
  let w = 0
  for (let i = 0; i < headers.length; i += 2) {
    if (drop.has(headers[i])) continue
    if (w !== i) { headers[w] = headers[i]; headers[w + 1] = headers[i + 1] }
    w += 2
  }
  headers.length = w
}

const NO_PAIRS: string[] = []

/**
 * Writes the head of an upstream's answer to the client. On an engine that takes pre-rendered lines
 * (OutboundOptions.rendered: http1), with no edit recorded per request: one string of the upstream's kept lines
 * (hop-by-hop and the route's dropped names left out in one check), request id, timing, and the route's block
 * (Via included), no pair array. Otherwise (node:http, a `cors` route, an upstream Connection naming headers):
 * the pairs of gatewayResponseHeaders. Both give the same fields in the same order. `raw`: undici's Buffers or
 * the http1 pool's latin1 strings. HOT PATH.
 */
export function writeUpstreamHead(ctx: RequestContext, status: number, raw: readonly (Buffer | string)[], o: OutboundOptions, now: number): void {
  if (o.rendered === true && ctx.resEdits === null) {
    const p = ctx.resPlan ?? NO_PLAN
    const drop = p.responseDrop
    let lines = ''
    let facts = p.blockDate ? HEAD_DATE : 0
    let generic = false
    for (let i = 0; i < raw.length; i += 2) {
      const r = raw[i]
      const name = latin1(r)
      const value = latin1(raw[i + 1])
      if (drop.has(name)) {
        // a Connection naming other headers (rare): those go too, wherever they stand; the pairs path does that
        if (name.length === 10 && name.toLowerCase() === 'connection' && connectionTokens(value) !== null) { generic = true; break }
        continue
      }
      const n = name.length
      if (n === 14) { if (name.toLowerCase() === 'content-length') facts |= HEAD_CONTENT_LENGTH }
      else if (n === 4 && name.toLowerCase() === 'date') facts |= HEAD_DATE
      lines += name + ': ' + value + '\r\n'
    }
    if (!generic) {
      lines += 'x-request-id: ' + ctx.id + '\r\nserver-timing: ' + serverTiming(ctx, now) + '\r\n' + (o.via ? p.blockVia : p.block)
      ctx.res.writeHead(status, NO_PAIRS, lines, facts)
      return
    }
  }
  ctx.res.writeHead(status, gatewayResponseHeaders(ctx, clientResponseHeaders(raw), o.via, now))
}
