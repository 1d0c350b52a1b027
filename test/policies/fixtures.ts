// Shared plumbing for the edge-policy integration tests: metrics scraping, polling, echo parsing, a
// fixed-rate load loop (open model, so a slow gateway cannot slow the offered load down), and a gateway
// started as a separate `gw run` process for tests that need two real processes.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request, type Dispatcher } from 'undici'
import type { Stub } from '../../testkit/upstream/stub.js'
import { metric, type TestGateway } from '../helpers/gateway.js'
import { repoPath } from '../helpers/paths.js'

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** `host:port host:port …` of a stub group (or every replica), for a `replicas` line. */
export function addrs(stub: Stub, group?: string): string {
  return stub.replicas.filter(r => group === undefined || r.group === group).map(r => `${r.host}:${r.port}`).join(' ')
}

/** The admin /metrics text of a gateway (in-process or spawned: anything with an adminUrl). */
export async function scrape(gw: { adminUrl: string }): Promise<string> {
  const res = await request(gw.adminUrl + '/metrics')
  return res.body.text()
}

/** One metric value from a gateway's /metrics (0 when the series does not exist yet). */
export async function metricOf(gw: { adminUrl: string }, name: string, labels: Record<string, string> = {}): Promise<number> {
  return metric(await scrape(gw), name, labels) ?? 0
}

/** Polls `cond` every 20 ms until it is true; throws after `timeoutMs` naming `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(20)
  }
}

/** All values of a header (case-insensitive) in a stub /echo answer's raw header list. */
export function echoed(echoText: string, name: string): string[] {
  const raw = (JSON.parse(echoText) as { rawHeaders: string[] }).rawHeaders
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name.toLowerCase()) out.push(raw[i + 1])
  return out
}

export interface Answer { status: number; headers: Record<string, string | string[] | undefined>; text: string; ms: number }

/** A request through `dispatcher` (a shared keep-alive agent), timed; the body is read as text. */
export async function send(dispatcher: Dispatcher, url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const t0 = performance.now()
  const res = await request(url, { method: (opts.method ?? 'GET') as Dispatcher.HttpMethod, headers: opts.headers, body: opts.body, dispatcher })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - t0 }
}

export const agent = (connections = 64): Agent => new Agent({ keepAliveTimeout: 10_000, connections })

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })

/** One request of a load run: when it was due (ms since the run began), what came back, how long it took. */
export interface Shot { at: number; status: number; ms: number }

/**
 * Sends `fire()` at a fixed arrival rate for `durationMs` (open model: a request is sent when it is due,
 * whatever earlier ones are doing) and resolves with every shot once all have ended. A request that throws
 * counts as status 0. `onTick` runs before each batch, so a test can change the world mid-run.
 */
export async function steady(rate: number, durationMs: number, fire: () => Promise<number>, onTick?: (elapsedMs: number) => void): Promise<Shot[]> {
  const shots: Promise<Shot>[] = []
  const interval = 1000 / rate
  const total = Math.round((durationMs * rate) / 1000)
  const t0 = performance.now()
  let i = 0
  await new Promise<void>(resolve => {
    const tick = () => {
      const now = performance.now() - t0
      onTick?.(now)
      while (i < total && i * interval <= now) {
        const at = i * interval
        const start = performance.now()
        shots.push(fire().then(status => ({ at, status, ms: performance.now() - start }), () => ({ at, status: 0, ms: performance.now() - start })))
        i++
      }
      if (i >= total) resolve()
      else setTimeout(tick, Math.max(1, Math.min(10, i * interval - now)))
    }
    tick()
  })
  return Promise.all(shots)
}

/** Counts statuses: { '200': 12, '503': 3 }. */
export function tally(statuses: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1
  return out
}

/** A gateway running as its own `node dist/bin/gw.js run FILE.gwp` process. */
export interface SpawnedGateway {
  url: string
  adminUrl: string
  proc: ChildProcess
  /** Everything the process wrote to stderr so far. */
  stderr(): string
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. Removes the policy file. */
  stop(): Promise<void>
}

/**
 * Writes `policy` to a temporary .gwp file and runs `gw run` on it with loopback port-0 listeners and the
 * extra flags. Resolves once the process prints its "serving bundle … on http://HOST:PORT (admin …)" line.
 */
export async function spawnGateway(policy: string, flags: string[] = [], o: { accessLog?: boolean } = {}): Promise<SpawnedGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'gwp-policies-'))
  const file = join(dir, 'policy.gwp')
  await writeFile(file, policy)
  const proc = spawn(process.execPath, [repoPath('dist/bin/gw.js'), 'run', file, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0',
    '--log-level', 'warn', ...(o.accessLog === true ? [] : ['--no-access-log']), ...flags], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  proc.stderr!.on('data', (c: Buffer) => { err += c })
  const exited = new Promise<void>(r => proc.once('exit', () => r()))
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM')
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(t)
    }
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const m = await new Promise<RegExpExecArray>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('gw did not start within 30 s:\n' + err)), 30_000)
      const check = () => {
        const hit = /serving bundle \S+ on (http:\/\/[^\s]+) \(admin (http:\/\/[^\s)]+)\)/.exec(err)
        if (hit !== null) { clearTimeout(t); resolve(hit) }
      }
      proc.stderr!.on('data', check)
      proc.once('exit', code => { clearTimeout(t); reject(new Error(`gw exited with ${code}:\n${err}`)) })
    })
    return { url: m[1], adminUrl: m[2], proc, stderr: () => err, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

type Closable = { close(): Promise<unknown> } | { destroy(): Promise<unknown> } | { stop(): Promise<unknown> }

/**
 * Starts several things at once and resolves with all of them. If any fails, the ones that did start are
 * closed before the error is rethrown: a half-started fixture (say, two gateways up and the third failed)
 * must not keep listeners and reconnect timers alive, or the test process never exits.
 */
export async function startTogether<T extends readonly unknown[]>(...ps: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(ps)
  const failed = settled.find(s => s.status === 'rejected')
  if (failed === undefined) return settled.map(s => (s as PromiseFulfilledResult<unknown>).value) as unknown as T
  await closeAll(...settled.map(s => s.status === 'fulfilled' && typeof s.value === 'object' ? s.value as Closable : undefined))
  throw (failed as PromiseRejectedResult).reason
}

/** Closes gateways and agents in `after()` without letting one failure hide the others. */
export async function closeAll(...xs: (Closable | undefined | null)[]): Promise<void> {
  await Promise.allSettled(xs.map(x => x === undefined || x === null ? undefined
    : 'close' in x ? x.close() : 'destroy' in x ? x.destroy() : 'stop' in x ? x.stop() : undefined))
}

export type { TestGateway }
