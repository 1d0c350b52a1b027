// A reload attempt's bookkeeping, shared by one gateway process (runtime/serve) and the cluster primary
// (runtime/cluster): attempts run one at a time, each is counted in gw_reloads_total and logged once with its
// outcome (applied, unchanged, refused), and after each the --watch set is read again (includes come and go).
import type { Logger } from 'pino'
import type { ReloadCause, ReloadResult } from './admin.js'
import type { FastCounter } from './metrics.js'
import { createPolicyWatcher, type PolicyWatcher, type WatchSet } from './watch.js'

/** What one attempt found: the bundle already serving, or a new one applied (`msg` and `fields` for its log line). */
export type ReloadOutcome =
  | { changed: false; version: string }
  | { changed: true; version: string; msg: string; fields: Record<string, unknown> }

export interface Reloads {
  /** Runs `attempt` once any attempt under way has ended; a throw is a refusal (the previous bundle keeps serving). */
  run(attempt: () => Promise<ReloadOutcome>, cause: ReloadCause): Promise<ReloadResult>
  /** With --watch: call `onChange` once per burst of changes to the policy set. */
  watch(onChange: (files: string[]) => void): void
  close(): void
}

/** `serving()` is the version that keeps serving when an attempt is refused (for its log line). */
export function createReloads(log: Logger, counter: FastCounter, serving: () => string | undefined, watchSet?: () => WatchSet): Reloads {
  let last: Promise<ReloadResult> | null = null
  let watcher: PolicyWatcher | null = null
  const once = async (attempt: () => Promise<ReloadOutcome>, cause: ReloadCause): Promise<ReloadResult> => {
    const t0 = performance.now()
    try {
      const a = await attempt()
      const ms = performance.now() - t0
      if (!a.changed) {
        counter.child('unchanged').inc()
        log.info({ ...cause, version: a.version }, 'reload: bundle unchanged')
      } else {
        counter.child('applied').inc()
        log.info({ ...cause, version: a.version, ...a.fields, ms: Math.round(ms) }, a.msg)
      }
      return { version: a.version, changed: a.changed, ms }
    } catch (e) {
      counter.child('refused').inc()
      log.error({ ...cause, err: (e as Error).message, version: serving() }, 'reload refused; the previous bundle keeps serving')
      throw e
    } finally {
      // whatever the outcome, the files that make up the policy set may have changed (an include added)
      if (watcher !== null && watchSet !== undefined) watcher.resync(watchSet())
    }
  }
  return {
    run: (attempt, cause) => {
      // serialised: a second request waits for the first and then runs against the newest source
      const p = (last ?? Promise.resolve()).catch(() => undefined).then(() => once(attempt, cause))
      last = p
      return p
    },
    watch: onChange => {
      if (watchSet === undefined) return
      watcher = createPolicyWatcher({ log, onChange })
      watcher.resync(watchSet())
    },
    close: () => { watcher?.close() },
  }
}
