// One open tunnel: bytes relayed both ways between the client's socket and the upstream's, after the
// upstream's 101. It owns the tunnel's life: backpressure (a side's reader is paused while the other side's
// write buffer is full, so memory stays bounded by one socket buffer per direction), half-close (a FIN ends
// one direction; the tunnel ends when both have), an error or reset on one side destroys the other, the
// idle timeout (no byte either way) and the lifetime bound, and the shutdown close (WebSocket close frames
// 1001 put between frames, never inside one).
import type { Duplex } from 'node:stream'
import type { CounterChild } from '../metrics.js'
import { FrameTracker, GOING_AWAY, closeFrame } from './websocket.js'

/** A tunnel's sockets: net.Sockets in practice (their inactivity timer is the idle timeout). */
export type TunnelSocket = Duplex & { setTimeout(ms: number, cb?: () => void): unknown }

/** Why a tunnel ended (the `reason` label of gw_tunnels_closed_total, and the access line's). */
export type TunnelEnd = 'closed' | 'client_error' | 'upstream_error' | 'idle' | 'lifetime' | 'shutdown'

export interface TunnelOptions {
  /** A WebSocket tunnel: frames are followed so the shutdown close frames land between frames. */
  websocket: boolean
  idleMs: number
  lifetimeMs: number
  /** gw_tunnel_bytes_total{direction: up | down}, bound per route. */
  up: CounterChild
  down: CounterChild
  /** Called once, when both sockets are done with. */
  onEnd(t: Tunnel): void
}

/** How long the shutdown close waits for a frame in progress to finish before it cuts the tunnel. */
export const SHUTDOWN_FRAME_GRACE_MS = 1000

const ignore = (): void => undefined

/** One direction of the relay. */
interface Direction {
  from: Duplex
  to: Duplex
  /** Source ended (FIN received) and the FIN was passed on. */
  ended: boolean
  /** Frames of this direction (websocket tunnels only). */
  frames: FrameTracker | null
  /** Shutdown: stop at the next frame boundary, send this close frame, stop relaying. */
  closeWith: Buffer | null
  count: CounterChild
}

export class Tunnel {
  bytesUp = 0
  bytesDown = 0
  readonly openedAt = performance.now()
  /** Why it ended ('' while open). */
  reason: TunnelEnd | '' = ''
  private readonly upDir: Direction
  private readonly downDir: Direction
  private readonly lifetime: NodeJS.Timeout
  private shutdownTimer: NodeJS.Timeout | null = null
  private closedSockets = 0

  constructor(readonly client: TunnelSocket, readonly upstream: TunnelSocket, private readonly o: TunnelOptions) {
    this.upDir = { from: client, to: upstream, ended: false, frames: o.websocket ? new FrameTracker() : null, closeWith: null, count: o.up }
    this.downDir = { from: upstream, to: client, ended: false, frames: o.websocket ? new FrameTracker() : null, closeWith: null, count: o.down }
    this.lifetime = setTimeout(() => this.end('lifetime'), o.lifetimeMs)
    // The client socket sees every byte of both directions (read up, written down): its inactivity timer is
    // the tunnel's idle timer, reset by Node on each read and write, with no timer work per chunk here.
    client.setTimeout(o.idleMs, () => this.end('idle'))
    upstream.setTimeout(0)
    // A FIN ends one direction only: undici's sockets are not half-open (Node would end our side of the
    // upstream with it, cutting the other direction); the listener's are. Read before each 'end'.
    ;(upstream as { allowHalfOpen?: boolean }).allowHalfOpen = true
    ;(client as { allowHalfOpen?: boolean }).allowHalfOpen = true
    if ('setNoDelay' in client) (client as unknown as { setNoDelay(v: boolean): void }).setNoDelay(true)
    if ('setNoDelay' in upstream) (upstream as unknown as { setNoDelay(v: boolean): void }).setNoDelay(true)
    this.relay(this.upDir, 'client_error')
    this.relay(this.downDir, 'upstream_error')
  }

  /**
   * Starts relaying. `clientHead`: bytes the client sent after its request head (Node hands them over with
   * the upgrade); bytes the upstream sent after its 101 are already back in its socket's read buffer.
   */
  start(clientHead: Buffer): void {
    if (clientHead.length > 0) this.forward(this.upDir, clientHead)
    this.client.resume()
    this.upstream.resume()
  }

  private relay(d: Direction, onError: TunnelEnd): void {
    const other = d === this.upDir ? this.downDir : this.upDir
    d.from.on('data', (chunk: Buffer) => this.forward(d, chunk))
    d.from.on('end', () => {
      // half-close: this direction is over; the other goes on until its own FIN
      // (during a shutdown too: a frame cut short by a FIN never finishes, so its close frame could never go)
      d.ended = true
      d.to.end()
      if (other.ended) this.finishWhenFlushed()
    })
    // Node destroys a socket after its 'error', and its 'close' (below) ends the tunnel with onError; after both
    // directions ended, the other socket still flushes what it owes its peer
    d.from.on('error', ignore)
    d.from.on('close', () => {
      this.closedSockets++
      // a socket gone before both directions ended normally: reset, error, or destroyed by us
      if (this.reason === '' && !(d.ended && other.ended)) this.end(onError)
      if (this.closedSockets === 2) this.done()
    })
    d.to.on('drain', () => { if (this.reason === '' || this.reason === 'shutdown') d.from.resume() })
  }

  private forward(d: Direction, chunk: Buffer): void { // HOT PATH (per chunk of a tunnel)
    if (d.closeWith !== null) {
      // shutting down: relay up to the end of the frame in progress, then the close frame, then nothing
      const cut = d.frames!.feed(chunk, true)
      if (cut > 0) this.count(d, chunk.subarray(0, cut))
      if (d.frames!.atBoundary) this.sendClose(d)
      return
    }
    if (d.frames !== null) d.frames.feed(chunk)
    this.count(d, chunk)
  }

  private count(d: Direction, chunk: Buffer): void {
    if (d === this.upDir) this.bytesUp += chunk.length
    else this.bytesDown += chunk.length
    d.count.inc(chunk.length)
    // backpressure: stop reading this side until the other side's write buffer drains
    if (!d.to.write(chunk)) d.from.pause()
  }

  private sendClose(d: Direction): void {
    const frame = d.closeWith!
    d.closeWith = null
    // nothing more is relayed this way: only the destination's 'drain' resumes the source, and a Writable that is
    // ending emits none
    d.from.pause()
    d.to.end(frame) // a destination already gone (its peer reset) takes nothing: the direction is over all the same
    d.ended = true
    const other = d === this.upDir ? this.downDir : this.upDir
    if (other.ended) this.finishWhenFlushed()
  }

  /** Both directions ended: close once what was written is flushed (the sockets close themselves then). */
  private finishWhenFlushed(): void {
    if (this.reason === '') this.reason = 'closed'
    for (const s of [this.client, this.upstream]) {
      if (s.writableFinished) s.destroy()
      else s.once('finish', () => s.destroy())
    }
  }

  /**
   * Gateway shutdown. A WebSocket tunnel gets a close frame 1001 each way, each put at the next frame boundary
   * of its direction (at most SHUTDOWN_FRAME_GRACE_MS later, else the tunnel is cut); any other tunnel is closed.
   */
  shutdown(): void {
    if (this.reason !== '') return
    if (!this.o.websocket) { this.end('shutdown'); return }
    this.reason = 'shutdown'
    this.clearTimers()
    this.upDir.closeWith = closeFrame(GOING_AWAY, true) // to the upstream: a client's frame is masked
    this.downDir.closeWith = closeFrame(GOING_AWAY, false)
    for (const d of [this.upDir, this.downDir]) if (d.ended) d.closeWith = null; else if (d.frames!.atBoundary) this.sendClose(d)
    this.shutdownTimer = setTimeout(() => { this.client.destroy(); this.upstream.destroy() }, SHUTDOWN_FRAME_GRACE_MS)
  }

  /** Ends the tunnel now: both sockets are destroyed. */
  end(reason: TunnelEnd): void {
    if (this.reason !== '' && this.reason !== 'closed') return
    if (this.reason === '') this.reason = reason
    this.clearTimers()
    this.client.destroy()
    this.upstream.destroy()
  }

  private clearTimers(): void {
    clearTimeout(this.lifetime)
    this.client.setTimeout(0)
  }

  private ended = false
  /** Both sockets closed: account for the tunnel once. */
  private done(): void {
    if (this.ended) return
    this.ended = true
    this.clearTimers()
    if (this.shutdownTimer !== null) clearTimeout(this.shutdownTimer)
    if (this.reason === '') this.reason = 'closed'
    this.o.onEnd(this)
  }

  /** Still relaying (not yet closed). */
  get open(): boolean { return !this.ended }
}
