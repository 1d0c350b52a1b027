// Recording stand-ins for the runtime's stage factories and request context, shared by the compiler tests:
// a generated module is instantiated with these, so a test sees exactly what it passes to each factory.
import type { BuildDeps, StageFactories } from '../../config/bundle.js'

/** One factory call: which stage kind, with which options. */
export interface FactoryCall { kind: string; opts: unknown }

/** What the fake context recorded while a handler ran. */
export interface ContextCall { method: string; args: unknown[] }

export interface RecordingDeps {
  deps: BuildDeps
  /** Factory calls in the order the module made them (at load). */
  calls: FactoryCall[]
}

const KINDS = ['auth', 'ratelimit', 'headers', 'respond', 'proxy'] as const

/**
 * Stage factories that record their options and return stages which say CONTINUE (or, for terminal stages,
 * a reply naming the factory call). `async` makes every non-terminal stage answer with a promise instead.
 */
export function recordingDeps(opts: { async?: boolean } = {}): RecordingDeps {
  const CONTINUE = Symbol('CONTINUE')
  const calls: FactoryCall[] = []
  const stages = {} as Record<string, (o: unknown) => unknown>
  for (const kind of KINDS) {
    stages[kind] = (o: unknown) => {
      const index = calls.length
      calls.push({ kind, opts: o })
      if (kind === 'respond' || kind === 'proxy') return () => ({ reply: kind, index })
      return opts.async === true ? () => Promise.resolve(CONTINUE) : () => CONTINUE
    }
  }
  return { deps: { CONTINUE, stages: stages as unknown as StageFactories }, calls }
}

/** A request context that records the header calls the inline `headers` stage makes. */
export function recordingContext(): { ctx: Record<string, unknown>; calls: ContextCall[] } {
  const calls: ContextCall[] = []
  const rec = (method: string) => (...args: unknown[]) => { calls.push({ method, args }) }
  const ctx = {
    setRequestHeader: rec('setRequestHeader'),
    removeRequestHeader: rec('removeRequestHeader'),
    setResponseHeader: rec('setResponseHeader'),
    removeResponseHeader: rec('removeResponseHeader'),
    state: {},
  }
  return { ctx, calls }
}
