// Query-string parameters of the built-in endpoints and the rule overrides, checked the same way everywhere:
// a bad value is a 400 naming the parameter, never a silent default.

/** Thrown by handlers for bad client input; the replica answers 400 with the message. */
export class BadRequest extends Error {}

/** An integer query parameter in [min, max], or `def` when absent. Throws BadRequest otherwise. */
export function intParam(q: URLSearchParams | undefined, key: string, def: number, min: number, max: number): number {
  const raw = q?.get(key)
  if (raw === null || raw === undefined || raw === '') return def
  return intIn(raw, key, min, max)
}

export function intIn(raw: string, what: string, min: number, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) throw new BadRequest(`${what}: expected an integer in ${min}..${max}, got ${JSON.stringify(raw)}`)
  return n
}

/** `1`/`true` or `0`/`false`; `def` when absent. */
export function boolParam(q: URLSearchParams | undefined, key: string, def: boolean): boolean {
  const raw = q?.get(key)
  if (raw === null || raw === undefined || raw === '') return def
  if (raw === '1' || raw === 'true') return true
  if (raw === '0' || raw === 'false') return false
  throw new BadRequest(`${key}: expected 0 or 1, got ${JSON.stringify(raw)}`)
}

/** Longest wait /delay, ?latency= and ?interval= accept: setTimeout's own ceiling. */
export const MAX_DELAY_MS = 2 ** 31 - 1
/** Largest /bytes/N and `size`: a bound on the sha256 a first request for a size costs (~1 s at 256 MiB). */
export const MAX_BYTES = 256 * 1024 * 1024
