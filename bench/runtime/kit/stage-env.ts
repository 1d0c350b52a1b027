// bench/runtime/kit/stage-env.ts: what the real stage factories need to run in a benchmark process — a
// StageEnv with fresh metrics, a logger writing to /dev/null, and shared state kept in a plain Map — plus a
// loopback JWKS endpoint and token signer, so `auth` verifies real tokens once in setup and every timed
// call is a verified-token cache hit (the mock IdP of testkit/idp). Setup only: nothing here is timed.
import { startIdp } from '../../../testkit/idp/index.js'
import type { BundleIR } from '../../../config/ir.js'
import { DEFAULT_SETTINGS, type Settings } from '../../../config/settings.js'
import { createLogger } from '../../../runtime/access-log.js'
import { GatewayMetrics } from '../../../runtime/metrics.js'
import { createStageEnv, type StageEnv } from '../../../runtime/stage-env.js'

export interface BenchEnv extends StageEnv {
  /** The shared-state map behind `shared()`, so a bench can reach a provider or limiter it set up. */
  sharedState: Map<string, unknown>
  /** The registry behind `metrics`. */
  gatewayMetrics: GatewayMetrics
}

export function benchSettings(over: Partial<Settings> = {}): Settings {
  return { ...DEFAULT_SETTINGS, logDestination: '/dev/null', logLevel: 'warn', accessLog: false, ...over }
}

export function createBenchEnv(ir: Pick<BundleIR, 'declarations' | 'identityHeaders'>, settings: Settings = benchSettings()): BenchEnv {
  const sharedState = new Map<string, unknown>()
  const gatewayMetrics = new GatewayMetrics({ defaultMetrics: false })
  const env = createStageEnv(ir, {
    settings,
    metrics: gatewayMetrics,
    log: createLogger(settings),
    redis: null,
    shared<T>(key: string, create: () => T): T {
      if (!sharedState.has(key)) sharedState.set(key, create())
      return sharedState.get(key) as T
    },
  })
  return { ...env, sharedState, gatewayMetrics }
}

/** A one-key (ES256) identity provider on 127.0.0.1, port 0 (testkit/idp): serves the JWKS and signs tokens in-process. */
export interface LoopbackIdp {
  /** `http://127.0.0.1:<port>/`: use it as both issuer and JWKS origin. */
  origin: string
  jwksUrl: string
  /** A token for `sub` (tid claim `tenant-1`), audience `aud`, valid for an hour. */
  sign(sub: string, aud: string): Promise<string>
  close(): Promise<void>
}

export async function startLoopbackIdp(): Promise<LoopbackIdp> {
  const idp = await startIdp({ algorithms: ['ES256'], admin: false })
  return {
    origin: idp.issuer,
    jwksUrl: idp.jwksUrl,
    sign: (sub, aud) => idp.sign({ tid: 'tenant-1' }, { subject: sub, audience: aud, expiresIn: 3600 }),
    close: () => idp.close(),
  }
}
