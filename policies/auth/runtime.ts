// The runtime half of `auth`: registered in runtime/policies.ts. A route's `auth` names one provider, or several
// (`auth idp or partners`): a `jwt` provider's stage is stage.ts (its key cache jwks.ts), a `keys` provider's
// keys-stage.ts. With several, the first provider (in the order the route names them) whose credential the
// request presents decides, accepting or refusing it; the others are not consulted. A request presenting none
// gets the first provider's 401.
import type { RequestContext } from '../../config/context.js'
import type { Stage } from '../../config/stage.js'
import type { StageEnv } from '../../config/stage-env.js'
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import { createKeysStage, createOfflineKeysStage, keyReader } from './keys-stage.js'
import type { AuthOptions, ProviderIR } from './options.js'
import { createAuthStage, createOfflineAuthStage } from './stage.js'

function providerOf(route: string, name: string, env: StageEnv): ProviderIR {
  const p = env.declarations.get(name) as ProviderIR | undefined
  if (p === undefined || (p.kind !== 'jwt' && p.kind !== 'keys')) throw new Error(`auth of route ${JSON.stringify(route)} names unknown provider ${JSON.stringify(name)}`)
  return p
}

/** Whether a request presents a provider's credential at all (valid or not). */
function presenter(p: ProviderIR): (ctx: RequestContext) => boolean {
  if (p.kind === 'jwt') return ctx => ctx.req.headers.authorization !== undefined
  const read = keyReader(p)
  return ctx => read(ctx) !== undefined
}

function create(o: AuthOptions, env: StageEnv, offline: boolean): Stage {
  const one = (name: string): Stage => {
    const p = providerOf(o.route, name, env)
    if (p.kind === 'keys') return offline ? createOfflineKeysStage(o.route, p, env) : createKeysStage(o.route, p, env)
    const jo: AuthOptions = { route: o.route, provider: name, audience: o.audience }
    return offline ? createOfflineAuthStage(jo, env) : createAuthStage(jo, env)
  }
  if (o.or === undefined || o.or.length === 0) return one(o.provider)
  const names = [o.provider, ...o.or]
  const presents = names.map(n => presenter(providerOf(o.route, n, env)))
  const stages = names.map(one)
  const first = stages[0]
  return function auth(ctx) { // HOT PATH
    for (let i = 0; i < stages.length; i++) if (presents[i](ctx)) return stages[i](ctx)
    return first(ctx) // presents nothing: the first provider's refusal (it counts the 401)
  }
}

export const policy: RuntimePolicy<AuthOptions> = {
  kind: 'auth',
  create: (o, env) => create(o, env, false),
  offline: (o, env) => create(o, env, true),
}
