// The per-request context: one fixed-shape object per request, created by the server and passed through the
// route's generated handler. It implements the interface stages program against (config/context.ts, where the
// slots stages write are declared with the stage that writes them) and holds what the gateway keeps besides.
import type { IdentityHeader, RequestContext as StageContext, RequestState as StageState } from '../config/context.js'
import type { EdgeRequest, EdgeResponse } from './edge.js'
import type { HeadPlan } from './head-plan.js'
import type { RefusalCode } from './errors.js'
import type { TraceContext } from './ids.js'
import type { RouteRuntime } from './route-runtime.js'
import type { TunnelRequest } from './tunnel/tunnels.js'

/** Data stages hand to later stages (the slots are declared, with their writers, in config/context.ts). */
export class RequestState implements StageState {
  claims: Record<string, unknown> | null = null
  identity: IdentityHeader[] | null = null
  consumer: string | null = null
}

/** The context stages see (config/context.ts) plus what the gateway keeps per request. */
export class RequestContext implements StageContext {
  /** performance.now() at arrival. */
  readonly start: number
  readonly state = new RequestState()
  /** Request id: the client's when sane, else generated (runtime/ids.ts). */
  id = ''
  trace: TraceContext | null = null
  /** This hop's span id in the trace. */
  spanId = ''
  /** Lower-case host without port. */
  host = ''
  /** Normalised path, without the query. */
  path = ''
  /** `?…` or ''. */
  query = ''
  /** Path and query sent upstream: readHead sets `path + query`, `setUpstreamPath` replaces it. */
  upstreamPath = ''
  /** The client's address as the gateway trusts it (X-Forwarded-For only through trusted proxies). */
  clientIp = ''
  /** The peer is a trusted proxy (its X-Forwarded-* are extended rather than replaced). */
  peerTrusted = false
  /** Request carries a body (Content-Length > 0 or chunked). */
  hasBody = false
  /** Client sent `Expect: 100-continue`: the proxy sends 100 only once the pipeline lets the request through. */
  expectContinue = false
  route: RouteRuntime | null = null
  /** performance.now() by which response headers must be on their way (route timeout). */
  deadline = 0
  /**
   * The route's `headers request` edits so far, compiled (runtime/head-plan.ts): set by the generated code
   * (requestPlan), applied before `reqEdits`. Null: the route edits no request header (or not yet).
   */
  reqPlan: HeadPlan | null = null
  /** The route's `headers response` edits so far, compiled; applied before `resEdits`. */
  resPlan: HeadPlan | null = null
  /**
   * Header edits stages record per request (setRequestHeader & co.: `rewrite`'s upstream Host, and a `headers`
   * stage that runs after one of those): flat [name, value|null] pairs (null = remove), applied after `reqPlan`.
   */
  reqEdits: (string | null)[] | null = null
  /** Response edits recorded per request (`cors`), after `resPlan`; an add (addResponseHeader) is the triple [null, name, value]. */
  resEdits: (string | null)[] | null = null
  /** Upstream time to response headers, ms (Server-Timing), -1 if none. */
  upstreamMs = -1
  /** Upstream and replica of the last attempt (answered or not), for the access log. */
  upstreamName = ''
  upstreamAddr = ''
  /** Upstream attempts made. */
  attempts = 0
  /** Final status sent, for logs and metrics. */
  status = 0
  /** The refusal code the gateway answered with (runtime/errors.ts), for logs; undefined when it did not answer itself. */
  errorCode: RefusalCode | undefined = undefined
  /**
   * Free text saying why a request was refused or ended abnormally, for logs and the rejected-requests metric:
   * the malformation readHead found (`bad_host`), or why a response was cut short (`client_aborted`, `reset`,
   * `client_send_timeout`, `internal`). '' when there is nothing to say.
   */
  reason = ''
  /** The upstream exchange in progress, told when the client goes away (one 'close' listener per request). */
  upstream: { clientGone(): void } | null = null
  /**
   * Set by Gateway.handleUpgrade on a request asking for an upgrade the route allows: the `proxy` terminal
   * opens a tunnel with it (runtime/tunnel/) instead of forwarding. Null for every other request.
   */
  tunnel: TunnelRequest | null = null
  /** The bundle snapshot serving this request (it stays alive until the request is done). */
  snapshot: unknown = null

  constructor(readonly req: EdgeRequest, readonly res: EdgeResponse, now: number) {
    this.start = now
  }

  /**
   * A `headers request` stage ran (generated code): `p` is the plan of the route's request edits up to it. While
   * no edit was recorded per request it replaces the plan (one assignment, HOT PATH); after one, the stage's own
   * edits are recorded behind it, so the order of the route's stages still decides (a later set wins).
   */
  requestPlan(p: HeadPlan): void {
    if (this.reqEdits === null) this.reqPlan = p
    else for (let i = 0; i < p.edits.length; i++) this.reqEdits.push(p.edits[i])
  }
  /** A `headers response` stage ran: as requestPlan. */
  responsePlan(p: HeadPlan): void {
    if (this.resEdits === null) this.resPlan = p
    else for (let i = 0; i < p.edits.length; i++) this.resEdits.push(p.edits[i])
  }
  setRequestHeader(name: string, value: string): void { (this.reqEdits ??= []).push(name, value) }
  removeRequestHeader(name: string): void { (this.reqEdits ??= []).push(name, null) }
  setResponseHeader(name: string, value: string): void { (this.resEdits ??= []).push(name, value) }
  removeResponseHeader(name: string): void { (this.resEdits ??= []).push(name, null) }
  addResponseHeader(name: string, value: string): void { (this.resEdits ??= []).push(null, name, value) }
  setUpstreamPath(pathAndQuery: string): void { this.upstreamPath = pathAndQuery }
  // No Host edit means the client's Host passes through; removing it makes undici send the replica's host:port.
  setUpstreamHost(host: string | null): void { (this.reqEdits ??= []).push('host', host) }
}
