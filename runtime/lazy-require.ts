// Packages the runtime loads at first use instead of with its modules: a gateway that never makes a Redis
// client (no Redis-backed limits), never runs an active health check or fetches a JWKS, and runs the default
// http1 engine (its own upstream pool) never loads ioredis (~0.2 s of module loading) or undici (~0.17 s).
// That is paid at every start, reload check and worker fork, and by every test process. Both are CommonJS
// packages, so the first use stays synchronous: one require, then the cached module.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

function lazyRequire<T>(id: string): () => T {
  let m: T | undefined
  return () => (m ??= require(id) as T)
}

export const undici = lazyRequire<typeof import('undici')>('undici')
export const ioredis = lazyRequire<typeof import('ioredis')>('ioredis')
