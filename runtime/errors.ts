// Runtime errors and the one place they map to a client-facing status and body. Clients get a small JSON
// body with the request id; the log gets the full error. The codes are a closed set: a refusal names a key
// of ERROR_REPLIES, so a code that is not in the table does not compile.

/**
 * What the client is told, by error code. The body never says more than the error class. Every answer the
 * gateway makes itself (stage replies, upstream failures, the server's raw socket refusals) goes through it.
 */
export const ERROR_REPLIES = {
  GW_ERR_NO_ROUTE: { status: 404, error: 'no_route' },
  GW_ERR_BAD_REQUEST: { status: 400, error: 'bad_request' },
  GW_ERR_HEADERS_TOO_LARGE: { status: 431, error: 'headers_too_large' },
  GW_ERR_BODY_TOO_LARGE: { status: 413, error: 'payload_too_large' },
  GW_ERR_REQUEST_TIMEOUT: { status: 408, error: 'request_timeout' },
  GW_ERR_UNAUTHORIZED: { status: 401, error: 'unauthorized' },
  GW_ERR_FORBIDDEN: { status: 403, error: 'forbidden' },
  GW_ERR_RATE_LIMITED: { status: 429, error: 'rate_limited' },
  GW_ERR_UPSTREAM_UNAVAILABLE: { status: 503, error: 'upstream_unavailable' },
  GW_ERR_UPSTREAM_TIMEOUT: { status: 504, error: 'upstream_timeout' },
  GW_ERR_BAD_GATEWAY: { status: 502, error: 'bad_gateway' },
  GW_ERR_POOL_EXHAUSTED: { status: 503, error: 'upstream_pool_exhausted' },
  GW_ERR_UPGRADE_NOT_SUPPORTED: { status: 501, error: 'upgrade_not_supported' },
  /** The route's `upgrade … max_open N` tunnels are all open (runtime/tunnel/). */
  GW_ERR_TUNNELS_FULL: { status: 503, error: 'tunnels_full' },
  GW_ERR_METHOD_NOT_ALLOWED: { status: 405, error: 'method_not_allowed' },
  GW_ERR_TRANSFER_CODING: { status: 501, error: 'unsupported_transfer_coding' },
  GW_ERR_TOO_MANY_HEADERS: { status: 431, error: 'too_many_headers' },
  /** An HTTP/1.1 `Expect` other than `100-continue` (RFC 9110 §10.1.1): the only expectation the gateway meets. */
  GW_ERR_EXPECTATION_FAILED: { status: 417, error: 'expectation_failed' },
  GW_ERR_AUTH_UNAVAILABLE: { status: 503, error: 'auth_unavailable' },
  GW_ERR_RATELIMIT_UNAVAILABLE: { status: 503, error: 'rate_limit_unavailable' },
  GW_ERR_INTERNAL: { status: 500, error: 'internal_error' },
} as const satisfies { readonly [code: `GW_ERR_${string}`]: { readonly status: number; readonly error: string } }

/** Every code a request can be refused or failed with by the gateway itself. */
export type RefusalCode = keyof typeof ERROR_REPLIES

/** The JSON body of a gateway-made error answer: the error class and the request id, nothing more. */
export const errorBody = (code: RefusalCode, requestId: string): string => // HOT PATH
  `{"error":"${ERROR_REPLIES[code].error}","request_id":"${requestId}"}`

export class GatewayError extends Error {
  constructor(readonly code: RefusalCode, message: string, options?: { cause?: unknown }) { super(message, options) }
}
