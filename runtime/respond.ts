// The `respond` terminal stage (and a proxy's `fallback respond …`): a reply built once at load, answered as is;
// or, for `respond redirect STATUS "TARGET"`, a Location filled in per request from the request's own host, path
// and query (config/location.ts escapes them; the compiler made sure no request data can pick the host).
import type { RespondOptions } from '../config/bundle.js'
import { buildLocation } from '../config/location.js'
import type { StageOptionsBase, TerminalStage } from '../config/stage.js'
import { REPLIES, Reply } from './reply.js'

export function respondReply(o: Omit<RespondOptions, keyof StageOptionsBase | 'redirect'>): Reply {
  const headers: string[] = []
  for (const h of o.headers) headers.push(h.name, h.value)
  return new Reply(o.status, Buffer.from(o.body), o.contentType, headers, null)
}

const EMPTY = Buffer.alloc(0)
const TEXT = 'text/plain; charset=utf-8'

/**
 * A redirect answer built per request: `status` with `Location: location` and no body. The caller guarantees
 * `location` is a valid URI reference (config/location.ts buildLocation makes one). HOT PATH (redirects only).
 */
export const redirectReply = (status: number, location: string): Reply => new Reply(status, EMPTY, TEXT, ['location', location], null)

export function createRespondStage(o: RespondOptions): TerminalStage {
  if (o.redirect != null) {
    const parts = o.redirect.parts, status = o.status
    return ctx => { // HOT PATH (redirect routes only)
      const location = buildLocation(parts, ctx.host, ctx.path, ctx.query)
      // `{host}` of a request without Host (HTTP/1.0): there is no own host to send the client to
      return location === null ? REPLIES.badRequest : redirectReply(status, location)
    }
  }
  const reply = respondReply(o)
  return () => reply
}
