// lab/probe/tree-reader.ts: the cost of a process tree that is not Node (nginx master + workers), read
// from /proc: CPU time (utime + stime), open fds and RSS summed over the root pid and all its descendants.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { TreeProbeResult } from './types.js'

let clkTckCache = 0

/** Clock ticks per second for /proc/<pid>/stat times: `getconf CLK_TCK`, else 100 (Linux's USER_HZ almost everywhere). */
export function clockTicks(): number {
  if (clkTckCache > 0) return clkTckCache
  try { clkTckCache = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) } catch { clkTckCache = 0 }
  if (!(clkTckCache > 0)) clkTckCache = 100
  return clkTckCache
}

const PAGE = 4096 // /proc/<pid>/statm counts pages; 4 KiB on every platform this harness runs on (x86-64, arm64 Linux)

export interface ProcStat { pid: number; ppid: number; utime: number; stime: number; rssPages: number }

/** Parses /proc/<pid>/stat; undefined if the process is gone. The command name may hold spaces and ')'. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24 (1-based, see proc(5)).
  return { pid, ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]), rssPages: Number(rest[21]) }
}

/** The pid and all its descendants, found by scanning /proc for parent links (no CONFIG_PROC_CHILDREN needed). */
export function processTree(root: number): ProcStat[] {
  const all: ProcStat[] = []
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue
    const s = readProcStat(Number(name))
    if (s !== undefined) all.push(s)
  }
  const byParent = new Map<number, ProcStat[]>()
  for (const s of all) {
    const list = byParent.get(s.ppid)
    if (list === undefined) byParent.set(s.ppid, [s])
    else list.push(s)
  }
  const rootStat = all.find((s) => s.pid === root)
  if (rootStat === undefined) return []
  const out = [rootStat]
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i].pid) ?? []))
  return out
}

/** Open fds of one process (-1 if unreadable: another user's process without root). */
export function countProcFds(pid: number): number {
  try { return readdirSync(`/proc/${pid}/fd`).length } catch { return -1 }
}

interface Snapshot { t: number; ticks: Map<number, { u: number; s: number }>; fds: number; rss: number }

function snapshot(root: number): Snapshot {
  const ticks = new Map<number, { u: number; s: number }>()
  let fds = 0
  let rss = 0
  for (const p of processTree(root)) {
    ticks.set(p.pid, { u: p.utime, s: p.stime })
    fds += Math.max(0, countProcFds(p.pid))
    rss += p.rssPages * PAGE
  }
  return { t: performance.now(), ticks, fds, rss }
}

/**
 * A probe of a process tree from outside. CPU is summed per pid as (stop − start), with a pid absent at start
 * counted from 0 (a worker forked in the window) and a pid gone at stop lost (its time then sits in the
 * parent's cutime only once reaped; nginx workers live as long as the master, so this does not arise there).
 * Resolution is one clock tick (10 ms at 100 Hz): use windows of seconds.
 */
export function createTreeProbe(rootPid: number): { start(opts?: { peakEveryMs?: number }): void; stop(): TreeProbeResult } {
  let first: Snapshot | null = null
  let sampler: NodeJS.Timeout | null = null
  let peakRss = 0
  let peakSamples = 0
  const treeRss = (): number => processTree(rootPid).reduce((n, p) => n + p.rssPages * PAGE, 0)
  return {
    start(opts = {}) {
      first = snapshot(rootPid)
      peakRss = first.rss; peakSamples = 1
      // Peaks from outside: the tree's summed RSS every `peakEveryMs` (a /proc scan each: use ≥ 50 ms).
      if (opts.peakEveryMs !== undefined && opts.peakEveryMs > 0) {
        sampler = setInterval(() => { peakRss = Math.max(peakRss, treeRss()); peakSamples++ }, opts.peakEveryMs)
        sampler.unref()
      }
    },
    stop() {
      if (first === null) throw new Error('tree probe: stop() without start()')
      const sampled = sampler !== null
      if (sampler !== null) { clearInterval(sampler); sampler = null }
      const last = snapshot(rootPid)
      const hz = clockTicks()
      let u = 0
      let s = 0
      for (const [pid, t1] of last.ticks) {
        const t0 = first.ticks.get(pid) ?? { u: 0, s: 0 }
        u += t1.u - t0.u
        s += t1.s - t0.s
      }
      const wallMs = last.t - first.t
      const userUs = Math.round((u * 1e6) / hz)
      const systemUs = Math.round((s * 1e6) / hz)
      const pids = [...new Set([...first.ticks.keys(), ...last.ticks.keys()])]
      const result: TreeProbeResult = {
        rootPid, pids, wallMs: Math.round(wallMs * 1000) / 1000,
        cpu: { userUs, systemUs, totalUs: userUs + systemUs, share: Math.round(((userUs + systemUs) / 1000 / Math.max(wallMs, 1e-3)) * 1000) / 1000, clkTck: hz },
        fds: { start: first.fds, end: last.fds },
        rssBytes: { start: first.rss, end: last.rss },
        ...(sampled ? { peak: { rssBytes: Math.max(peakRss, last.rss), samples: peakSamples + 1 } } : {}),
      }
      first = null
      return result
    },
  }
}
