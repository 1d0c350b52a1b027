// lab/harness/proc-tree.ts: the processes a benchmark child grew (nginx master → workers, a wrapper → its
// server), named by pid *and* start time, so cleanup kills exactly what the run started even after a pid is
// reused by an unrelated process.
import { readFileSync } from 'node:fs'
import { processTree } from '../probe/tree-reader.js'

/** A process as cleanup knows it: pid plus the kernel's start time (clock ticks since boot). */
export interface ProcRef { pid: number; start: number }

/** Start time of a pid (field 22 of /proc/<pid>/stat), or undefined if it is gone or a zombie. */
export function procStart(pid: number): number | undefined {
  let text: string
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field 22 (starttime) is rest[19]. A zombie has already let go of everything.
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined
  return Number(rest[19])
}

/** True while the process named by ref runs (same pid, same start time, not a zombie). */
export function isAlive(ref: ProcRef): boolean {
  return procStart(ref.pid) === ref.start
}

/** The root and every descendant now running, each with its start time. Empty when the root is gone. */
export function treeRefs(root: number): ProcRef[] {
  const out: ProcRef[] = []
  for (const p of processTree(root)) {
    const start = procStart(p.pid)
    if (start !== undefined) out.push({ pid: p.pid, start })
  }
  return out
}

/** Sends `signal` to each process that is still the one named; returns how many were signalled. */
export function signalRefs(refs: ProcRef[], signal: NodeJS.Signals): number {
  let n = 0
  for (const r of refs) {
    if (!isAlive(r)) continue
    try { process.kill(r.pid, signal); n++ } catch { /* gone between the check and the kill */ }
  }
  return n
}

/** Merges ref lists, one entry per (pid, start). */
export function mergeRefs(...lists: ProcRef[][]): ProcRef[] {
  const seen = new Map<string, ProcRef>()
  for (const list of lists) for (const r of list) seen.set(`${r.pid}:${r.start}`, r)
  return [...seen.values()]
}

/**
 * Kills a set of process trees: SIGTERM to every member (children first, so a wrapper cannot respawn them), then
 * SIGKILL to whatever is left after `graceMs`. The trees are read once before the first signal: a worker whose
 * master dies is re-parented to init and would otherwise drop out of the tree.
 */
export async function killTrees(roots: ProcRef[], graceMs = 3000): Promise<void> {
  const refs = mergeRefs(...roots.filter(isAlive).map((r) => treeRefs(r.pid)), roots)
  if (signalRefs([...refs].reverse(), 'SIGTERM') === 0) return
  const until = Date.now() + graceMs
  while (Date.now() < until && refs.some(isAlive)) await new Promise((r) => setTimeout(r, 25))
  signalRefs(refs, 'SIGKILL')
  const hard = Date.now() + 2000
  while (Date.now() < hard && refs.some(isAlive)) await new Promise((r) => setTimeout(r, 10))
}

/** Synchronous last resort (process 'exit' handler): SIGKILL to every member of the trees, no waiting. */
export function killTreesNow(roots: ProcRef[]): void {
  signalRefs(mergeRefs(...roots.filter(isAlive).map((r) => treeRefs(r.pid)), roots), 'SIGKILL')
}
