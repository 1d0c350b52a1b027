// HTTP facts both the compiler (to reject bad header names in policies) and the runtime (to filter headers)
// rely on, kept in one place so they cannot disagree.

/** RFC 9110 §5.6.2 token: what a header name or method may contain. */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Header values may hold visible ASCII, spaces and tabs, and obs-text; never CR, LF or NUL. */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones proxies still see): meaningful for one
 * connection only, never forwarded in either direction. Lower-case.
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authenticate', 'proxy-authorization',
])

/**
 * Request headers the gateway sets itself on every upstream request (runtime/headers.ts): a client's copies
 * are dropped, or extended when the peer is a trusted proxy. Lower-case.
 */
export const GATEWAY_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'x-request-id', 'traceparent', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'expect', 'via',
])

/**
 * Request headers a verified claim may not be forwarded as (`jwt … forward claim C as H`): those the gateway
 * sets upstream, framing and hop-by-hop ones, and the client's own target and credentials. Lower-case.
 */
export const NOT_IDENTITY_HEADERS: ReadonlySet<string> = new Set([
  ...GATEWAY_REQUEST_HEADERS, ...HOP_BY_HOP, 'content-length', 'host', 'authorization', 'cookie',
])

/** Headers a policy may not set or remove: the gateway owns framing and hop-by-hop semantics. */
export const GATEWAY_OWNED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'content-length', 'x-request-id', 'traceparent', 'server-timing'])

/** Standard methods (RFC 9110 §9 plus PATCH); a policy naming another method is most likely a typo. */
export const METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']

/** Methods whose effect is the same however many times they are sent (RFC 9110 §9.2.2). */
export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/** A DNS host name (lower-case, no port, no trailing dot). */
export const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** A Host header value: a DNS name (trailing dot allowed), IPv4 or bracketed IPv6, with an optional port. */
export const HOST_HEADER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-_]*[A-Za-z0-9])?\.?)(?::\d{1,5})?$/
