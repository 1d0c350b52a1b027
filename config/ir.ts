// The checked, serialisable IR that gwc lowers a policy set to and the runtime loads from a bundle.
// Plain JSON data only: no syntax, no functions. Both compiler/ and runtime/ import these types.

import type { LocationPart } from './location.js'

/**
 * Bump when the IR or the generated-module contract changes shape; the loader refuses other values. 3: `respond`
 * gained `redirect` (a gw of IR 2 would answer a redirect without its Location).
 */
export const IR_VERSION = 3

/** Where a construct came from, for diagnostics, `gwc routes` and error logs. 1-based line and column. */
export interface SourceSpan {
  file: string
  line: number
  col: number
}

export interface BundleIR {
  irVersion: number
  upstreams: UpstreamIR[]
  /** The policies' top-level declarations (`jwt NAME { … }`, `keys NAME { … }`), checked by their policy. */
  declarations: DeclarationIR[]
  routes: RouteIR[]
  /**
   * Lower-case header names the gateway itself injects (identity claims): removed from every incoming
   * request on every route, public ones included, so a client can never spoof them (the trust boundary).
   */
  identityHeaders: string[]
}

// ── upstreams ──────────────────────────────────────────────────────────────────────────────────────

export type BalanceKind = 'round_robin' | 'least_conn' | 'p2c_ewma' | 'random'
export const BALANCE_KINDS: readonly BalanceKind[] = ['round_robin', 'least_conn', 'p2c_ewma', 'random']

export interface ReplicaIR {
  host: string
  port: number
}

export interface ActiveHealthIR {
  path: string
  intervalMs: number
  timeoutMs: number
  unhealthyAfter: number
  healthyAfter: number
}

export interface PassiveHealthIR {
  /** Consecutive failures (connect errors, resets, 5xx) that eject a replica. */
  ejectAfter: number
  /** How long an ejected replica stays out before it is tried again. */
  ejectMs: number
}

export interface PoolIR {
  /** Max connections per replica. */
  connections: number
  /** Idle keep-alive timeout per connection. */
  idleMs: number
  connectTimeoutMs: number
  /**
   * How long a response may stall on a client that does not read (no 'drain' after a refused write) while it
   * holds one of these connections; then the client response is cut and the connection released.
   */
  sendTimeoutMs: number
}

export interface BreakerIR {
  /** 0..1: share of failed requests in the window that opens the breaker. */
  errorRatio: number
  minRequests: number
  windowMs: number
  openMs: number
  /** Requests let through while half-open; all must succeed to close. */
  halfOpenProbes: number
}

export interface UpstreamIR {
  name: string
  replicas: ReplicaIR[]
  balance: BalanceKind
  health: { active: ActiveHealthIR | null; passive: PassiveHealthIR | null }
  pool: PoolIR
  /** Per-upstream cap on in-flight requests; null = pool size × replicas is the only bound. */
  bulkhead: { maxInFlight: number } | null
  breaker: BreakerIR | null
  source: SourceSpan
}

// ── declarations ────────────────────────────────────────────────────────────────────────────────────

/**
 * A policy's top-level declaration, checked (compiler/policy-api.ts PolicyDeclaration): `kind` is its keyword
 * (`jwt`), `name` its name (declaration names are one namespace), plus the kind's own fields, typed in its folder.
 */
export interface DeclarationIR {
  kind: string
  name: string
  source: SourceSpan
}

// ── routes ─────────────────────────────────────────────────────────────────────────────────────────

export interface MatchIR {
  /**
   * Lower-case hosts without port. `*.example.com` matches any subdomain (not the apex). Empty = any host.
   */
  hosts: string[]
  path: { kind: 'exact' | 'prefix'; value: string }
  /** Upper-case methods; empty = any method. */
  methods: string[]
  /** Optional header condition: present (value null) or equal to value. Name lower-case. */
  header: { name: string; value: string | null } | null
  /**
   * Optional query-parameter condition: present (value null) or equal to value (both percent-decoded, names
   * case-sensitive; config/conditions.ts). Absent from the IR when not written, so older bundles read the same.
   */
  query?: { name: string; value: string | null } | null
  /** Optional cookie condition: present (value null) or equal to value as sent (config/conditions.ts). */
  cookie?: { name: string; value: string | null } | null
}

/**
 * A pipeline stage of a policy kind (compiler/policies.ts): `kind` names the policy, its `stages.<kind>` factory
 * in the generated module and its runtime half (runtime/policies.ts); the other fields are the kind's own, typed
 * in its folder (policies/<kind>/, e.g. RateLimitStageIR). Plain JSON. Adding a kind edits nothing here.
 */
export interface StageIR {
  kind: string
  source: SourceSpan
}

export interface RespondIR {
  kind: 'respond'
  status: number
  body: string
  contentType: string
  headers: { name: string; value: string }[]
  /**
   * `respond redirect STATUS "TARGET"`: the target as written and its checked parts (config/location.ts), filled
   * in per request into the Location header; null for a fixed answer.
   */
  redirect: { target: string; parts: LocationPart[] } | null
  source: SourceSpan
}

export interface RetryIR {
  /** Extra attempts after the first. */
  count: number
  /** 'idempotent': GET/HEAD/OPTIONS/PUT/DELETE/TRACE only; 'idempotency_key': those plus requests with Idempotency-Key; 'all': any method. */
  methods: 'idempotent' | 'idempotency_key' | 'all'
  /** Retries allowed as a share of recent requests to the upstream (0.1 = 10%); null = unbounded. */
  budget: number | null
  /** Deadline for one attempt; null = whatever is left of the route timeout. */
  perTryMs: number | null
  backoffMs: number
}

export interface ProxyTargetIR {
  upstream: string
  /** Relative weight (percent) for weighted/canary routing; a single target has 100. */
  weight: number
}

export interface ProxyIR {
  kind: 'proxy'
  targets: ProxyTargetIR[]
  /** Answer given instead of 503 when the breaker is open or no replica is healthy. */
  fallback: RespondIR | null
  source: SourceSpan
}

/** Static worst case of one route, computed by the compiler (shown by `gwc routes`). */
export interface EnvelopeIR {
  /** Upstream attempts one client request can cause: 1 + retries. */
  maxAttempts: number
  /** Longest a client can wait for the response headers, in ms. */
  worstLatencyMs: number
  /** Upstream requests per client request the retry budget allows in steady state (1 + budget). */
  amplification: number
  /** Where a request goes when its upstream cannot serve it (`gwc routes` FAILOVER). */
  failover: FailoverIR
}

export interface FailoverIR {
  /**
   * A split's upstreams, heaviest first: one that cannot take a request (breaker open, no replica in rotation,
   * bulkhead full) hands it to the next, before anything is sent. Empty without a split.
   */
  upstreams: string[]
  /**
   * Where a retry after a failed attempt goes: `split` another upstream of the split not tried yet, then another
   * replica; `replica` another replica of the same upstream; `none` the route does not retry.
   */
  retry: 'none' | 'replica' | 'split'
}

/**
 * `upgrade PROTOCOL… [max_open N] [idle D] [lifetime D]`: requests on the route asking to switch to one of
 * `protocols` (their `Upgrade` header) become byte tunnels to the upstream once it answers 101
 * (runtime/tunnel/). Without it, gw answers every upgrade with 501.
 */
export interface UpgradeIR {
  /** Lower-case protocol names (tokens, RFC 9110 §7.8), without versions; `websocket` is the one gw knows by name. */
  protocols: string[]
  /** Tunnels of this route open at once (per gateway process); over it, 503. */
  maxOpen: number
  /** A tunnel with no byte either way for this long is closed. */
  idleMs: number
  /** A tunnel is closed this long after it opened, busy or not. */
  lifetimeMs: number
}

export interface RouteIR {
  name: string
  match: MatchIR
  /** Non-terminal stages, in the order the policy lists them (after `use` is expanded). */
  stages: StageIR[]
  terminal: ProxyIR | RespondIR
  /** Hard deadline for the whole request, measured from arrival to response headers. */
  timeoutMs: number
  retry: RetryIR | null
  /** Upgrades the route tunnels (null: none, every upgrade gets 501). Bundles written before it have no field: read as null. */
  upgrade: UpgradeIR | null
  /** Max request body bytes; larger bodies get 413. */
  maxBodyBytes: number
  envelope: EnvelopeIR
  source: SourceSpan
  /**
   * Request credentials the route's stages consume (CompilePolicy.consumes: an `auth` route's Authorization, an
   * API key's header or query parameter), removed before the request goes upstream. Absent when none.
   */
  consumes?: { headers: string[]; query: string[] }
}

/** Methods whose retry cannot change server state twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']
