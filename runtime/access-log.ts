// Logging: one pino logger per process writing through an asynchronous, buffered destination, so a log
// write never blocks the request that caused it. The access line is written when the response has ended.
// Never logged: query strings, Authorization or any other credential.
import { pino, type Logger } from 'pino'
import type { Settings } from '../config/settings.js'
import type { RequestContext } from './context.js'

export function createLogger(s: Pick<Settings, 'logLevel' | 'logDestination'>): Logger {
  const dest = s.logDestination === 'stdout' ? 1 : s.logDestination === 'stderr' ? 2 : s.logDestination
  const stream = pino.destination({ dest, sync: false, minLength: 4096, mkdir: true })
  return pino({ level: s.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, stream)
}

/** Flush buffered log lines (on shutdown). */
export function flushLogger(log: Logger): void {
  try { (log as unknown as { flush(cb?: () => void): void }).flush() } catch { /* destination already closed */ }
}

/** The access line for a finished request. Built only when the info level is enabled. */
export function logAccess(log: Logger, ctx: RequestContext, ms: number, aborted: boolean): void {
  if (!log.isLevelEnabled('info')) return
  log.info({
    id: ctx.id,
    trace: ctx.trace?.traceId,
    method: ctx.req.method,
    host: ctx.host,
    path: ctx.path,
    route: ctx.route?.name ?? null,
    status: ctx.status,
    ms: Math.round(ms * 1000) / 1000,
    upstream: ctx.upstreamAddr || undefined,
    upstreamMs: ctx.upstreamMs >= 0 ? Math.round(ctx.upstreamMs * 1000) / 1000 : undefined,
    tries: ctx.attempts || undefined,
    err: ctx.errorCode || undefined,
    ip: ctx.clientIp,
    aborted: aborted || undefined,
  }, 'access')
}
