// What the runtime keeps per route of the active bundle: the generated handler, its IR and the pre-bound
// per-route metric children, so a request looks nothing up.
import type { RouteHandler } from '../config/bundle.js'
import type { RouteIR } from '../config/ir.js'
import type { RouteMetrics } from './metrics.js'

export interface RouteRuntime {
  index: number
  name: string
  ir: RouteIR
  handler: RouteHandler
  timeoutMs: number
  maxBodyBytes: number
  metrics: RouteMetrics
}
