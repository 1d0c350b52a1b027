// The runtime's policy registry: one line per policy kind. The only runtime module that imports policies/;
// the stage build (stages.ts) makes `stages.<kind>` from it, and a bundle naming a kind not listed here is
// refused at load.
import type { StageOptionsBase } from '../config/stage.js'
import type { RuntimePolicy } from './policy-api.js'
import { policy as auth } from '../policies/auth/runtime.js'
import { policy as cors } from '../policies/cors/runtime.js'
import { policy as headers } from '../policies/headers/runtime.js'
import { policy as ratelimit } from '../policies/ratelimit/runtime.js'
import { policy as ip } from '../policies/ip/runtime.js'
import { policy as redirect } from '../policies/redirect/runtime.js'
import { policy as rewrite } from '../policies/rewrite/runtime.js'

/** The stage kinds that are the core's, not a policy's: a route's terminal stage. */
export const CORE_STAGES: readonly string[] = ['proxy', 'respond']

function registry(list: readonly RuntimePolicy<StageOptionsBase>[]): ReadonlyMap<string, RuntimePolicy<StageOptionsBase>> {
  const m = new Map<string, RuntimePolicy<StageOptionsBase>>()
  for (const p of list) {
    if (m.has(p.kind) || CORE_STAGES.includes(p.kind)) throw new Error(`runtime/policies.ts: stage kind ${JSON.stringify(p.kind)} is registered twice`)
    m.set(p.kind, p)
  }
  return m
}

/** Runtime halves of the policies, by kind. */
export const POLICIES = registry([auth, ratelimit, headers, cors, ip, rewrite, redirect])
