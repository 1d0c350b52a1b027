// The stub's deterministic random streams: one xoshiro128** generator per replica, seeded from (seed, name),
// so a replica's draws depend only on the seed, its name and the order of the requests it has seen.
import { createHash } from 'node:crypto'

/** A stream of uniform numbers in [0, 1). `reset()` rewinds it to the state it was created with. */
export interface Rng {
  next(): number
  reset(): void
}

/**
 * Create the stream for one replica. The four state words come from sha256(`${seed}\0${name}`): replicas of one
 * run are independent of each other, and renaming or reseeding changes every draw. Never throws.
 */
export function createRng(seed: number | string, name: string): Rng {
  const h = createHash('sha256').update(`${seed}\0${name}`).digest()
  const init = [h.readInt32LE(0), h.readInt32LE(4), h.readInt32LE(8), h.readInt32LE(12)]
  // An all-zero state would emit zeros forever; sha256 giving 128 zero bits is not a case worth a branch, but cheap.
  if ((init[0] | init[1] | init[2] | init[3]) === 0) init[3] = 1
  let a = 0, b = 0, c = 0, d = 0
  const reset = (): void => { a = init[0]; b = init[1]; c = init[2]; d = init[3] }
  reset()
  // HOT PATH: three calls per rule-driven request. Closure-held ints keep it allocation-free.
  const next = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
    const t = b << 9
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11)
    return r / 4294967296
  }
  return { next, reset }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))
