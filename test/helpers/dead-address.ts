// An upstream address where nothing listens, for "dead replica" tests, that stays dead while other test files
// run at the same time (`node --test --test-concurrency=2`).
//
// The old way (listen(0), read the port, close, use the port) borrows an ephemeral port: the kernel may hand
// the same port to the next listen(0) of a concurrently running file, whose live server then answers the
// "dead" replica. Ports 1, 2, … are below the ephemeral range (32768–60999 here) and below 1024, so listen(0)
// never hands them out and no test asks for them; connects to them are refused (checked by
// test/issues/14-helpers.test.ts).

/** How many distinct dead addresses there are (ports 1 … DEAD_PORTS). */
export const DEAD_PORTS = 8

/** A port nothing listens on; `i` (0-based) picks one of several distinct ones. */
export function deadPort(i = 0): number {
  if (!Number.isInteger(i) || i < 0 || i >= DEAD_PORTS) throw new Error(`deadPort: index ${i} not in 0…${DEAD_PORTS - 1}`)
  return 1 + i
}

/** `127.0.0.1:<port>` nothing listens on, for a `replicas` line; `i` picks one of several distinct ones. */
export const deadAddress = (i = 0): string => `127.0.0.1:${deadPort(i)}`

/** `http://127.0.0.1:<port>` nothing listens on. */
export const deadUrl = (i = 0): string => `http://${deadAddress(i)}`
