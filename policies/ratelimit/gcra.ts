// GCRA (the generic cell rate algorithm): a token bucket stored as one number per key, the "theoretical
// arrival time". `limit per window` refills at limit/window; the bucket holds limit + burst.
export interface Decision {
  allowed: boolean
  /** Requests still allowed right now. */
  remaining: number
  /** ms until a request would be allowed (0 when allowed). */
  retryAfterMs: number
  /** ms until the bucket is full again. */
  resetMs: number
}

export interface GcraParams {
  /** ms per request at the sustained rate: window / limit. */
  emissionMs: number
  /** How far ahead of now the arrival time may run: (capacity - 1) × emission. */
  toleranceMs: number
  capacity: number
}

export const gcraParams = (limit: number, windowMs: number, burst: number): GcraParams => {
  const emissionMs = windowMs / limit
  const capacity = limit + burst
  return { emissionMs, toleranceMs: (capacity - 1) * emissionMs, capacity }
}

/** One decision; returns the new arrival time to store (unchanged when refused). */
export function gcra(tat: number, now: number, p: GcraParams, out: Decision): number { // HOT PATH
  const base = tat > now ? tat : now
  const next = base + p.emissionMs
  const allowAt = next - p.toleranceMs - p.emissionMs
  if (allowAt > now) {
    out.allowed = false
    out.remaining = 0
    out.retryAfterMs = allowAt - now
    out.resetMs = base - now
    return tat
  }
  out.allowed = true
  out.remaining = Math.max(0, Math.floor((now + p.toleranceMs - next) / p.emissionMs) + 1)
  out.retryAfterMs = 0
  out.resetMs = next - now
  return next
}
