// The options of a `redirect https` stage, shared by both halves.
import type { StageOptionsBase } from '../../config/stage.js'

export interface RedirectOptions extends StageOptionsBase {
  /** 301, 302, 303, 307 or 308 (the default: permanent, keeps the method and body). */
  status: number
}
