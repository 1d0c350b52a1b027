// The distributed limiter: the same GCRA, evaluated atomically in Redis by one Lua script (one round trip
// per decision) using the Redis server's clock, so every gateway replica shares the limit and clock skew
// between replicas does not matter.
import { createHash } from 'node:crypto'
import type { RedisLike } from '../../config/stage-env.js'
import type { Decision, GcraParams } from './gcra.js'

/** KEYS[1] = bucket; ARGV = emission ms, tolerance ms. Returns {allowed, remaining, retry_after_ms, reset_ms}. */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local emission = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = tat
if base < now then base = now end
local nxt = base + emission
local allow_at = nxt - tolerance - emission
if allow_at > now then
  return {0, 0, math.ceil(allow_at - now), math.ceil(base - now)}
end
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.ceil(nxt - now) + 1000)
local remaining = math.floor((now + tolerance - nxt) / emission) + 1
if remaining < 0 then remaining = 0 end
return {1, remaining, 0, math.ceil(nxt - now)}
`
const SHA = createHash('sha1').update(GCRA_LUA).digest('hex')

/** Redis keys are bounded: long client-controlled values (headers) are hashed. */
export function redisKey(limiterId: string, key: string): string {
  const k = key.length > 128 ? 'h:' + createHash('sha1').update(key).digest('hex') : key
  return `gwp:rl:{${limiterId}}:${k}`
}

export async function redisTake(r: RedisLike, bucket: string, p: GcraParams, out: Decision): Promise<void> {
  let res: unknown
  try {
    res = await r.evalsha(SHA, 1, bucket, p.emissionMs, p.toleranceMs)
  } catch (e) {
    if (!String((e as Error).message).includes('NOSCRIPT')) throw e
    res = await r.eval(GCRA_LUA, 1, bucket, p.emissionMs, p.toleranceMs)
  }
  const [allowed, remaining, retryAfterMs, resetMs] = res as number[]
  out.allowed = allowed === 1
  out.remaining = remaining
  out.retryAfterMs = retryAfterMs
  out.resetMs = resetMs
}
