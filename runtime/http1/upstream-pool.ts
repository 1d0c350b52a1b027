// A replica's connection pool on the http1 engine (runtime/upstream/pool.ts's UpstreamPool on node:net):
// up to `connections` sockets (upstream-connection.ts), one exchange at a time on each, a FIFO queue of
// dispatches when all are busy, idle sockets kept alive for the pool's idle time (shortened by an upstream's
// Keep-Alive hint), the connect timeout, the body idle timeout, and the stale-socket rule: a request given to
// a socket that has carried one before is written one event-loop turn later (one setImmediate for all of a
// turn's reuses), so a close already waiting on that socket is seen before anything is written to it.
import type { UpstreamDispatch, UpstreamHandler, UpstreamPool } from '../upstream/pool.js'
import { CLOSED, UpstreamConnection, UpstreamError, VALIDATING } from './upstream-connection.js'

export interface Http1PoolOptions {
  host: string
  port: number
  /** Most sockets open at once. */
  connections: number
  /** How long an idle socket is kept (the cap on an upstream's Keep-Alive hint), ms. */
  idleMs: number
  /** 0 = none. */
  connectTimeoutMs: number
  /** Longest wait for the next bytes of a response body while the handler reads (0 = none), ms. */
  bodyIdleMs: number
}

export class Http1Pool implements UpstreamPool {
  readonly host: string
  readonly port: number
  readonly idleMs: number
  readonly connectTimeoutMs: number
  readonly bodyIdleMs: number
  /** `host: …\r\n` for requests whose headers carry none (as undici: no port when it is 80). */
  readonly hostHeader: string
  private readonly max: number
  private readonly conns: UpstreamConnection[] = []
  /** Idle connections, the most recently used last (taken first: least likely to have been closed). */
  private readonly idleList: UpstreamConnection[] = []
  /** Waiting dispatches as [opts, handler, opts, handler, …] from `qHead` on. */
  private readonly queue: (UpstreamDispatch | UpstreamHandler | undefined)[] = []
  private qHead = 0
  private validating: UpstreamConnection[] = []
  private validatingSpare: UpstreamConnection[] = []
  private immediate: NodeJS.Immediate | null = null
  private readonly onConnectListeners: (() => void)[] = []
  private readonly onDisconnectListeners: (() => void)[] = []
  private closing = false
  private destroyed = false
  private closed: (() => void) | null = null
  private closedPromise: Promise<void> | null = null

  constructor(o: Http1PoolOptions) {
    this.host = o.host
    this.port = o.port
    this.max = Math.max(1, o.connections)
    this.idleMs = o.idleMs
    this.connectTimeoutMs = o.connectTimeoutMs
    this.bodyIdleMs = o.bodyIdleMs
    const h = o.host.includes(':') ? `[${o.host}]` : o.host
    this.hostHeader = `host: ${o.port === 80 ? h : `${h}:${o.port}`}\r\n`
  }

  dispatch(opts: UpstreamDispatch, handler: UpstreamHandler): boolean { // HOT PATH
    if (this.closing) {
      handler.onError(this.destroyed ? new UpstreamError('UND_ERR_DESTROYED', 'The client is destroyed') : new UpstreamError('UND_ERR_CLOSED', 'The client is closed'))
      return false
    }
    this.place(opts, handler, false)
    return true
  }

  /** An idle connection, else a new one, else the queue (at its front for a request put back unwritten). */
  place(opts: UpstreamDispatch, handler: UpstreamHandler, front: boolean): void { // HOT PATH
    if (this.destroyed) { handler.onError(new UpstreamError('UND_ERR_DESTROYED', 'The client is destroyed')); return }
    const c = this.idleList.pop()
    if (c !== undefined) { c.assign(opts, handler); return }
    if (this.conns.length < this.max) { this.open().assign(opts, handler); return }
    if (!front) { this.queue.push(opts, handler); return }
    if (this.qHead >= 2) { this.qHead -= 2; this.queue[this.qHead] = opts; this.queue[this.qHead + 1] = handler } else this.queue.unshift(opts, handler)
  }

  private open(): UpstreamConnection {
    const c = new UpstreamConnection(this)
    this.conns.push(c)
    return c
  }

  /** A connection finished an exchange and may carry another: the oldest waiting dispatch, or idle. */
  release(c: UpstreamConnection): void { // HOT PATH
    if (this.qHead < this.queue.length) {
      const q = this.queue
      const opts = q[this.qHead] as UpstreamDispatch, h = q[this.qHead + 1] as UpstreamHandler
      q[this.qHead] = q[this.qHead + 1] = undefined
      this.qHead += 2
      if (this.qHead === q.length) { q.length = 0; this.qHead = 0 }
      c.assign(opts, h)
      return
    }
    if (this.closing) { c.kill(); return }
    c.idle(performance.now())
    this.idleList.push(c)
  }

  /** A used connection got a request: it is written next turn, after pending events on its socket. */
  validate(c: UpstreamConnection): void { // HOT PATH
    this.validating.push(c)
    // ref'd: keeps the loop from blocking in poll with a request waiting (undici #5600)
    if (this.immediate === null) this.immediate = setImmediate(this.flushValidating)
  }

  private readonly flushValidating = (): void => {
    this.immediate = null
    const list = this.validating
    this.validating = this.validatingSpare
    this.validatingSpare = list
    for (let i = 0; i < list.length; i++) { const c = list[i]; if (c.state === VALIDATING) c.write() }
    list.length = 0
  }

  /** A connection closed or left (upgrade): out of the lists; queued dispatches may need a new one. */
  removed(c: UpstreamConnection): void {
    const i = this.conns.indexOf(c)
    if (i >= 0) this.conns.splice(i, 1)
    const j = this.idleList.indexOf(c)
    if (j >= 0) this.idleList.splice(j, 1)
    if (c.connected) for (const l of this.onDisconnectListeners) l()
    this.pump()
  }

  private pump(): void {
    while (this.qHead < this.queue.length && this.conns.length < this.max) {
      const q = this.queue
      const opts = q[this.qHead] as UpstreamDispatch, h = q[this.qHead + 1] as UpstreamHandler
      q[this.qHead] = q[this.qHead + 1] = undefined
      this.qHead += 2
      if (this.qHead === q.length) { q.length = 0; this.qHead = 0 }
      this.open().assign(opts, h)
    }
    if (this.closing && this.closed !== null && this.conns.length === 0 && this.qHead === this.queue.length) { const done = this.closed; this.closed = null; done() }
  }

  emitConnect(): void { for (const l of this.onConnectListeners) l() }

  on(event: 'connect' | 'disconnect', listener: () => void): this {
    (event === 'connect' ? this.onConnectListeners : this.onDisconnectListeners).push(listener)
    return this
  }

  /** Queued and in-flight requests finish; idle sockets close now, busy ones after their exchange. */
  close(): Promise<void> {
    if (this.closedPromise !== null) return this.closedPromise
    this.closing = true
    this.closedPromise = new Promise<void>(resolve => { this.closed = resolve })
    for (const c of [...this.idleList]) c.kill()
    this.pump()
    return this.closedPromise
  }

  /** Every socket closes now: in-flight requests fail, queued ones too. */
  destroy(): Promise<void> {
    this.closing = true
    this.destroyed = true
    const err = new UpstreamError('UND_ERR_DESTROYED', 'The client is destroyed')
    const q = this.queue.slice(this.qHead)
    this.queue.length = 0
    this.qHead = 0
    for (const c of [...this.conns]) { if (c.state !== CLOSED) c.fail(err) }
    for (let i = 0; i < q.length; i += 2) (q[i + 1] as UpstreamHandler).onError(err)
    if (this.closed !== null) { const done = this.closed; this.closed = null; done() }
    return Promise.resolve()
  }
}
