// The built-in endpoints that generate a body over time: /bytes/N (large, backpressured), /chunked (n pieces,
// one chunk each) and /sse (events flushed one by one). Their bytes come from the shared pattern.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BadRequest, intIn, intParam, MAX_BYTES, MAX_DELAY_MS } from './params.js'
import { patternSha256, patternSlice, PERIOD, writePattern } from './pattern.js'
import type { Replica } from './replica.js'

export function handleBytes(_rep: Replica, _req: IncomingMessage, res: ServerResponse, path: string): void {
  sendPattern(res, 200, intIn(path.slice('/bytes/'.length), 'bytes', 0, MAX_BYTES))
}

/** `n` pattern bytes with content-length and `x-body-sha256`; the hash is cached per n, the bytes are never copied. */
export function sendPattern(res: ServerResponse, status: number, n: number): void {
  res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': n, 'x-body-sha256': patternSha256(n) })
  writePattern(res, n)
}

/** `/chunked?n=4&size=16&interval=0`: n pieces of `size` bytes (<= 64 KiB), `interval` ms apart. */
export function handleChunked(_rep: Replica, _req: IncomingMessage, res: ServerResponse, _path: string, q: URLSearchParams | undefined): void {
  const n = intParam(q, 'n', 4, 0, 100_000), size = intParam(q, 'size', 16, 1, PERIOD)
  // The whole body is hashed up front for x-body-sha256: keep it within the same bound as /bytes/N.
  if (n * size > MAX_BYTES) throw new BadRequest(`n * size: at most ${MAX_BYTES} bytes`)
  streamChunked(res, n, size, intParam(q, 'interval', 0, 0, MAX_DELAY_MS))
}

/**
 * Each piece is one write, hence one chunk on the wire (no content-length, so Node frames the body as chunked),
 * and the whole body equals the first n*size pattern bytes, announced in `x-body-sha256`. Headers go out before
 * the first piece so a client sees the response start at once. Waits for 'drain' before the next piece.
 */
export function streamChunked(res: ServerResponse, n: number, size: number, interval: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-body-sha256': patternSha256(n * size), 'x-chunks': n })
  res.flushHeaders()
  let i = 0
  let timer: NodeJS.Timeout | undefined
  res.once('close', () => clearTimeout(timer))
  const next = (): void => {
    if (res.destroyed) return
    if (i === n) { res.end(); return }
    const ok = res.write(patternSlice(i * size, size))
    i++
    if (!ok) res.once('drain', schedule)
    else schedule()
  }
  const schedule = (): void => {
    if (interval > 0 && i < n) timer = setTimeout(next, interval)
    else if (i < n) setImmediate(next) // one piece per turn: separate writes, and no starving other sockets
    else next()
  }
  next()
}

/** `/sse?n=5&interval=100`: n events (0 = until the client leaves), the first at once, then one per interval. */
export function handleSse(_rep: Replica, _req: IncomingMessage, res: ServerResponse, _path: string, q: URLSearchParams | undefined): void {
  streamSse(res, intParam(q, 'n', 5, 0, 1_000_000), intParam(q, 'interval', 100, 1, MAX_DELAY_MS))
}

/**
 * text/event-stream; each event is a single write, which Node sends immediately (the server socket has
 * Nagle off), so a client sees events arrive one by one. Event data is `{"i":<index>,"t":<epoch ms>}`.
 */
export function streamSse(res: ServerResponse, n: number, interval: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' })
  res.flushHeaders()
  let i = 0
  const tick = (): void => {
    if (res.destroyed) { clearInterval(timer); return }
    res.write(`id: ${i}\nevent: tick\ndata: {"i":${i},"t":${Date.now()}}\n\n`)
    i++
    if (n > 0 && i >= n) { clearInterval(timer); res.end() }
  }
  const timer = setInterval(tick, interval)
  res.once('close', () => clearInterval(timer))
  tick()
}
