// The `proxy` terminal stage: picks the upstream (weighted for canaries; the exchange may fail a request over
// to the split's other upstreams) and hands the request to the upstream's exchange (exchange.ts).
import type { ProxyOptions } from '../../config/bundle.js'
import type { RequestContext } from '../context.js'
import type { OutboundOptions } from '../headers.js'
import { CounterChild, type FastCounter } from '../metrics.js'
import type { Reply } from '../reply.js'
import { respondReply } from '../respond.js'
import { proxyRequest, type ProxyPlan } from './exchange.js'
import type { Upstream } from './upstream.js'

/** Stands at a split upstream's own index in its failover row: never counted, never exported. */
const UNUSED = new CounterChild()

export interface ProxyDeps {
  upstreams: ReadonlyMap<string, Upstream>
  outbound: OutboundOptions
  /** Request headers the route's stages consumed (lower-case), not forwarded; null = none. */
  stripHeaders: ReadonlySet<string> | null
  /** Query parameters the route's stages consumed, removed upstream; null = none. */
  stripQuery: readonly string[] | null
  /** gw_upstream_failovers_total{from, to}: children bound here, at load, for each pair of a split. */
  failovers: FastCounter
}

export function createProxyStage(o: ProxyOptions, deps: ProxyDeps): (ctx: RequestContext) => Reply | undefined {
  const upstreamOf = (name: string): Upstream => {
    const u = deps.upstreams.get(name)
    if (u === undefined) throw new Error(`proxy of route ${JSON.stringify(o.route)} names unknown upstream ${JSON.stringify(name)}`)
    return u
  }
  // A split's upstreams, heaviest first (stable for equal weights): the order a request fails over in.
  const targets = o.targets.length === 1 ? o.targets : [...o.targets].sort((a, b) => b.weight - a.weight)
  const ups = targets.map(t => upstreamOf(t.upstream))
  const plan: ProxyPlan = {
    route: o.route,
    retry: o.retry,
    fallback: o.fallback === null ? null : respondReply(o.fallback),
    outbound: deps.outbound,
    stripHeaders: deps.stripHeaders,
    stripQuery: deps.stripQuery,
    split: ups.length === 1 ? null : ups.map(up => ({ up, failovers: ups.map(to => (to === up ? UNUSED : deps.failovers.child(up.name, to.name))) })),
  }
  if (ups.length === 1) {
    const up = ups[0]
    // an upgrade request the route tunnels (ctx.tunnel, runtime/tunnel/) is handed to the tunnels instead
    return ctx => ctx.tunnel === null ? proxyRequest(ctx, up, plan) : ctx.tunnel.tunnels.open(ctx, up, plan, 0) // HOT PATH
  }
  // Weighted split (canary): cumulative percentages, one random draw per request.
  const cum: number[] = []
  let acc = 0
  for (const t of targets) { acc += t.weight; cum.push(acc) }
  return ctx => { // HOT PATH
    const x = Math.random() * acc
    let i = 0
    while (i < cum.length - 1 && x >= cum[i]) i++
    return ctx.tunnel === null ? proxyRequest(ctx, ups[i], plan, i) : ctx.tunnel.tunnels.open(ctx, ups[i], plan, i)
  }
}
