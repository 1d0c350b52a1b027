// lab/harness/cpu-plan.ts: which CPUs each process of a benchmark run is pinned to (taskset), and the words
// that say so in the output. Pinning keeps the proxy under test off the core the load generator burns.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** The roles a run pins: the load generator (this process), the stub upstream and IdP, the proxy under test. */
export type CpuRole = 'load' | 'upstream' | 'proxy'

export interface CpuPlan {
  /** False when taskset is missing or fewer than 2 CPUs are allowed: every process floats. */
  pinned: boolean
  /** CPU list per role, in taskset's `-c` syntax ("0", "1,2"); empty when not pinned. */
  cpus: Record<CpuRole, string>
  /** One line for the output and the result file. */
  description: string
}

/** Parses a kernel CPU list ("0-3,6,8-9") into CPU numbers. Throws on malformed text. */
export function parseCpuList(text: string): number[] {
  const out: number[] = []
  for (const part of text.trim().split(',')) {
    if (part === '') continue
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim())
    if (m === null) throw new Error(`bad CPU list ${JSON.stringify(text)}`)
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    for (let c = a; c <= b; c++) out.push(c)
  }
  return out
}

/** CPUs this process may run on (/proc/self/status Cpus_allowed_list), or [] when unreadable. */
export function allowedCpus(): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m === null ? [] : parseCpuList(m[1])
  } catch { return [] }
}

/** Per-CPU busy share over `ms` from /proc/stat (user+nice+system+irq+softirq+steal over all), or an empty map. */
export async function cpuBusy(ms = 500): Promise<Map<number, number>> {
  const read = (): Map<number, { busy: number; total: number }> => {
    const out = new Map<number, { busy: number; total: number }>()
    try {
      for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
        const m = /^cpu(\d+)\s+(.*)$/.exec(line)
        if (m === null) continue
        const f = m[2].trim().split(/\s+/).map(Number)
        const idle = (f[3] ?? 0) + (f[4] ?? 0)
        const total = f.slice(0, 8).reduce((a, b) => a + b, 0)
        out.set(Number(m[1]), { busy: total - idle, total })
      }
    } catch { /* not Linux */ }
    return out
  }
  const a = read()
  await new Promise((r) => setTimeout(r, ms))
  const b = read()
  const out = new Map<number, number>()
  for (const [cpu, x] of b) {
    const y = a.get(cpu)
    if (y === undefined || x.total === y.total) continue
    out.set(cpu, (x.busy - y.busy) / (x.total - y.total))
  }
  return out
}

/** Path of taskset, or undefined. GWP_NO_PIN=1 turns pinning off (as if taskset were absent). */
export function findTaskset(): string | undefined {
  if (process.env.GWP_NO_PIN === '1') return undefined
  try { return execFileSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' }).trim() || undefined } catch { return undefined }
}

/**
 * Splits the allowed CPUs between the roles. With 2 CPUs the generator shares the first with the stub upstream
 * (both light next to a saturated proxy) and the proxy under test gets the second to itself. With 3 or more the
 * upstream gets its own CPU and the proxy the rest, so a multi-process peer (nginx workers) can use them.
 */
export function planCpus(cpus: number[], hasTaskset: boolean, busy?: Map<number, number>): CpuPlan {
  const none: CpuPlan = { pinned: false, cpus: { load: '', upstream: '', proxy: '' }, description: '' }
  if (!hasTaskset) return { ...none, description: 'not pinned: taskset not found (or GWP_NO_PIN=1); every process floats over all CPUs' }
  if (cpus.length < 2) return { ...none, description: `not pinned: only ${cpus.length} CPU allowed` }
  if (cpus.length === 2) {
    // On a shared machine one CPU may already be taken by someone else's work: give the proxy the idler one.
    const [x, y] = cpus
    const bx = busy?.get(x), by = busy?.get(y)
    const swap = bx !== undefined && by !== undefined && by > bx + 0.15
    const [a, b] = swap ? [y, x] : [x, y]
    const why = bx !== undefined && by !== undefined ? ` (CPU busy before the run from other processes: ${cpus.map((c) => `${c} ${Math.round((busy!.get(c) ?? 0) * 100)}%`).join(', ')})` : ''
    return {
      pinned: true,
      cpus: { load: String(a), upstream: String(a), proxy: String(b) },
      description: `pinned with taskset: load generator + stub upstream + IdP on CPU ${a}, the proxy under test on CPU ${b}${why}`,
    }
  }
  const [a, b, ...rest] = cpus
  const proxy = [b, ...rest].slice(1).join(',')
  return {
    pinned: true,
    cpus: { load: String(a), upstream: String(b), proxy },
    description: `pinned with taskset: load generator on CPU ${a}, stub upstream + IdP on CPU ${b}, the proxy under test on CPU ${proxy}`,
  }
}

/** The plan for this machine, measuring how busy each CPU is first (half a second). */
export async function detectCpuPlan(): Promise<CpuPlan> {
  const taskset = findTaskset() !== undefined
  return planCpus(allowedCpus(), taskset, taskset ? await cpuBusy() : undefined)
}

/** argv prefix that pins a command to a role's CPUs (`taskset -c 1 …`), or [] when the plan does not pin. */
export function pinPrefix(plan: CpuPlan, role: CpuRole): string[] {
  return plan.pinned && plan.cpus[role] !== '' ? ['taskset', '-c', plan.cpus[role]] : []
}

/**
 * Pins this process, every thread of it (-a: libuv's pool and V8's helpers too), to a role's CPUs. The load
 * generator runs in the harness process, so this is how it gets its core. Returns false when it could not.
 */
export function pinSelf(plan: CpuPlan, role: CpuRole): boolean {
  if (!plan.pinned) return false
  try {
    execFileSync('taskset', ['-a', '-p', '-c', plan.cpus[role], String(process.pid)], { stdio: 'ignore' })
    return true
  } catch { return false }
}
