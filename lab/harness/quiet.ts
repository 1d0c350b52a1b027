// lab/harness/quiet.ts: the machine is two cores shared with other engineers' benchmarks, so an experiment
// waits until none is running (other than itself and its own children) before it measures anything.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpuBusy } from './cpu-plan.js'
import { clockTicks, processTree } from '../probe/tree-reader.js'

/** Command lines that are benchmarks: the tax/reuse runner, the micro-benchmarks, these experiments. */
export const BENCH_PATTERN = 'lab/run.js|bench/micro.js|lab/experiments'

export interface ProcLine { pid: number; cmd: string }

/** Parses `pgrep -af` output ("1234 node dist/lab/run.js tax") into pid + command line. */
export function parsePgrep(text: string): ProcLine[] {
  const out: ProcLine[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.*)$/.exec(line)
    if (m !== null) out.push({ pid: Number(m[1]), cmd: m[2] })
  }
  return out
}

/** The processes that are not ours: neither this process, nor one of its ancestors, nor one it started. */
export function othersOnly(lines: ProcLine[], ours: ReadonlySet<number>): ProcLine[] {
  return lines.filter((l) => !ours.has(l.pid))
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(rest[1])
  } catch { return undefined }
}

/** This process, its ancestors (the shell, `npm`, the runner that started it) and its descendants. */
export function ourPids(): Set<number> {
  const ours = new Set<number>([process.pid])
  let p: number | undefined = process.ppid
  while (p !== undefined && p > 1 && !ours.has(p)) { ours.add(p); p = parentOf(p) }
  for (const c of processTree(process.pid)) ours.add(c.pid)
  return ours
}

const cmdline = (pid: number): string => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ') } catch { return '' } }

/**
 * Whether a benchmark process is measuring rather than waiting its turn: it has started processes of its own (other
 * than the harness's watchdog), or it used more than 5% of a core over the last `ms`. Two runners that each wait for
 * "any other benchmark" would otherwise wait for each other forever.
 */
export async function isActive(pid: number, ms = 1000): Promise<boolean> {
  const tree = processTree(pid)
  if (tree.slice(1).some((p) => !/watchdog\.js/.test(cmdline(p.pid)))) return true
  const ticks = (): number => processTree(pid).reduce((n, p) => n + p.utime + p.stime, 0)
  const a = ticks()
  await new Promise((r) => setTimeout(r, ms))
  return (ticks() - a) / clockTicks() > 0.05 * (ms / 1000)
}

/**
 * Benchmarks other people are running now (empty when pgrep is missing: then nobody can be detected). One that is
 * itself only waiting for its turn is left out (see isActive), so waiting runners never deadlock.
 */
export async function otherBenchmarks(): Promise<ProcLine[]> {
  let text = ''
  try { text = execFileSync('pgrep', ['-af', BENCH_PATTERN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) } catch { return [] } // exit 1 = none
  const others = othersOnly(parsePgrep(text), ourPids())
  const active = await Promise.all(others.map((o) => isActive(o.pid)))
  return others.filter((_, i) => active[i])
}

/** CPU the rest of the machine is using (sum over CPUs, 1 = one whole core), measured over `ms`. */
export async function busyCores(ms = 2000): Promise<number> {
  let sum = 0
  for (const v of (await cpuBusy(ms)).values()) sum += v
  return sum
}

/**
 * Waits until no other benchmark runs (pgrep, polling every 15 s, at most `maxWaitMs`), then until the machine is
 * nearly idle (< `idleCores` of CPU busy over 2 s: ad-hoc load runs that pgrep cannot name count too; at most
 * `maxBusyWaitMs`). Returns a note for the result: what it waited for, and the others' CPU use when it started.
 */
export async function waitForQuiet(log: (s: string) => void, maxWaitMs = 45 * 60_000, idleCores = 0.5, maxBusyWaitMs = 10 * 60_000): Promise<string> {
  const notes: string[] = []
  const named = await waitForNamed(log, maxWaitMs)
  if (named !== null) notes.push(named)
  const t0 = Date.now()
  let busy = await busyCores()
  if (busy >= idleCores) {
    log(`the machine is busy (${(busy * 100).toFixed(0)}% of a core in use by other processes); waiting for it to settle…`)
    while (busy >= idleCores && Date.now() - t0 < maxBusyWaitMs) {
      await new Promise((r) => setTimeout(r, 13_000))
      busy = await busyCores()
    }
    const s = Math.round((Date.now() - t0) / 1000)
    notes.push(busy < idleCores ? `waited ${s} s for other processes' CPU use to fall below ${idleCores * 100}% of a core`
      : `other processes kept ${(busy * 100).toFixed(0)}% of a core busy; measured anyway after waiting ${s} s`)
  }
  notes.push(`other processes' CPU use just before the start: ${(busy * 100).toFixed(0)}% of a core (over 2 s)`)
  return notes.join('; ')
}

async function waitForNamed(log: (s: string) => void, maxWaitMs: number): Promise<string | null> {
  const t0 = Date.now()
  let first: ProcLine[] | null = null
  for (;;) {
    const others = await otherBenchmarks()
    if (others.length === 0) {
      if (first === null) return null
      const s = Math.round((Date.now() - t0) / 1000)
      log(`other benchmarks finished; starting after waiting ${s} s`)
      return `waited ${s} s for other benchmarks to finish (${first.map((o) => o.cmd).join('; ').slice(0, 200)})`
    }
    if (first === null) {
      first = others
      log(`waiting for other benchmarks to finish: ${others.map((o) => `${o.pid} ${o.cmd}`).join('; ').slice(0, 300)}`)
    }
    if (Date.now() - t0 > maxWaitMs) {
      log(`gave up waiting after ${Math.round(maxWaitMs / 60_000)} min; measuring beside them`)
      return `measured while other benchmarks ran (gave up waiting after ${Math.round(maxWaitMs / 60_000)} min): ${others.map((o) => o.cmd).join('; ').slice(0, 200)}`
    }
    await new Promise((r) => setTimeout(r, 15_000))
  }
}
