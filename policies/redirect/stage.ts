// The `redirect https` stage: a request that did not arrive over HTTPS is answered with a redirect to the same
// host, path and query on `https://`; one that did goes on. Whether it did is the gateway's own knowledge: a
// TLS socket, or `X-Forwarded-Proto: https` from a peer in `--trusted-proxies` (the same trust as for
// X-Forwarded-For, runtime/request-head.ts). A client's own X-Forwarded-Proto is never believed.
import { buildLocation, type LocationPart } from '../../config/location.js'
import { CONTINUE, type Stage } from '../../config/stage.js'
import type { RequestContext } from '../../config/context.js'
import { errorReply, redirectReply } from '../../runtime/policy-api.js'
import type { RedirectOptions } from './options.js'

const TO_HTTPS: readonly LocationPart[] = [{ text: 'https://' }, { part: 'host' }, { part: 'path' }, { part: 'query', lead: '?' }]

/**
 * The request came over HTTPS as far as the gateway can trust: its own TLS, or the first X-Forwarded-Proto value
 * a trusted proxy set (the value the gateway forwards upstream too, runtime/headers.ts).
 */
export function arrivedOverHttps(ctx: RequestContext): boolean { // HOT PATH
  if ((ctx.req.socket as { encrypted?: boolean }).encrypted === true) return true
  if (!ctx.peerTrusted) return false
  const xfp = ctx.req.headers['x-forwarded-proto']
  if (typeof xfp !== 'string') return false
  const comma = xfp.indexOf(',')
  return (comma < 0 ? xfp : xfp.slice(0, comma)).trim().toLowerCase() === 'https'
}

export function createRedirectStage(o: RedirectOptions): Stage {
  const status = o.status
  const noHost = errorReply('GW_ERR_BAD_REQUEST')
  return function redirectHttps(ctx) { // HOT PATH
    if (arrivedOverHttps(ctx)) return CONTINUE
    const location = buildLocation(TO_HTTPS, ctx.host, ctx.path, ctx.query)
    return location === null ? noHost : redirectReply(status, location)
  }
}
