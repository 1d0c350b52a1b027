// The Redis connection used by distributed rate limits. Commands fail fast while disconnected (no offline
// queue, no per-command retries) and are bounded by a timeout, so Redis trouble costs a request at most
// that bound before the limiter's fail_open/fail_closed policy applies; ioredis reconnects on its own.
import type { Redis } from 'ioredis'
import { ioredis } from './lazy-require.js'
import type { Logger } from 'pino'
import type { RedisLike } from '../config/stage-env.js'

/** The part of ioredis the limiter uses (declared in the kernel; tests may pass a real client on another port). */
export type { RedisLike }

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

/** Consecutive failed decisions (timeouts, errors) that mean "Redis is not answering" when the connection
 * itself reports nothing (a frozen server keeps its socket open). One slow command is not an outage. */
export const REDIS_DOWN_AFTER = 3

/**
 * Whether Redis answers, as seen by the limiters and by the client's connection events: logs once per
 * transition (down, then up again), never per request. A frozen (SIGSTOPped, swapping) server emits no
 * connection event, only timeouts: it is declared down after REDIS_DOWN_AFTER failed decisions in a row.
 */
export class RedisHealth {
  private down = false
  private failures = 0
  private downSince = 0

  constructor(private readonly log: Logger) {}

  /** A decision Redis made. */
  ok(): void { // HOT PATH: one comparison unless recovering
    if (this.failures !== 0) this.failures = 0
    if (this.down) this.markUp()
  }

  /**
   * A decision Redis could not make in time (`cause`: the bound it missed, ms) or an error from the client.
   * The reason text is only built when it is logged, not for every failed decision of an outage.
   */
  failed(cause: number | Error): void {
    if (this.down || ++this.failures < REDIS_DOWN_AFTER) return
    this.markDown(typeof cause === 'number' ? `no answer within ${Math.round(cause)} ms` : cause.message)
  }

  /** The connection failed (ioredis 'error'): down at once. */
  connectionError(reason: string): void { if (!this.down) this.markDown(reason) }

  /** The connection is (re)established (ioredis 'ready'). */
  connected(): void { if (this.down) this.markUp() }

  private markDown(reason: string): void {
    this.down = true
    this.downSince = performance.now()
    this.log.warn({ err: reason }, 'redis not answering; rate limits apply their fail_open/fail_closed policy')
  }

  private markUp(): void {
    this.down = false
    this.failures = 0
    this.log.info({ downMs: Math.round(performance.now() - this.downSince) }, 'redis answering again; rate limits are decided by Redis again')
  }
}

const HEALTH = new WeakMap<object, RedisHealth>()

/** The health tracker of a client made by createRedis (null for other clients, e.g. in tests). */
export const redisHealthOf = (r: RedisLike): RedisHealth | null => HEALTH.get(r) ?? null

/** What redisBounded resolves to when Redis did not answer in time: no command returns it. */
export const REDIS_TIMEOUT: unique symbol = Symbol('redis timeout')

/**
 * One Redis command of a request (a rate-limit decision, a key lookup), bounded by `ms` (the Redis timeout and
 * what is left of the route's deadline, whichever is less), with `health` told whether Redis answered: resolves
 * the command's value, or REDIS_TIMEOUT; rejects with the client's error. The bound's timer is armed before the
 * command is sent, so at equal times it fires before the client's own command timeout and the outage is logged
 * as "no answer within N ms". HOT PATH (Redis stages).
 */
export function redisBounded<T>(health: RedisHealth | null, ms: number, command: () => Promise<T>): Promise<T | typeof REDIS_TIMEOUT> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof REDIS_TIMEOUT>(resolve => { timer = setTimeout(resolve, ms, REDIS_TIMEOUT) })
  return Promise.race([command(), timeout]).then(
    v => { clearTimeout(timer); if (v === REDIS_TIMEOUT) health?.failed(ms); else health?.ok(); return v },
    (e: Error) => { clearTimeout(timer); health?.failed(e); throw e },
  )
}

export function createRedis(url: string, timeoutMs: number, log: Logger): Redis {
  const r = new (ioredis().Redis)(url, {
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: times => Math.min(times * 100, 2000),
    lazyConnect: false,
  })
  const health = new RedisHealth(log)
  HEALTH.set(r, health)
  r.on('error', err => health.connectionError(err.message))
  r.on('ready', () => health.connected())
  return r
}
