// The catalogue of diagnostic codes: each code's one-line meaning. It is a closed set: `Diagnostic.code` is
// typed by it, so a producer (grammar/, compiler/, the YAML front end, a policy's check) cannot emit a code
// that is not listed here. It lives beside the Diagnostic type because grammar/ imports nothing of compiler/.
// docs/language.md explains each with an example, and every code has a golden test under test/golden/.
// Codes are stable: never reuse a retired one. E codes are errors, W codes warnings.

export const CODES = {
  // syntax (grammar/)
  E0001: 'unexpected character',
  E0002: 'syntax error',
  E0003: 'unterminated string',
  E0004: 'invalid escape in a string',
  // declarations
  E0101: 'duplicate declaration',
  E0102: 'statement given twice',
  E0103: 'option given twice',
  E0104: 'required statement missing',
  // references
  E0201: 'unknown upstream',
  E0202: 'unknown provider',
  E0203: 'unknown policy',
  E0204: 'policy uses itself',
  E0205: 'unknown option',
  E0206: 'unknown value',
  // values
  E0301: 'wrong kind of value',
  E0302: 'unknown unit',
  E0303: 'value out of range',
  E0304: 'number without a unit',
  E0305: 'bad host:port',
  E0306: 'malformed string value',
  E0307: 'option needs a value, or takes none',
  E0308: 'proxy weights do not add up to 100%',
  E0309: 'path written as a pattern',
  // pipeline
  E0401: 'route without a terminal stage',
  E0402: 'stage after the terminal stage',
  E0403: 'a stage before the stage that provides what it needs',
  E0404: 'statement not allowed here',
  E0405: 'upstream without replicas',
  E0406: 'retries cannot complete within the route timeout',
  // auth (policies/auth)
  E0450: 'API key read from two places',
  E0451: 'audience on an auth that accepts only API keys',
  E0452: 'provider named twice in one auth',
  E0453: 'keys from two stores',
  // cors (policies/cors): E0470–E0489
  E0470: 'malformed CORS origin',
  E0471: 'bad wildcard in a CORS origin',
  E0472: 'CORS credentials with any origin',
  E0473: 'CORS value listed twice',
  E0474: 'CORS max_age out of range',
  E0475: 'not an HTTP method',
  E0476: 'wildcard CORS header',
  E0477: 'cors is not the first stage',
  E0478: 'cors without origins',
  E0479: 'any-origin `*` listed with other origins',
  // rewrites and redirects (policies/rewrite, `respond redirect`): E0490–E0499
  E0490: 'bad rewrite prefix',
  E0491: 'bad rewrite pattern',
  E0492: 'rewrite pattern outside the safe subset',
  E0493: 'bad rewrite replacement',
  E0494: 'bad upstream host',
  E0495: 'bad redirect status',
  E0496: 'unknown placeholder in a redirect target',
  E0497: 'redirect target can leave the site',
  E0498: 'malformed redirect target',
  // routing
  E0501: 'two routes match the same requests',
  E0502: 'route shadowed by another',
  E0503: 'route can never match',
  // IP allow/deny lists (policies/ip/)
  E0510: 'not an IP address or CIDR range',
  E0511: 'CIDR prefix length out of range',
  E0512: 'IP rules that refuse every client',
  // upgrades and tunnels (`upgrade`, compiler/check/upgrade.ts): E0520–E0529, W0790–W0799
  E0520: 'upgrade on a route that does not proxy',
  E0521: 'protocol that cannot be tunnelled',
  // includes
  E0601: 'include cycle',
  E0602: 'cannot read file',
  // lints (warnings)
  W0701: 'expensive stage before a cheaper reject',
  W0702: 'retries on non-idempotent requests',
  W0703: 'retry that can never fire',
  W0704: 'route without a timeout',
  W0705: 'JWKS without a refresh interval',
  W0706: 'rate limit keyed on a header the client controls',
  W0707: 'retries without a budget',
  W0708: 'retries to an upstream without a breaker',
  W0709: 'declared but never used',
  W0710: 'retries without a per-try timeout',
  W0711: 'name written in a non-canonical case',
  W0750: 'API key in a query parameter',
  // cors (policies/cors): W0760–W0769
  W0760: 'CORS origin `null` listed',
  W0761: 'CORS max_age longer than browsers keep a preflight',
  W0762: 'CORS origin already covered by a wildcard',
  // ip (policies/ip): W0780–W0789
  W0780: 'CIDR range with host bits set',
  W0781: 'IP list entry covered by another entry of the same list',
  W0782: 'IP list entry made dead by the route\'s other IP list',
  W0790: 'tunnel idle timeout that never fires',
  W0791: 'WebSocket upgrade on a route that takes no GET',
  // rewrites and redirects: W0770–W0779
  W0770: 'rewrite prefix does not cover the route',
} as const satisfies Record<`${'E' | 'W'}0${number}`, string>

/** Every diagnostic code there is. */
export type DiagnosticCode = keyof typeof CODES
/** Codes `Diagnostics.error` takes: the E codes. */
export type ErrorCode = Extract<DiagnosticCode, `E${string}`>
/** Codes `Diagnostics.warn` takes: the W (lint) codes. */
export type WarningCode = Extract<DiagnosticCode, `W${string}`>

/** For input that is not typed (a JSON diagnostic read back): is this a catalogue code? */
export const isDiagnosticCode = (c: string): c is DiagnosticCode => Object.hasOwn(CODES, c)
