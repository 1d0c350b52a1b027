// Closing client connections on shutdown without resetting a request. Every response finished during the
// drain says `Connection: close` (and Node closes its connection after it); a connection that is idle is
// given a short grace for a request already on the wire, then half-closed (FIN) while gw keeps reading, so a
// request that still arrives is read and dropped (counted, never forwarded), never answered by a reset.
import { Server as NetServer, type Socket } from 'node:net'
import type { EdgeResponse } from './edge.js'
import { closingSockets } from './reply.js'

/** How long a connection must be idle during a drain before gw half-closes it. A request the client sent
 * before it could see the FIN arrives within a round trip; 250 ms covers any client in the same region. */
export const IDLE_CLOSE_GRACE_MS = 250
/** How long a half-closed connection may stay open waiting for the client to close its side. */
export const HALF_CLOSED_LINGER_MS = 1000

/** Per-connection drain state, only created once the drain begins. */
interface Watch { bytesRead: number; idleSince: number; finAt: number }

/**
 * Client sockets handed over for an upgrade (runtime/tunnel/): no longer HTTP connections, so the drain
 * leaves them alone; the tunnels are closed at the drain deadline (Tunnels.shutdownAll) before the rest.
 */
export const upgradedSockets = new WeakSet<object>()

/** Connections gw half-closed during a drain: a request read on one is dropped and counted, not served. */
export const halfClosed = new WeakSet<object>()

/**
 * The client listener's open connections (one Set entry per connection, none per request) and, once
 * `begin()` is called, the drain of each one.
 */
export class ClientConnections {
  private readonly open = new Set<Socket>()
  private readonly watch = new Map<Socket, Watch>()
  /** Idle connections half-closed during the drain. */
  halfClosedCount = 0

  constructor(private readonly server: NetServer) {
    const open = this.open
    const gone = function (this: Socket) { open.delete(this) }
    server.on('connection', (s: Socket) => { open.add(s); s.on('close', gone) }) // on, not once: no wrapper per connection
  }

  /** Connections still open. */
  get size(): number { return this.open.size }

  /**
   * Stop accepting and start draining: responses not yet begun will say `Connection: close`. Unlike
   * http.Server#close, this does not destroy idle connections (a destroy resets a request already sent on
   * one); `sweep()` closes them gracefully instead.
   */
  begin(now: number): void {
    NetServer.prototype.close.call(this.server)
    for (const s of this.open) {
      // Node's own idleness test (http.Server#closeIdleConnections reads the same field): the response the
      // connection is busy with, if any. Its head, not yet written, will carry Connection: close.
      const res = current(s)
      if (res !== null && !res.headersSent) res.shouldKeepAlive = false
      this.watch.set(s, { bytesRead: s.bytesRead, idleSince: res === null ? now : -1, finAt: -1 })
    }
  }

  /**
   * One drain step (called every few ms until the connections are gone or the deadline passes): a
   * connection quiet for IDLE_CLOSE_GRACE_MS is half-closed; one half-closed for HALF_CLOSED_LINGER_MS is
   * destroyed (nothing of a request was read on it since the FIN, so nothing is lost).
   */
  sweep(now: number): void {
    for (const s of this.open) {
      if (upgradedSockets.has(s)) continue
      let w = this.watch.get(s)
      if (w === undefined) { w = { bytesRead: s.bytesRead, idleSince: -1, finAt: -1 }; this.watch.set(s, w) }
      if (w.finAt >= 0) {
        if (now - w.finAt >= HALF_CLOSED_LINGER_MS) s.destroy()
        continue
      }
      const res = current(s)
      // A head (or a pipelined request) arriving counts as activity even before Node has parsed it.
      const quiet = res === null && s.bytesRead === w.bytesRead
      w.bytesRead = s.bytesRead
      if (res !== null && !res.headersSent) res.shouldKeepAlive = false
      if (!quiet) { w.idleSince = -1; continue }
      if (w.idleSince < 0) { w.idleSince = now; continue }
      if (now - w.idleSince < IDLE_CLOSE_GRACE_MS) continue
      closingSockets.add(s)
      halfClosed.add(s)
      s.end()
      w.finAt = now
      this.halfClosedCount++
    }
  }

  /**
   * At the drain deadline: destroys every connection still open and returns how many were reset, i.e. had
   * a request in progress (in flight, or bytes of one received) when destroyed. Half-closed, quiet
   * connections are closed too but not counted: nothing was lost on them.
   */
  destroyAll(): number {
    let reset = 0
    for (const s of this.open) {
      if (upgradedSockets.has(s)) { s.destroy(); continue } // a tunnel (closed before this) or its handshake
      const w = this.watch.get(s)
      // on a half-closed connection whatever arrived was read and dropped (counted as unanswered)
      if (w === undefined || w.finAt < 0) { if (current(s) !== null || (w !== undefined && s.bytesRead !== w.bytesRead)) reset++ }
      s.destroy()
    }
    return reset
  }
}

/** The response a server connection is busy with, or null when it is idle. */
function current(s: Socket): EdgeResponse | null {
  const res = (s as Socket & { _httpMessage?: EdgeResponse | null })._httpMessage
  return res === undefined || res === null || res.writableFinished ? null : res
}
