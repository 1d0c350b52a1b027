// gw's signals. bin/gw installs these before it loads the compiler and the runtime (loading takes from a few
// hundred milliseconds to seconds on a busy machine), so no signal gw handles ever meets its default action,
// which for SIGHUP, SIGINT and SIGTERM is to die on the spot:
//   SIGTERM, SIGINT  drain and exit 0; while already draining: ignored (the drain deadline bounds it);
//                    during start-up: exit 0 at once (nothing is being served yet)
//   SIGHUP           reload; during start-up: remembered, and one reload runs once serving (the files may
//                    have changed after start-up read them); while draining: ignored
// A `--workers` worker ignores all three: the primary decides, and tells workers over IPC. A terminal's Ctrl-C
// or hang-up reaches the whole process group, and must not stop or kill workers behind the primary's back.
import cluster from 'node:cluster'

export type HandledSignal = 'SIGTERM' | 'SIGINT' | 'SIGHUP'
export const HANDLED_SIGNALS: readonly HandledSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP']

export interface SignalTarget {
  /** Drain and exit (the target exits the process). */
  stop(sig: HandledSignal): void
  /** Reload from the policy or bundle path. */
  reload(): void
}

export interface Signals {
  /** Start-up is over: from now on signals go to `target` (a SIGHUP received during start-up reloads now). */
  serving(target: SignalTarget): void
  /** Remove the handlers (for a command that handles signals its own way, such as `gw demo`). */
  release(): void
}

const ignore = (): void => undefined
const note = (text: string) => { process.stderr.write(`gw: ${text}\n`) }

/** Installs the handlers; call once, first thing. */
export function earlySignals(): Signals {
  // Same test as runtime/cluster's isClusterWorker, without loading the runtime.
  if (cluster.isWorker && process.env.GWP_WORKER === '1') {
    for (const s of HANDLED_SIGNALS) process.on(s, ignore)
    return { serving: () => undefined, release: () => { for (const s of HANDLED_SIGNALS) process.off(s, ignore) } }
  }
  let target: SignalTarget | null = null
  let stopping = false
  let hupDuringStart = false
  const on = (sig: HandledSignal) => {
    if (stopping) { note(`${sig} ignored: already draining`); return }
    if (sig === 'SIGHUP') {
      if (target === null) { hupDuringStart = true; note('SIGHUP during start-up: reloading once serving') } else target.reload()
      return
    }
    stopping = true
    if (target === null) {
      note(`${sig} during start-up: exiting before serving`)
      process.exit(0) // cluster workers already forked exit with the primary (their IPC channel closes)
    }
    target.stop(sig)
  }
  const listeners = HANDLED_SIGNALS.map(s => [s, () => on(s)] as const)
  for (const [s, l] of listeners) process.on(s, l)
  return {
    release: () => { for (const [s, l] of listeners) process.off(s, l) },
    serving: t => {
      target = t
      if (hupDuringStart && !stopping) { hupDuringStart = false; t.reload() }
    },
  }
}
