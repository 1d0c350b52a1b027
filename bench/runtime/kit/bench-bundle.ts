// bench/runtime/kit/bench-bundle.ts: the benchmark topology (examples/bench.gwp, 64 routes) compiled and
// instantiated the way the gateway does it — gwc's compile + buildBundle, verifyBundle, instantiateBundle —
// with the gateway's own stage build (runtime/stages.ts) except for the upstream call: a proxy stage that
// records instead of dispatching. Auth's verified-token cache is filled in setup (real ES256 tokens, verified once against a
// loopback JWKS), so a timed auth stage is a cache hit. Also the route table and the sidecar's requests.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { compile } from '../../../compiler/compile.js'
import { buildBundle } from '../../../compiler/bundle.js'
import { memoryHost } from '../../../compiler/sources.js'
import { verifyBundle } from '../../../config/bundle.js'
import type { BundleIR } from '../../../config/ir.js'
import type { TerminalStage } from '../../../config/stage.js'
import { providerKey, type JwtProvider } from '../../../policies/auth/stage.js'
import type { JwtProviderIR } from '../../../policies/auth/options.js'
import { instantiateBundle } from '../../../runtime/bundle-loader.js'
import type { RequestContext } from '../../../runtime/context.js'
import { upstreamRequestHeaders, type OutboundOptions } from '../../../runtime/headers.js'
import type { RouteRuntime } from '../../../runtime/route-runtime.js'
import { Router } from '../../../runtime/router.js'
import { createBuildDeps } from '../../../runtime/stages.js'
import { readSidecar, type Sidecar } from '../../../testkit/topology/sidecar.js'
import { repoFile } from './paths.js'
import { createBenchEnv, startLoopbackIdp, type BenchEnv } from './stage-env.js'

export const BENCH_GWP = 'examples/bench.gwp'
export const BENCH_SIDECAR = 'examples/bench.topology.json'

/** What the recording proxy stage saw. */
export interface ProxyRecorder {
  calls: number
  last: RequestContext | null
  /** Build the upstream header list as the real proxy does before dispatching (off by default). */
  buildHeaders: boolean
  headers: string[] | null
}

export interface BenchBundle {
  ir: BundleIR
  sidecar: Sidecar
  routes: RouteRuntime[]
  route(name: string): RouteRuntime
  /** The gateway's route table over the 64 routes (values: the routes above). */
  router: Router<RouteRuntime>
  proxy: ProxyRecorder
  outbound: OutboundOptions
  /** Verified and cached tokens, one per user (distinct `sub`), audience bench-api. */
  tokens: string[]
  env: BenchEnv
  /** Stops the background timers the stages started (JWKS refresh, limiter sweeps). */
  stop(): void
}

/** The sidecar's `request` of a route, and its identity-bearing variant for auth routes. */
export function sidecarRequest(s: Sidecar, name: string): Sidecar['routes'][number]['request'] {
  const r = s.routes.find(x => x.name === name)
  if (r === undefined) throw new Error(`${BENCH_SIDECAR} has no route ${JSON.stringify(name)}`)
  return r.request
}

/** `tokens` distinct users: enough that no per-user or per-ip limit of the topology trips at benchmark rates. */
export async function loadBenchBundle(o: { tokens?: number } = {}): Promise<BenchBundle> {
  const idp = await startLoopbackIdp()
  try {
    const sidecar = readSidecar(repoFile(BENCH_SIDECAR))
    // The topology names its IdP at 127.0.0.1:9100 (bench/idp in the load tests); point it at ours instead.
    const gwp = readFileSync(repoFile(BENCH_GWP), 'utf8').replaceAll(sidecar.idp.issuer, idp.origin)
    const compiled = compile(['bench.gwp'], { host: memoryHost({ 'bench.gwp': gwp }) })
    if (compiled.ir === undefined || compiled.diagnostics.some(d => d.severity === 'error')) {
      throw new Error(`${BENCH_GWP} does not compile: ${compiled.diagnostics.map(d => `${d.code} ${d.message}`).join('; ')}`)
    }
    const built = buildBundle(compiled.ir, compiled.sources)
    const manifest = verifyBundle(built.manifestText, built.moduleText)
    const ir = manifest.ir
    const env = createBenchEnv(ir)
    const outbound: OutboundOptions = { identity: new Set(ir.identityHeaders), via: env.settings.via }
    const proxy: ProxyRecorder = { calls: 0, last: null, buildHeaders: false, headers: null }
    const deps = createBuildDeps(ir, env, {
      proxy: (_o, route) => ((ctx: RequestContext) => { // stands in for proxyRequest: no upstream, no I/O
        proxy.calls++
        proxy.last = ctx
        if (proxy.buildHeaders) proxy.headers = upstreamRequestHeaders(ctx, route.outbound, route.stripHeaders)
        return undefined
      }) as TerminalStage,
    })
    const loaded = instantiateBundle(manifest, built.moduleText, deps)
    await Promise.all(env.warmups) // the first JWKS fetch
    const routes: RouteRuntime[] = ir.routes.map((r, i) => ({
      index: i, name: r.name, ir: r, handler: loaded.handlers[i], timeoutMs: r.timeoutMs, maxBodyBytes: r.maxBodyBytes,
      metrics: env.gatewayMetrics.route(r.name),
    }))
    const router = new Router(ir.routes.map(r => r.match), routes)

    const provider = env.sharedState.get(providerKey(ir.declarations.find(d => d.kind === 'jwt') as JwtProviderIR)) as JwtProvider
    const tokens = await Promise.all(Array.from({ length: o.tokens ?? 512 }, (_, i) => idp.sign(`user-${i}`, sidecar.idp.audience)))
    // cached under the Authorization header value, as the gateway's auth stage does
    for (const t of tokens) assert.notEqual(await provider.verify(t, `Bearer ${t}`), null, 'a bench token does not verify')
    assert.ok(provider.cached(`Bearer ${tokens[0]}`, Date.now()) !== undefined, 'verified tokens are cached')

    return {
      ir, sidecar, routes, router, proxy, outbound, tokens, env,
      route(name) {
        const r = routes.find(x => x.name === name)
        if (r === undefined) throw new Error(`no route ${JSON.stringify(name)} in ${BENCH_GWP}`)
        return r
      },
      stop() { for (const v of env.sharedState.values()) (v as { stop?: () => void }).stop?.() },
    }
  } finally {
    await idp.close() // keys are cached; a refresh (minutes away) would fail quietly and keep them
  }
}

/** Distinct client addresses (198.18.0.0/15, the benchmarking range), one per token. */
export const clientIp = (i: number): string => `198.18.${(i >> 8) & 255}.${i & 255}`
