// The Redis connection used by distributed rate limits. Commands fail fast while disconnected (no offline
// queue, no per-command retries) and are bounded by a timeout, so Redis trouble costs a request at most
// that bound before the limiter's fail_open/fail_closed policy applies; ioredis reconnects on its own.
import { Redis } from 'ioredis'
import type { Logger } from 'pino'

/** The part of ioredis the limiter uses (tests may pass a real client on another port). */
export interface RedisLike {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  script(sub: 'LOAD', script: string): Promise<unknown>
  readonly status: string
  quit(): Promise<unknown>
  disconnect(): void
}

/**
 * Resolves once the client is connected (or after `ms`): a bundle with Redis limits waits for this before it
 * goes live, so its first requests are not decided by fail_open/fail_closed merely because the connection
 * was still being set up.
 */
export function redisReady(r: RedisLike, ms: number): Promise<void> {
  if (r.status === 'ready') return Promise.resolve()
  const ev = r as unknown as { once(e: string, f: () => void): void; off(e: string, f: () => void): void }
  return new Promise(resolve => {
    const done = () => { clearTimeout(t); ev.off('ready', done); resolve() }
    const t = setTimeout(done, ms)
    ev.once('ready', done)
  })
}

export function createRedis(url: string, timeoutMs: number, log: Logger): Redis {
  const r = new Redis(url, {
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: times => Math.min(times * 100, 2000),
    lazyConnect: false,
  })
  let down = false
  r.on('error', err => { if (!down) log.warn({ err: err.message }, 'redis unavailable; rate limits apply their fail_open/fail_closed policy'); down = true })
  r.on('ready', () => { if (down) log.info('redis reconnected'); down = false })
  return r
}
