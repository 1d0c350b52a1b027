// What the generated module passes to `stages.ip(…)`. Shared by both halves of the policy.
import type { StageOptionsBase } from '../../config/stage.js'

export interface IpOptions extends StageOptionsBase {
  /** `allow`: only clients in `entries` pass; `deny`: clients in `entries` are refused. Both refuse an unreadable address. */
  mode: 'allow' | 'deny'
  /**
   * Canonical CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`): host bits clear, IPv4-mapped IPv6 ranges written as the
   * IPv4 range they map. Checked by the compiler; the runtime refuses the bundle if one does not parse.
   */
  entries: string[]
}
