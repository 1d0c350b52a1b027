// Recording stand-ins for the runtime's stage factories and request context, shared by the compiler tests:
// a generated module is instantiated with these, so a test sees exactly what it passes to each factory. The
// factory object is the runtime's own (runtime/stages.ts: one entry per registered stage kind); only what each
// factory makes is replaced.
import type { BuildDeps, HeadPlanOptions } from '../../config/bundle.js'
import type { RequestContext } from '../../config/context.js'
import { CONTINUE, type Stage, type TerminalStage } from '../../config/stage.js'
import { HEAD_PLANS, type HeadPlan } from '../../runtime/head-plan.js'
import { stageFactories } from '../../runtime/stages.js'

/** One factory call: which stage kind, with which options. */
export interface FactoryCall { kind: string; opts: unknown }

/** What the fake context recorded while a handler ran. */
export interface ContextCall { method: string; args: unknown[] }

export interface RecordingDeps {
  deps: BuildDeps
  /** Factory calls in the order the module made them (at load). */
  calls: FactoryCall[]
}

/**
 * Stage factories that record their options and return stages which say CONTINUE (or, for terminal stages,
 * a reply naming the factory call). `async` makes every non-terminal stage answer with a promise instead.
 */
export function recordingDeps(opts: { async?: boolean } = {}): RecordingDeps {
  const calls: FactoryCall[] = []
  const stages = stageFactories((kind, o) => {
    const index = calls.length
    calls.push({ kind, opts: o })
    if (kind === 'respond' || kind === 'proxy') return (() => ({ reply: kind, index })) as unknown as TerminalStage
    return (opts.async === true ? () => Promise.resolve(CONTINUE) : () => CONTINUE) as Stage
  })
  // head plans are the runtime's own (their load-time checks run), their options recorded like a factory's
  const heads = {
    request: (o: HeadPlanOptions) => { calls.push({ kind: 'heads.request', opts: o }); return HEAD_PLANS.request(o) },
    response: (o: HeadPlanOptions) => { calls.push({ kind: 'heads.response', opts: o }); return HEAD_PLANS.response(o) },
  }
  return { deps: { CONTINUE, stages, heads }, calls }
}

/** A request context that records the header calls the inline `headers` stage makes (a head plan as its block and edits). */
export function recordingContext(): { ctx: RequestContext; calls: ContextCall[] } {
  const calls: ContextCall[] = []
  const rec = (method: string) => (...args: unknown[]) => { calls.push({ method, args }) }
  const ctx = {
    setRequestHeader: rec('setRequestHeader'),
    removeRequestHeader: rec('removeRequestHeader'),
    setResponseHeader: rec('setResponseHeader'),
    removeResponseHeader: rec('removeResponseHeader'),
    requestPlan: (p: HeadPlan) => { calls.push({ method: 'requestPlan', args: [p.block, p.edits] }) },
    responsePlan: (p: HeadPlan) => { calls.push({ method: 'responsePlan', args: [p.block, p.edits] }) },
    state: {},
  }
  return { ctx: ctx as unknown as RequestContext, calls }
}
