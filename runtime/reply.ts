// Replies the gateway writes itself (errors, `respond`, fallbacks), with the headers every answer carries
// (runtime/headers.ts: gatewayResponseHeaders).
import type { Reply as StageReply } from '../config/stage.js'
import type { RequestContext } from './context.js'
import { ERROR_REPLIES, errorBody, type RefusalCode } from './errors.js'
import { gatewayResponseHeaders } from './headers.js'

// The class is the kernel's Reply (config/stage.ts): merging adds the type-only brand, no field at run time.
export interface Reply extends StageReply {}

/** A complete answer written by the gateway. `error` replies get a JSON body naming the error and request id. */
export class Reply {
  constructor(
    readonly status: number,
    /** Static body (for `respond`), or null for an error reply whose body is built with the request id. */
    readonly body: Buffer | null,
    readonly contentType: string,
    /** Extra headers as flat [name, value] pairs. */
    readonly headers: readonly string[],
    /** The refusal code of an error reply (its status and body come from runtime/errors.ts); null for `respond`. */
    readonly code: RefusalCode | null,
  ) {}
}

const JSON_TYPE = 'application/json'

/** An error reply by code (runtime/errors.ts maps it to status and body). */
export function errorReply(code: RefusalCode, headers: readonly string[] = []): Reply {
  return new Reply(ERROR_REPLIES[code].status, null, JSON_TYPE, headers, code)
}

const NO_BODY = Buffer.alloc(0)

/**
 * A reply without a body, with the given headers (flat name/value pairs): for a policy's answer whose headers
 * it builds itself (a CORS preflight's 204). Cheap enough to make per request; build it once when it is static.
 */
export function replyWith(status: number, headers: readonly string[]): Reply {
  return new Reply(status, NO_BODY, '', headers, null)
}

/** Replies without extra headers are immutable: build them once. */
export const REPLIES = {
  noRoute: errorReply('GW_ERR_NO_ROUTE'),
  badRequest: errorReply('GW_ERR_BAD_REQUEST', ['connection', 'close']),
  transferCoding: errorReply('GW_ERR_TRANSFER_CODING', ['connection', 'close']),
  tooManyHeaders: errorReply('GW_ERR_TOO_MANY_HEADERS', ['connection', 'close']),
  /** Closes: node:http would close anyway when it had taken the value for 100-continue (`100-continue, x`) and sent none. */
  expectationFailed: errorReply('GW_ERR_EXPECTATION_FAILED', ['connection', 'close']),
  bodyTooLarge: errorReply('GW_ERR_BODY_TOO_LARGE', ['connection', 'close']),
  unavailable: errorReply('GW_ERR_UPSTREAM_UNAVAILABLE'),
  timeout: errorReply('GW_ERR_UPSTREAM_TIMEOUT'),
  badGateway: errorReply('GW_ERR_BAD_GATEWAY'),
  /** Every pool connection of the chosen replica stayed busy until the route deadline: the gateway's limit, not the upstream's fault. */
  poolExhausted: errorReply('GW_ERR_POOL_EXHAUSTED', ['retry-after', '1']),
  internal: errorReply('GW_ERR_INTERNAL'),
}

/** The answer to a request readHead refused, by the reason it left in ctx.reason (gw and `gwc test` alike). */
export const headRefusal = (reason: string): Reply =>
  reason === 'unsupported_transfer_coding' ? REPLIES.transferCoding : reason === 'too_many_headers' ? REPLIES.tooManyHeaders
    : reason === 'expectation_failed' ? REPLIES.expectationFailed : REPLIES.badRequest

export const isReply = (x: unknown): x is Reply => x instanceof Reply

/**
 * Connections the gateway answered with `Connection: close`. Node may already have parsed requests pipelined
 * behind the refused one; they must not be served (they would be forwarded upstream and their answers,
 * queued behind a closing socket, never written).
 */
export const closingSockets = new WeakSet<object>()

/** Writes a gateway-made reply. Closes the connection when an unread request body would otherwise linger. */
export function writeReply(ctx: RequestContext, r: Reply, via: boolean, now: number): void {
  const res = ctx.res
  if (res.headersSent) { res.destroy(); return }
  const body = r.body ?? Buffer.from(errorBody(r.code ?? 'GW_ERR_INTERNAL', ctx.id))
  // a reply without a body (replyWith) says nothing of a content type; a 204 or 304 carries no Content-Length (RFC 9110 §8.6)
  const headers: string[] = r.status === 204 || r.status === 304 ? [...r.headers]
    : r.contentType === '' ? ['content-length', String(body.length), ...r.headers]
    : ['content-type', r.contentType, 'content-length', String(body.length), ...r.headers]
  if (ctx.hasBody && !ctx.req.complete && !r.headers.includes('connection')) headers.push('connection', 'close')
  if (headers.includes('connection')) closingSockets.add(ctx.req.socket)
  ctx.status = r.status
  if (r.code !== null) ctx.errorCode = r.code
  res.writeHead(r.status, gatewayResponseHeaders(ctx, headers, via, now))
  res.end(ctx.req.method === 'HEAD' || r.status === 204 || r.status === 304 ? undefined : body)
}
