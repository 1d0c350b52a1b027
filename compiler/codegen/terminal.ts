// Emit side of the terminal stages: options for `stages.proxy` and `stages.respond`, constants inlined.
import type { ProxyIR, RespondIR, RouteIR } from '../../config/ir.js'
import type { Json } from './js.js'

type RespondJson = { [k: string]: Json } & { status: number; body: string; contentType: string; headers: { name: string; value: string }[] }

export const respondOptions = (r: RespondIR): RespondJson => ({
  status: r.status, body: r.body, contentType: r.contentType, headers: r.headers.map(h => ({ name: h.name, value: h.value })),
  // only a redirect carries its target: the options of every other answer read as they always did
  ...(r.redirect ? { redirect: { target: r.redirect.target, parts: r.redirect.parts as unknown as Json } } : {}),
})

export const emitRespond = (r: RespondIR, route: string): Json => ({ route, ...respondOptions(r) })

export const emitProxy = (p: ProxyIR, route: RouteIR): Json => ({
  route: route.name,
  targets: p.targets.map(t => ({ upstream: t.upstream, weight: t.weight })),
  timeoutMs: route.timeoutMs,
  retry: route.retry === null ? null : { ...route.retry },
  fallback: p.fallback === null ? null : respondOptions(p.fallback),
})
