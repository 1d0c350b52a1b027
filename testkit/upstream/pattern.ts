// The deterministic byte pattern behind /bytes/N, /chunked and `mode: bytes`: byte i of every body is
// PATTERN[i mod 64 KiB], so any client can check a body against `patternSha256(n)` without a copy of it.
import { createHash } from 'node:crypto'
import type { Writable } from 'node:stream'

/** Pattern period, and the largest slice `patternSlice` returns without copying. */
export const PERIOD = 64 * 1024

// Two periods back to back: any range of up to PERIOD bytes starting anywhere is one contiguous subarray.
const DOUBLE = (() => {
  const b = Buffer.allocUnsafe(2 * PERIOD)
  let x = 0x9e3779b9 | 0
  for (let i = 0; i < PERIOD; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff }
  b.copy(b, PERIOD, 0, PERIOD)
  return b
})()

/** Bytes [offset, offset + len) of the infinite pattern; len <= PERIOD. A view, not a copy: do not write to it. */
export function patternSlice(offset: number, len: number): Buffer {
  const o = offset % PERIOD
  return DOUBLE.subarray(o, o + len)
}

/** The first n pattern bytes as a fresh Buffer (tests and clients that want to compare bytes). */
export function patternBytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  for (let off = 0; off < n; off += PERIOD) patternSlice(off, Math.min(PERIOD, n - off)).copy(out, off)
  return out
}

const hashes = new Map<number, string>()
const HASH_CACHE_MAX = 256

/** Hex sha256 of the first n pattern bytes, hashed in place (no n-byte buffer) and cached per n. */
export function patternSha256(n: number): string {
  let h = hashes.get(n)
  if (h !== undefined) return h
  const hash = createHash('sha256')
  for (let off = 0; off < n; off += PERIOD) hash.update(patternSlice(off, Math.min(PERIOD, n - off)))
  h = hash.digest('hex')
  // A bounded cache: a benchmark asks for a handful of sizes, a fuzzing client must not grow it forever.
  if (hashes.size >= HASH_CACHE_MAX) hashes.clear()
  hashes.set(n, h)
  return h
}

/**
 * Write the first n pattern bytes to `out` in PERIOD-sized writes, waiting for 'drain' whenever write() says the
 * buffer is full, so a 10 MB body costs 64 KiB of memory however slow the reader. Ends `out` when done if `end`.
 * If `out` is destroyed midway the pump simply stops (no 'drain' comes) and is collected with it.
 */
export function writePattern(out: Writable, n: number, end = true): void {
  let off = 0
  const pump = (): void => {
    while (off < n) {
      const len = Math.min(PERIOD, n - off)
      const ok = out.write(DOUBLE.subarray(0, len)) // off is always a multiple of PERIOD here
      off += len
      if (!ok) { out.once('drain', pump); return }
    }
    if (end) out.end()
  }
  pump()
}
