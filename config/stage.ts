// The stage contract every side programs against: what a stage is, what it may return, and the one sentinel
// that lets a route's pipeline go on. Types and one constant; the runtime makes the replies (runtime/reply.ts).
import type { RequestContext } from './context.js'

/** The one sentinel a stage returns to let the pipeline go on (passed to generated code as `deps.CONTINUE`). */
export const CONTINUE: unique symbol = Symbol.for('gwp.continue') as never
export type Continue = typeof CONTINUE

/** Only the runtime's reply class carries this brand, so a hand-built object is not a Reply. Type only. */
declare const REPLY_BRAND: unique symbol

/**
 * A complete answer a stage (or the gateway) writes instead of going on. Made by the runtime's reply helpers
 * (runtime/policy-api.ts for policies), which build the ones without per-request parts once, at load.
 */
export interface Reply {
  readonly [REPLY_BRAND]: true
  readonly status: number
  /** Static body (for `respond`), or null for an error reply whose JSON body is built with the request id. */
  readonly body: Buffer | null
  readonly contentType: string
  /** Extra headers as flat [name, value] pairs. */
  readonly headers: readonly string[]
  /** The refusal code (GW_ERR_*, runtime/errors.ts) of an error reply; null for a static answer (`respond`). */
  readonly code: string | null
}

/** What a stage returns: go on, answer, or a promise of one of those (only when it must wait for I/O). */
export type StageResult = Continue | Reply | Promise<Continue | Reply>

/**
 * A per-request stage: bound once at load by its policy's factory, called for every request of its route.
 * Prefer a synchronous answer; return a promise only when the decision needs I/O.
 */
export type Stage = (ctx: RequestContext) => StageResult

/** What a route's terminal stage (`proxy`, `respond`) returns: a reply to write, or undefined when it took over the response. */
export type TerminalResult = Reply | undefined
export type TerminalStage = (ctx: RequestContext) => TerminalResult

/** What every stage factory's options carry (the generated module passes them as one object literal). */
export interface StageOptionsBase {
  /** The route's name; metric labels and logs use it. */
  route: string
}
