// The options of a `cors` stage: what the compiler checked (policies/cors/check.ts) and the generated module passes
// to `stages.cors(…)` once, at load. Shared by both halves; types only.
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
