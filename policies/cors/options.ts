// The options of a `cors` stage: what the compiler checked (policies/cors/check.ts) and the generated module passes
// to `stages.cors(…)` once, at load. Shared by both halves, as is the one definition of what a wildcard origin
// `https://*.example.com` covers (the checker's W0762 and `gwc explain` apply the rule the stage applies).
import type { StageOptionsBase } from '../../config/stage.js'

export interface CorsOptions extends StageOptionsBase {
  /**
   * Exact origins as browsers serialise them (`https://app.example.com`, `http://127.0.0.1:8080`, `null` only when
   * listed): lower-case scheme and host, no default port. `['*']` alone: any origin (never with credentials).
   */
  origins: string[]
  /** Wildcard origins `https://*.example.com[:port]`: the `*` stands for one or more whole labels. */
  wildcards: string[]
  /** Methods a preflight may ask for (upper-case). */
  methods: string[]
  /** Request headers a preflight may ask for (lower-case). */
  headers: string[]
  /** Response headers the browser lets the page read (Access-Control-Expose-Headers). */
  expose: string[]
  /** Access-Control-Allow-Credentials: true (cookies, client certificates, Authorization). */
  credentials: boolean
  /** Access-Control-Max-Age in seconds, or null to leave it to the browser (5 s). */
  maxAgeS: number | null
}

/** The part of a wildcard origin before and after its `*`: `https://` and `.example.com` (with `:port` if given). */
export interface Wildcard { prefix: string; suffix: string }

export function splitWildcard(w: string): Wildcard {
  const i = w.indexOf('*')
  return { prefix: w.slice(0, i), suffix: w.slice(i + 1) }
}

/**
 * Whether `origin` is `prefix` + one or more DNS labels + `suffix` (the suffix starts with the `.` before the
 * named domain, so `https://evilexample.com` and `https://example.com.evil.test` never match `*.example.com`).
 * The labels are lower-case letters, digits and `-`, none empty: anything else (`:`, `/`, `,` of a joined
 * duplicate header, `@`, upper case) is not a serialised origin a browser sends. HOT PATH: no allocation.
 */
export function matchesWildcard(origin: string, w: Wildcard): boolean {
  const end = origin.length - w.suffix.length
  if (end <= w.prefix.length || !origin.startsWith(w.prefix) || !origin.endsWith(w.suffix)) return false
  let prev = 46 // '.': the first label may not be empty
  for (let i = w.prefix.length; i < end; i++) {
    const c = origin.charCodeAt(i)
    if (c === 46) { if (prev === 46) return false }
    else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false
    prev = c
  }
  return prev !== 46
}
