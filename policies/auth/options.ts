// What the generated module passes to `stages.auth(…)`: the route, the provider (declared by `jwt NAME { … }`,
// carried whole in the bundle's IR) and the audience the route accepts. Shared by both halves of the policy.
import type { StageOptionsBase } from '../../config/stage.js'

export interface AuthOptions extends StageOptionsBase {
  provider: string
  audience: string[]
}
