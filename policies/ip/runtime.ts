// The runtime half of `ip allow|deny`: registered in runtime/policies.ts. `gwc test` runs the same stage on the
// case's `ip:` address.
import type { RuntimePolicy } from '../../runtime/policy-api.js'
import type { IpOptions } from './options.js'
import { createIpStage } from './stage.js'

export const policy: RuntimePolicy<IpOptions> = { kind: 'ip', create: createIpStage }
