// The runtime half of `auth` (JWT bearer tokens against a `jwt NAME { … }` provider): registered in
// runtime/policies.ts. The stage itself is in stage.ts, the provider's key cache in jwks.ts.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { AuthOptions } from './options.js'
import { createAuthStage, createOfflineAuthStage } from './stage.js'

export const policy: RuntimePolicy<AuthOptions> = {
  kind: 'auth',
  create: createAuthStage,
  offline: createOfflineAuthStage,
}
