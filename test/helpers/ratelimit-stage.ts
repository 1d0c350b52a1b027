// test/helpers/ratelimit-stage.ts: the `ratelimit` stage in-process, as the gateway's registry builds it (the runtime
// half, policies/ratelimit/runtime.ts) in the stage environment the gateway builds (createStageEnv), with requests
// made of just what the stage reads and its answers as 'ok' or the reply's code.
import { pino, type Logger } from 'pino'
import type { JwtProviderIR } from '../../policies/auth/options.js'
import { loadSettings } from '../../config/settings.js'
import { CONTINUE } from '../../config/stage.js'
import { policy as ratelimit } from '../../policies/ratelimit/runtime.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import type { RedisLike } from '../../runtime/redis.js'
import type { Reply } from '../../runtime/reply.js'
import { createStageEnv, type StageEnv } from '../../runtime/stage-env.js'
import { metric } from './gateway.js'

export type Key = { kind: 'ip' } | { kind: 'user' } | { kind: 'consumer' } | { kind: 'claim'; claim: string } | { kind: 'header'; header: string }
export interface Opts { route?: string; id?: string; key?: Key; limit: number; windowMs: number; burst?: number; store?: 'local' | 'redis'; failOpen?: boolean }
let ids = 0

/**
 * The stage environment, with the gateway metrics it reads from kept as `gm`. `boundMs`: the stage's bound on one
 * Redis decision (redisTimeoutMs); generous unless a test is about it.
 */
export function envWith(o: { redis?: RedisLike | null; providers?: JwtProviderIR[]; shared?: Map<string, unknown>; boundMs?: number; log?: Logger } = {}): StageEnv & { gm: GatewayMetrics } {
  const shared = o.shared ?? new Map<string, unknown>()
  const gm = new GatewayMetrics({ defaultMetrics: false })
  const env = createStageEnv({ declarations: o.providers ?? [], identityHeaders: (o.providers ?? []).flatMap(p => p.forward.map(f => f.header)) }, {
    settings: loadSettings(undefined, { redisTimeoutMs: o.boundMs ?? 3000 }), metrics: gm, log: o.log ?? pino({ level: 'silent' }), redis: o.redis ?? null,
    shared: <T>(k: string, create: () => T): T => { if (!shared.has(k)) shared.set(k, create()); return shared.get(k) as T },
  })
  return Object.assign(env, { gm })
}

/** A ratelimit stage (local, by ip, no burst, fail_open unless `o` says otherwise) and a reader of its metrics. */
export function stage(o: Opts, env = envWith()) {
  const opts = { route: 'api', id: o.id ?? `lim${++ids}`, key: { kind: 'ip' }, burst: 0, store: 'local', failOpen: true, ...o }
  const rl = ratelimit.create(opts as never, env)
  const count = async (name: string, labels: Record<string, string>) => metric(await env.gm.registry.metrics(), name, labels) ?? 0
  return { rl, env, opts, count }
}

export interface Ctx { clientIp: string; req: { headers: Record<string, string | string[]> }; state: { claims: Record<string, unknown> | null; identity: { header: string; value: string }[] | null; consumer?: string }; deadline: number }
export const ctx = (c: Partial<Omit<Ctx, 'req'>> & { headers?: Record<string, string | string[]>; msLeft?: number } = {}): Ctx =>
  ({ clientIp: c.clientIp ?? '192.0.2.1', req: { headers: c.headers ?? {} }, state: c.state ?? { claims: null, identity: null }, deadline: performance.now() + (c.msLeft ?? 2000) })
export const decide = async (rl: ReturnType<typeof stage>['rl'], c: Ctx) => rl(c as never)
export const statuses = async (rl: ReturnType<typeof stage>['rl'], cs: Ctx[]) => {
  const out: string[] = []
  for (const c of cs) { const r = await decide(rl, c); out.push(r === CONTINUE ? 'ok' : String((r as Reply).code)) }
  return out
}
export const LIMITED = 'GW_ERR_RATE_LIMITED'
export const UNAVAILABLE = 'GW_ERR_RATELIMIT_UNAVAILABLE'
