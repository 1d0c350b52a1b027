// The `cors` stage: answers preflights at the edge (before any other stage, never upstream) and puts the CORS
// headers on every other answer of the route, the upstream's and the gateway's own (401, 429, 5xx) alike.
// Everything but the echoed origin is built at load; a request costs a Set lookup or a suffix check.
import { CONTINUE, type Reply, type Stage } from '../../config/stage.js'
import type { RequestContext } from '../../config/context.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply, replyWith } from '../../runtime/policy-api.js'
import { matchesWildcard, splitWildcard, type CorsOptions } from './options.js'

const ACAO = 'access-control-allow-origin'
const ACAC = 'access-control-allow-credentials'
const ACEH = 'access-control-expose-headers'

export function createCorsStage(o: CorsOptions, env: StageEnv): Stage {
  const any = o.origins.length === 1 && o.origins[0] === '*'
  const exact = new Set(o.origins)
  const wildcards = o.wildcards.map(splitWildcard)
  const methods = new Set(o.methods)
  const headers = new Set(o.headers)
  const expose = o.expose.join(', ')
  const credentials = o.credentials
  // what a preflight answer says after Access-Control-Allow-Origin
  const preflightTail: string[] = [
    ...(credentials ? [ACAC, 'true'] : []),
    'access-control-allow-methods', o.methods.join(', '),
    ...(o.headers.length > 0 ? ['access-control-allow-headers', o.headers.join(', ')] : []),
    ...(o.maxAgeS !== null ? ['access-control-max-age', String(o.maxAgeS)] : []),
  ]
  const anyPreflight = replyWith(204, [ACAO, '*', ...preflightTail])
  const refused = errorReply('GW_ERR_FORBIDDEN', any ? [] : ['vary', 'Origin'])
  const preflights = env.metrics.counter('gw_cors_preflights_total', 'CORS preflights the gateway answered, by route and result', ['route', 'result'])
  const allowedPreflights = preflights.child(o.route, 'allowed')
  const refusedPreflights = preflights.child(o.route, 'refused')

  const allowed = (origin: string): boolean => { // HOT PATH
    if (exact.has(origin)) return true
    for (let i = 0; i < wildcards.length; i++) if (matchesWildcard(origin, wildcards[i])) return true
    return false
  }

  /** Every requested header (a comma list, any case) is allowed. Preflights only: they are few and cached. */
  const headersAllowed = (list: string): boolean => {
    for (const h of list.split(',')) { const n = h.trim().toLowerCase(); if (n !== '' && !headers.has(n)) return false }
    return true
  }

  function preflight(ctx: RequestContext, origin: string, method: string | string[]): Reply {
    const asked = ctx.req.headers['access-control-request-headers']
    if ((!any && !allowed(origin)) || typeof method !== 'string' || !methods.has(method) || (asked !== undefined && !headersAllowed(asked))) {
      refusedPreflights.inc()
      return refused
    }
    allowedPreflights.inc()
    return any ? anyPreflight : replyWith(204, [ACAO, origin, ...preflightTail, 'vary', 'Origin'])
  }

  return function cors(ctx) { // HOT PATH
    const h = ctx.req.headers
    const origin = h.origin
    if (origin !== undefined && ctx.req.method === 'OPTIONS') {
      const method = h['access-control-request-method']
      if (method !== undefined) return preflight(ctx, origin, method)
    }
    if (any) {
      // the same answer for every origin: no Vary, nothing echoed
      ctx.setResponseHeader(ACAO, '*')
      if (expose !== '') ctx.setResponseHeader(ACEH, expose)
      return CONTINUE
    }
    // the answer depends on Origin even when there is none: a cache must not hand one origin's answer to another
    ctx.addResponseHeader('vary', 'Origin')
    if (origin === undefined) return CONTINUE
    if (allowed(origin)) {
      ctx.setResponseHeader(ACAO, origin)
      if (credentials) ctx.setResponseHeader(ACAC, 'true')
      else ctx.removeResponseHeader(ACAC) // an upstream's own grant of credentials is not the route's policy
      if (expose !== '') ctx.setResponseHeader(ACEH, expose)
    } else {
      // the gateway's list is the route's CORS policy: an upstream's own grant is not passed on
      ctx.removeResponseHeader(ACAO)
      ctx.removeResponseHeader(ACAC)
    }
    return CONTINUE
  }
}
