// Request ids and W3C trace context (traceparent). Ids come from a pre-filled random pool so a request
// costs a few string operations, not a syscall.
import { randomFillSync } from 'node:crypto'

const POOL_SIZE = 8192
const pool = Buffer.alloc(POOL_SIZE)
let poolAt = POOL_SIZE

/** `n` random bytes as lower-case hex. */
function randomHex(n: number): string { // HOT PATH
  if (poolAt + n > POOL_SIZE) { randomFillSync(pool); poolAt = 0 }
  const s = pool.toString('hex', poolAt, poolAt + n)
  poolAt += n
  return s
}

const BOOT = randomHex(6)
let seq = 0

/** A process-unique request id: a random boot prefix and a counter (cheap, sortable within a process). */
export function newRequestId(): string { // HOT PATH
  seq = (seq + 1) % Number.MAX_SAFE_INTEGER
  return BOOT + '-' + seq.toString(36)
}

const SANE_ID = /^[A-Za-z0-9._:@\-]{1,128}$/

/** A client-sent X-Request-Id is kept only when it is short and plain (no header or log injection). */
export function saneRequestId(v: string | undefined): v is string {
  return v !== undefined && SANE_ID.test(v)
}

export const newSpanId = (): string => randomHex(8)
export const newTraceId = (): string => randomHex(16)

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

export interface TraceContext {
  traceId: string
  /** The caller's span id, or '' when the trace starts here. */
  parentId: string
  flags: string
  /** Whether the incoming traceparent was valid (only then is tracestate forwarded). */
  propagated: boolean
}

/**
 * Parses a traceparent (W3C Trace Context §3.2). Invalid values (bad shape, version ff, all-zero ids, a
 * version-00 header with extra fields) start a fresh trace instead.
 */
export function parseTraceparent(v: string | undefined): TraceContext {
  if (v !== undefined && v.length >= 55 && v.length <= 512) {
    const m = TRACEPARENT.exec(v.trim())
    if (m !== null && m[1] !== 'ff' && !(m[1] === '00' && m[5] !== undefined) && !/^0+$/.test(m[2]) && !/^0+$/.test(m[3])) {
      return { traceId: m[2], parentId: m[3], flags: m[4], propagated: true }
    }
  }
  return { traceId: newTraceId(), parentId: '', flags: '01', propagated: false }
}

export const formatTraceparent = (traceId: string, spanId: string, flags: string): string => `00-${traceId}-${spanId}-${flags}`
