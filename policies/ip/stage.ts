// The `ip` stage: refuses a client by its address with 403 {"error":"forbidden"}. The client address is
// ctx.clientIp (runtime/request-head.ts: the socket peer, or behind trusted proxies the rightmost
// X-Forwarded-For address that is not one). An address that does not read is refused by both modes.
import { CONTINUE, type Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import { errorReply } from '../../runtime/policy-api.js'
import { compileList, lookup } from './address.js'
import type { IpOptions } from './options.js'

export function createIpStage(o: IpOptions, env: StageEnv): Stage {
  const list = compileList(o.entries)
  const rejected = env.metrics.rejects('ip', o.route, '403')
  const forbidden = errorReply('GW_ERR_FORBIDDEN')
  // allow passes on 1 (in the list), deny on 0 (readable and not in it): an unreadable address (-1) never passes
  const pass = o.mode === 'allow' ? 1 : 0
  return function ip(ctx) { // HOT PATH: synchronous, allocates nothing
    if (lookup(list, ctx.clientIp) === pass) return CONTINUE
    rejected.inc()
    return forbidden
  }
}
