// Recording stand-ins for the runtime's stage factories and request context, shared by the compiler tests:
// a generated module is instantiated with these, so a test sees exactly what it passes to each factory. The
// factory object is the runtime's own (runtime/stages.ts: one entry per registered stage kind); only what each
// factory makes is replaced.
import type { BuildDeps } from '../../config/bundle.js'
import type { RequestContext } from '../../config/context.js'
import { CONTINUE, type Stage, type TerminalStage } from '../../config/stage.js'
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
  return { deps: { CONTINUE, stages }, calls }
}

/** A request context that records the header calls the inline `headers` stage makes. */
export function recordingContext(): { ctx: RequestContext; calls: ContextCall[] } {
  const calls: ContextCall[] = []
  const rec = (method: string) => (...args: unknown[]) => { calls.push({ method, args }) }
  const ctx = {
    setRequestHeader: rec('setRequestHeader'),
    removeRequestHeader: rec('removeRequestHeader'),
    setResponseHeader: rec('setResponseHeader'),
    removeResponseHeader: rec('removeResponseHeader'),
    state: {},
  }
  return { ctx: ctx as unknown as RequestContext, calls }
}
