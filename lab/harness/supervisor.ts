// lab/harness/supervisor.ts: starts and stops the processes of a benchmark run — pinned to CPUs, optionally with
// the probe preloaded, each ready when it prints its ready line — and guarantees none outlives the run: stopAll()
// on the normal path, signal and exit handlers on Ctrl-C and errors, and a watchdog process for a SIGKILLed harness.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { collectLines } from '../probe/lines.js'
import { spawnProbed, type ProbedProcess } from '../probe/spawn-probed.js'
import { pinPrefix, type CpuPlan, type CpuRole } from './cpu-plan.js'
import { killTrees, killTreesNow, procStart, type ProcRef } from './proc-tree.js'

export interface ChildSpec {
  /** Short name for messages ("gw", "stub"). */
  name: string
  /** Executable; node children use process.execPath. */
  cmd: string
  args: string[]
  /** Pin to this role's CPUs (see cpu-plan.ts). */
  role?: CpuRole
  env?: NodeJS.ProcessEnv
  /** Ready when a stdout/stderr line matches (a RegExp or a predicate); without it, ready at once. */
  ready?: RegExp | ((line: string) => boolean)
  /** Default 20 s. */
  readyTimeoutMs?: number
  /** Preload lab/probe (a Node child): `probe` on the Child drives start()/stop(). */
  probe?: boolean
  /** Forward the child's output to ours (debugging). */
  inheritOutput?: boolean
}

export interface Child {
  readonly name: string
  readonly pid: number
  readonly proc: ChildProcess
  /** The line that matched `ready` ('' without one). */
  readonly readyLine: string
  /** Set for `probe: true` children. */
  readonly probe?: ProbedProcess
  /** Last lines of output (for error messages). */
  output(): string
  readonly exited: boolean
  /** Stops this child and everything it started (SIGTERM, then SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>
}

export interface Supervisor {
  readonly plan: CpuPlan
  /** Spawns a child and resolves once it is ready; on failure the child is killed and the error names it. */
  start(spec: ChildSpec): Promise<Child>
  /** Stops every child still running (their trees included). Idempotent. */
  stopAll(): Promise<void>
  /** Children started and not yet stopped. */
  children(): Child[]
  /** Removes the process handlers (for tests that create several supervisors). Call after stopAll(). */
  dispose(): void
}

const WATCHDOG = fileURLToPath(new URL('./watchdog.js', import.meta.url))

export interface SupervisorOptions {
  plan: CpuPlan
  /** Start the watchdog process (default true). */
  watchdog?: boolean
  /** Install SIGINT/SIGTERM/SIGHUP/exit/uncaught handlers that clean up and exit (default true). */
  handleSignals?: boolean
  /** Where progress notes go (default stderr). */
  log?: (line: string) => void
}

/** Spawns a non-probed child and collects its output lines; `onLine` sees each one. */
function spawnPlain(cmd: string, args: string[], env: NodeJS.ProcessEnv | undefined, inherit: boolean): { proc: ChildProcess; lines: string[]; onLine: (f: (l: string) => void) => void } {
  const proc = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const listeners: ((l: string) => void)[] = []
  collectLines(proc, lines, (line) => { for (const f of listeners) f(line) }, inherit ? process.stderr : undefined)
  proc.on('error', () => { /* reported through exit */ })
  return { proc, lines, onLine: (f) => listeners.push(f) }
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'))
  const live = new Map<number, { child: Child; ref: ProcRef }>()
  let watchdog: ChildProcess | null = null
  if (opts.watchdog !== false) {
    watchdog = spawn(process.execPath, [WATCHDOG], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
    watchdog.on('error', () => { watchdog = null })
    watchdog.unref()
    ;(watchdog.stdin as unknown as { unref?: () => void }).unref?.()
  }
  const track = (ref: ProcRef): void => { watchdog?.stdin?.write(`track ${ref.pid} ${ref.start}\n`) }

  async function start(spec: ChildSpec): Promise<Child> {
    const pin = spec.role === undefined ? [] : pinPrefix(opts.plan, spec.role)
    const cmd = pin.length > 0 ? pin[0] : spec.cmd
    const args = pin.length > 0 ? [...pin.slice(1), spec.cmd, ...spec.args] : spec.args
    const timeoutMs = spec.readyTimeoutMs ?? 20_000
    // spawnProbed only calls .test(line) on its `ready`, so a predicate travels as an object with that method.
    const readyRe = typeof spec.ready === 'function' ? ({ test: spec.ready } as unknown as RegExp) : spec.ready
    let proc: ChildProcess
    let output: () => string
    let probed: ProbedProcess | undefined
    let ready: Promise<string>
    if (spec.probe === true) {
      // taskset execs node in place, so the pid, the IPC channel and the preload (via NODE_OPTIONS) carry over.
      probed = spawnProbed(cmd, args, { env: spec.env, ready: readyRe, readyTimeoutMs: timeoutMs, inheritOutput: spec.inheritOutput })
      proc = probed.proc
      output = probed.output
      ready = probed.ready
    } else {
      const p = spawnPlain(cmd, args, spec.env, spec.inheritOutput === true)
      proc = p.proc
      output = () => p.lines.join('\n')
      ready = new Promise<string>((resolve, reject) => {
        if (readyRe === undefined) return resolve('')
        const re = readyRe
        for (const l of p.lines) if (re.test(l)) return resolve(l)
        const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms`)), timeoutMs)
        p.onLine((l) => { if (re.test(l)) { clearTimeout(timer); resolve(l) } })
        proc.once('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`exited (${code ?? sig}) before ready`)) })
      })
    }
    const pid = proc.pid
    if (pid === undefined) throw new Error(`${spec.name}: could not spawn ${cmd}`)
    const ref: ProcRef = { pid, start: procStart(pid) ?? 0 }
    track(ref)
    let exited = false
    proc.once('exit', () => { exited = true })
    let stopping: Promise<void> | undefined
    const child: Child = {
      name: spec.name, pid, proc, readyLine: '', probe: probed, output,
      get exited() { return exited },
      stop(graceMs = 3000) {
        stopping ??= (async () => {
          if (!exited) {
            const gone = new Promise<void>((r) => { if (exited) r(); else proc.once('exit', () => r()) })
            await killTrees([ref], graceMs)
            await Promise.race([gone, new Promise((r) => setTimeout(r, 1000))])
          }
          live.delete(pid)
        })()
        return stopping
      },
    }
    live.set(pid, { child, ref })
    try {
      const line = await ready
      ;(child as { readyLine: string }).readyLine = line
    } catch (e) {
      await child.stop(500)
      throw new Error(`${spec.name}: ${(e as Error).message.split('\n')[0]}\n--- ${spec.name} output ---\n${output()}`)
    }
    return child
  }

  let stoppingAll: Promise<void> | undefined
  const stopAll = (): Promise<void> => {
    stoppingAll ??= Promise.all([...live.values()].map(({ child }) => child.stop())).then(() => { stoppingAll = undefined })
    return stoppingAll
  }

  // Handlers: Ctrl-C (and TERM/HUP) stop everything and exit 130; a second Ctrl-C kills at once.
  let interrupted = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) { killTreesNow([...live.values()].map((v) => v.ref)); process.exit(130) }
    interrupted = true
    log(`\n${sig}: stopping ${live.size} benchmark process(es)…`)
    void stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143))
  }
  const onExit = (): void => { killTreesNow([...live.values()].map((v) => v.ref)) }
  const onFatal = (e: unknown): void => {
    log(`benchmark harness failed: ${(e as Error)?.stack ?? String(e)}`)
    void stopAll().finally(() => process.exit(1))
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  if (opts.handleSignals !== false) {
    for (const s of signals) process.on(s, onSignal)
    process.on('exit', onExit)
    process.on('uncaughtException', onFatal)
    process.on('unhandledRejection', onFatal)
  }

  return {
    plan: opts.plan,
    start,
    stopAll,
    children: () => [...live.values()].map((v) => v.child),
    dispose() {
      if (opts.handleSignals !== false) {
        for (const s of signals) process.off(s, onSignal)
        process.off('exit', onExit)
        process.off('uncaughtException', onFatal)
        process.off('unhandledRejection', onFatal)
      }
      watchdog?.stdin?.end()
      watchdog = null
    },
  }
}
