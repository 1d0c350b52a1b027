// lab/harness/watchdog.ts: a small process that outlives the harness for one job: when the harness dies in a
// way its own handlers cannot catch (SIGKILL, a crash in native code), kill every process the run started.
//   spawned by supervisor.ts: node dist/lab/harness/watchdog.js   (stdin: "track <pid> <start>" lines)
// It remembers the trees of the tracked pids (refreshed every 500 ms, so nginx workers are known even after
// their master is gone) and, when its stdin ends — the harness exited, however it exited — kills what is still
// running. A harness that cleaned up first leaves it nothing to do.
import { createInterface } from 'node:readline'
import { isAlive, killTrees, mergeRefs, treeRefs, type ProcRef } from './proc-tree.js'

const REFRESH_MS = 500

const roots: ProcRef[] = []
let known: ProcRef[] = []

function refresh(): void {
  const live = roots.filter(isAlive)
  known = mergeRefs(known.filter(isAlive), ...live.map((r) => treeRefs(r.pid)))
}

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  const m = /^track (\d+) (\d+)$/.exec(line.trim())
  if (m !== null) { roots.push({ pid: Number(m[1]), start: Number(m[2]) }); refresh() }
})
const timer = setInterval(refresh, REFRESH_MS)
rl.on('close', () => {
  clearInterval(timer)
  refresh()
  // The trees' members are passed as roots too: a worker whose master already died is still on the list.
  void killTrees(mergeRefs(roots, known), 2000).finally(() => process.exit(0))
})
// Ctrl-C in the terminal reaches the whole foreground group; the watchdog must stay to do its job after it.
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {})
