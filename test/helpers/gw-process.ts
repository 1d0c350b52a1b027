// A `node dist/bin/gw.js run …` process for lifecycle tests (watch, signals, workers): loopback port-0
// listeners, process logs as JSON lines on stderr (parsed on demand), and helpers to wait for a log line or
// the exit.
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'
import { repoPath } from './paths.js'

export interface LogLine { msg: string; pid: number; level: number; [k: string]: unknown }

export interface GwProcess {
  url: string
  adminUrl: string
  proc: ChildProcess
  stderr(): string
  /** The JSON log lines so far. */
  logs(): LogLine[]
  /** Resolves with the first log line (from now on or already written) matching `pred`. */
  waitLog(pred: (l: LogLine) => boolean, ms: number, what: string): Promise<LogLine>
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** SIGTERM (SIGKILL after 5 s) unless already gone. */
  stop(): Promise<void>
}

/** Spawns gw without waiting for it to serve (for start-up tests); `detached` makes it a process-group leader. */
export function spawnGw(args: string[], o: { detached?: boolean; logLevel?: string } = {}): Omit<GwProcess, 'url' | 'adminUrl'> {
  // defaults first: a flag in `args` overrides them
  const proc = spawn(process.execPath, [repoPath('dist/bin/gw.js'), 'run', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
    '--no-access-log', '--log-level', o.logLevel ?? 'info', '--log-destination', 'stderr', ...args], { stdio: ['ignore', 'ignore', 'pipe'], detached: o.detached === true })
  let err = ''
  const waiters = new Set<() => void>()
  proc.stderr!.on('data', (c: Buffer) => { err += c; for (const w of waiters) w() })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(r => proc.once('exit', (code, signal) => r({ code, signal })))
  const logs = (): LogLine[] => err.split('\n').filter(l => l.startsWith('{')).flatMap(l => { try { return [JSON.parse(l) as LogLine] } catch { return [] } })
  const waitLog = (pred: (l: LogLine) => boolean, ms: number, what: string) => new Promise<LogLine>((resolve, reject) => {
    const check = () => { const hit = logs().find(pred); if (hit !== undefined) { done(); resolve(hit) } }
    const t = setTimeout(() => { done(); reject(new Error(`timed out after ${ms} ms waiting for ${what}; stderr:\n${err}`)) }, ms)
    const done = () => { clearTimeout(t); waiters.delete(check) }
    waiters.add(check)
    check()
  })
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(t)
  }
  return { proc, stderr: () => err, logs, waitLog, exited, stop }
}

/** Spawns gw and resolves once it prints its "serving bundle … on URL (admin URL)" line. */
export async function startGw(args: string[], o: { detached?: boolean; logLevel?: string } = {}): Promise<GwProcess> {
  const g = spawnGw(args, o)
  try {
    const m = await new Promise<RegExpExecArray>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('gw did not start within 60 s:\n' + g.stderr())), 60_000)
      const check = () => {
        const hit = /serving bundle \S+ on (http:\/\/[^\s]+) \(admin (http:\/\/[^\s)]+)\)/.exec(g.stderr())
        if (hit !== null) { clearTimeout(t); g.proc.stderr!.off('data', check); resolve(hit) }
      }
      g.proc.stderr!.on('data', check)
      g.proc.once('exit', code => { clearTimeout(t); reject(new Error(`gw exited with ${code}:\n${g.stderr()}`)) })
    })
    return { ...g, url: m[1], adminUrl: m[2] }
  } catch (e) {
    await g.stop()
    throw e
  }
}

/** GET url on a fresh connection: the body text, or the error code when nothing answers. */
export async function getText(url: string): Promise<string> {
  try {
    const r = await request(url, { reset: true })
    return await r.body.text()
  } catch (e) { return `error:${(e as Error & { code?: string }).code ?? (e as Error).message}` }
}

/** Polls `url` until its body is `want`; throws after `ms` with the last answer. */
export async function waitBody(url: string, want: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  let last = ''
  while (Date.now() < end) {
    last = await getText(url)
    if (last === want) return
    await new Promise(r => setTimeout(r, 25))
  }
  throw new Error(`${url} still answers ${JSON.stringify(last)} after ${ms} ms, want ${JSON.stringify(want)}`)
}
