// Runtime side of the terminal stages. `proxy` picks the upstream (weighted for canaries) and hands the
// request to the upstream's exchange; `respond` answers with a reply built once at load.
import type { StageOptionsBase, StageFactories } from '../../config/bundle.js'
import type { RequestContext } from '../../runtime/context.js'
import { Reply } from '../../runtime/reply.js'
import { proxyRequest, type ProxyPlan } from '../../runtime/upstream/exchange.js'
import type { Upstream } from '../../runtime/upstream/upstream.js'
import type { OutboundOptions } from '../../runtime/headers.js'

type RespondOptions = Parameters<StageFactories['respond']>[0]
type ProxyOptions = Parameters<StageFactories['proxy']>[0]

export function respondReply(o: Omit<RespondOptions, keyof StageOptionsBase>): Reply {
  const headers: string[] = []
  for (const h of o.headers) headers.push(h.name, h.value)
  return new Reply(o.status, Buffer.from(o.body), o.contentType, headers, '')
}

export function createRespondStage(o: RespondOptions): (ctx: RequestContext) => Reply {
  const reply = respondReply(o)
  return () => reply
}

export interface ProxyDeps {
  upstreams: ReadonlyMap<string, Upstream>
  outbound: OutboundOptions
  /** The route verifies a bearer token, so Authorization is not forwarded. */
  stripAuthorization: boolean
}

export function createProxyStage(o: ProxyOptions, deps: ProxyDeps): (ctx: RequestContext) => Reply | undefined {
  const plan: ProxyPlan = {
    route: o.route,
    retry: o.retry,
    fallback: o.fallback === null ? null : respondReply(o.fallback),
    outbound: deps.outbound,
    stripAuthorization: deps.stripAuthorization,
  }
  const ups = o.targets.map(t => {
    const u = deps.upstreams.get(t.upstream)
    if (u === undefined) throw new Error(`proxy of route ${JSON.stringify(o.route)} names unknown upstream ${JSON.stringify(t.upstream)}`)
    return u
  })
  if (ups.length === 1) {
    const up = ups[0]
    return ctx => proxyRequest(ctx, up, plan) // HOT PATH
  }
  // Weighted split (canary): cumulative percentages, one random draw per request.
  const cum: number[] = []
  let acc = 0
  for (const t of o.targets) { acc += t.weight; cum.push(acc) }
  return ctx => { // HOT PATH
    const x = Math.random() * acc
    let i = 0
    while (i < cum.length - 1 && x >= cum[i]) i++
    return proxyRequest(ctx, ups[i], plan)
  }
}
