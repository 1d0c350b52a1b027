// lab/probe/spawn-probed.ts: starts a Node server with the probe preloaded and an IPC channel to drive it,
// waits for its ready line, and reads its cost over start()/stop() windows.
import { spawn, type ChildProcess } from 'node:child_process'
import { basename } from 'node:path'
import { collectLines } from './lines.js'
import type { ProbeResult } from './types.js'

/** file: URL of the compiled preload (dist/lab/probe/preload.js), for `--import`. */
export const PRELOAD_URL = new URL('./preload.js', import.meta.url).href

export interface SpawnProbedOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** `ready` resolves with the first stdout/stderr line matching this (default: resolves at once). */
  ready?: RegExp
  /** Default 10 s. */
  readyTimeoutMs?: number
  /** Copy the child's stdout/stderr to ours (default: kept, last 100 lines, for error messages). */
  inheritOutput?: boolean
  /** Longest wait for a probe reply over IPC. Default 10 s. */
  replyTimeoutMs?: number
}

export interface ProbedProcess {
  proc: ChildProcess
  /** The matching ready line; rejects if the child exits or the timeout passes first. */
  ready: Promise<string>
  /** Opens a measurement window in the child; resolves once the child has taken its baselines. */
  start(opts?: { countRequests?: boolean; peakEveryMs?: number }): Promise<void>
  /** Closes the window and returns the child's cost over it. */
  stop(): Promise<ProbeResult>
  /** SIGTERM (or `signal`), then SIGKILL after 3 s; resolves with the exit code (null if a signal ended it) once the child is gone. */
  kill(signal?: NodeJS.Signals): Promise<number | null>
  /** The child's recent output lines (for error messages). */
  output(): string
}

const isNode = (cmd: string): boolean => cmd === process.execPath || /^node(\d+)?$/.test(basename(cmd))

/**
 * Spawns `cmd args` with the probe preloaded. When cmd is node itself the preload goes first in argv;
 * otherwise (a wrapper that ends up running node) it is appended to NODE_OPTIONS. The IPC channel reaches
 * only the direct child, so for IPC commands cmd should be node (process.execPath) itself.
 */
export function spawnProbed(cmd: string, args: string[], opts: SpawnProbedOptions = {}): ProbedProcess {
  const env = { ...(opts.env ?? process.env) }
  let argv = args
  if (isNode(cmd)) argv = ['--import', PRELOAD_URL, ...args]
  else env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${PRELOAD_URL}`.trim()
  const proc = spawn(cmd, argv, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const lines: string[] = []
  let exited = false
  let onLine: ((line: string) => void) | null = null
  collectLines(proc, lines, (line) => onLine?.(line), opts.inheritOutput === true ? 'own' : undefined)
  const output = (): string => lines.join('\n')
  const exitPromise = new Promise<number | null>((resolve) => proc.once('exit', (code) => { exited = true; resolve(code) }))
  proc.on('error', () => { /* reported through exit/ready */ })

  const ready = new Promise<string>((resolve, reject) => {
    if (opts.ready === undefined) return resolve('')
    const re = opts.ready
    const timer = setTimeout(() => reject(new Error(`probed child not ready in ${opts.readyTimeoutMs ?? 10_000} ms; output:\n${output()}`)), opts.readyTimeoutMs ?? 10_000)
    onLine = (line) => { if (re.test(line)) { clearTimeout(timer); onLine = null; resolve(line) } }
    void exitPromise.then((code) => { clearTimeout(timer); reject(new Error(`probed child exited (${String(code)}) before ready; output:\n${output()}`)) })
  })
  ready.catch(() => { /* the caller sees it when awaiting ready */ })

  let nextId = 1
  const pending = new Map<number, { resolve: (m: Record<string, unknown>) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  proc.on('message', (m: Record<string, unknown>) => {
    if (typeof m !== 'object' || m === null || typeof m.gwpProbe !== 'string') return
    const p = pending.get(m.id as number)
    if (p === undefined) return
    pending.delete(m.id as number)
    clearTimeout(p.timer)
    if (m.gwpProbe === 'error') p.reject(new Error(`probe: ${String(m.message)}`))
    else p.resolve(m)
  })
  void exitPromise.then(() => { for (const p of pending.values()) { clearTimeout(p.timer); p.reject(new Error('probe: child exited')) } pending.clear() })

  const ask = (command: Record<string, unknown>): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    if (exited || !proc.connected) return reject(new Error('probe: child is not running'))
    const id = nextId++
    const ms = opts.replyTimeoutMs ?? 10_000
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`probe: no reply in ${ms} ms (is the preload loaded?)`)) }, ms)
    pending.set(id, { resolve, reject, timer })
    proc.send({ ...command, id })
  })

  return {
    proc,
    ready,
    output,
    async start(o = {}) { await ask({ gwpProbe: 'start', countRequests: o.countRequests === true, ...(o.peakEveryMs === undefined ? {} : { peakEveryMs: o.peakEveryMs }) }) },
    async stop() { return (await ask({ gwpProbe: 'stop' })).result as ProbeResult },
    async kill(signal = 'SIGTERM') {
      if (!exited) {
        proc.kill(signal)
        const t = setTimeout(() => { if (!exited) proc.kill('SIGKILL') }, 3000)
        const code = await exitPromise
        clearTimeout(t)
        return code
      }
      return exitPromise
    },
  }
}
