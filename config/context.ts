// The per-request context as stages see it: the request, where the gateway routed it, the typed slots stages
// hand to later stages, and the header edits of `headers` stages. runtime/context.ts implements it.
import type { IncomingHttpHeaders } from 'node:http'

/** An identity header the proxy injects from verified claims. */
export interface IdentityHeader { header: string; value: string }

/** Data stages hand to later stages. Each slot names the stage that writes it. */
export interface RequestState {
  /** Verified JWT claims (policies/auth: `auth`). */
  claims: Record<string, unknown> | null
  /** Headers to inject upstream from those claims, per the provider's `forward` list (policies/auth: `auth`). */
  identity: IdentityHeader[] | null
  /** The consumer id of the verified API key (policies/auth: `auth` with a `keys` provider). */
  consumer: string | null
}

/**
 * The client request as stages may read it (runtime/edge.ts's EdgeRequest, which either engine serves, is a
 * superset): method, target, headers, and the connection's address.
 */
export interface StageRequest {
  readonly method?: string
  readonly url?: string
  readonly headers: IncomingHttpHeaders
  /** [name, value, name, value, …] as received. */
  readonly rawHeaders: string[]
  readonly socket: { readonly remoteAddress?: string; readonly encrypted?: boolean }
}

export interface RequestContext {
  readonly req: StageRequest
  readonly state: RequestState
  /** Request id: the client's when sane, else generated. */
  readonly id: string
  /** Lower-case host without port. */
  readonly host: string
  /** Normalised path, without the query. */
  readonly path: string
  /** `?…` or ''. */
  readonly query: string
  /** The client's address as the gateway trusts it (X-Forwarded-For only through trusted proxies). */
  readonly clientIp: string
  /** The peer is a trusted proxy (`--trusted-proxies`): its X-Forwarded-* headers may be believed. */
  readonly peerTrusted: boolean
  /**
   * The path and query the proxy sends upstream: the normalised path plus the query as received, until a stage
   * calls `setUpstreamPath` (policies/rewrite: `rewrite`). Always starts with `/`.
   */
  readonly upstreamPath: string
  /** performance.now() by which response headers must be on their way (route timeout): bound a stage's waits by it. */
  readonly deadline: number
  /** Header edits (`headers request|response set|remove`), applied in order when the request is forwarded / the response written. */
  setRequestHeader(name: string, value: string): void
  removeRequestHeader(name: string): void
  setResponseHeader(name: string, value: string): void
  removeResponseHeader(name: string): void
  /**
   * Adds a field line to the answer (the upstream's or one the gateway makes), keeping the lines of that name it
   * already has: for list-valued fields such as `Vary`, where a set would drop the upstream's own values.
   */
  addResponseHeader(name: string, value: string): void
  /**
   * Replaces the path and query sent upstream (`ctx.path`, which routing used, is unchanged). The caller
   * guarantees `pathAndQuery` is in normal form (config/path.ts) and starts with `/`: the proxy sends it as is.
   */
  setUpstreamPath(pathAndQuery: string): void
  /**
   * The upstream `Host`: a fixed value, or null for the replica's own `host:port`. Not called: the client's Host
   * passes through (the default). Recorded as a request header edit, so it costs nothing on routes that do not call it.
   */
  setUpstreamHost(host: string | null): void
}
