// Builds the stage factories a bundle's generated module is instantiated with. Everything a stage needs is
// resolved here, once per load: upstreams, identity providers, limiters, metric children.
import type { BuildDeps, StageFactories } from '../config/bundle.js'
import type { BundleIR } from '../config/ir.js'
import { createAuthStage } from '../policies/jwt/stage.js'
import { createProxyStage, createRespondStage } from '../policies/proxy/stage.js'
import { createRatelimitStage } from '../policies/ratelimit/stage.js'
import type { OutboundOptions } from './headers.js'
import type { StageEnv } from './stage-env.js'
import type { Upstream } from './upstream/upstream.js'
import { CONTINUE } from './continue.js'


export function createBuildDeps(ir: BundleIR, upstreams: ReadonlyMap<string, Upstream>, env: StageEnv): BuildDeps {
  const outbound: OutboundOptions = { identity: new Set(ir.identityHeaders), via: env.settings.via }
  const authRoutes = new Set(ir.routes.filter(r => r.stages.some(s => s.kind === 'auth')).map(r => r.name))
  const stages: StageFactories = {
    auth: o => createAuthStage(o, env),
    ratelimit: o => createRatelimitStage(o, env),
    headers: () => { throw new Error('headers stages are emitted inline') },
    respond: o => createRespondStage(o),
    proxy: o => createProxyStage(o, { upstreams, outbound, stripAuthorization: authRoutes.has(o.route), failovers: env.metrics.failovers }),
  }
  return { CONTINUE, stages }
}
