// lab/harness/run-start.ts: how every measuring run begins (tax, reuse, the resilience experiments). It samples
// the machine's load, waits until no other benchmark runs and the CPUs are nearly idle (on this 2-CPU machine
// another benchmark would be measured along with the targets), and only then decides the CPU placement — which
// CPU is idler is a fact about now, not about when the command was typed — and starts the supervisor.
import { waitForQuiet } from '../experiments/quiet.js'
import { detectCpuPlan, pinSelf, type CpuPlan } from './cpu-plan.js'
import { formatLoad, sampleLoad, type LoadSample, type MachineInfo } from './machine.js'
import { createSupervisor, type Supervisor } from './supervisor.js'

/** What every result file (tax, reuse, the experiments) records about its run. */
export interface RunHeader {
  startedAt: string
  finishedAt: string
  /** Wall time of the whole run, waiting for other benchmarks included. */
  durationS: number
  machine: MachineInfo
  cpuPlan: string
  /** uptime load averages through the run (other users of the machine). */
  load: LoadSample[]
  notes: string[]
}

export interface RunStart {
  /** Load samples: 'start', and 'after-wait' when the wait took more than 5 s. */
  loads: LoadSample[]
  /** What the wait found (or that it was skipped), for the result's notes. */
  notes: string[]
  waitedS: number
  /** performance.now() when measuring began (after the wait). */
  clock0: number
  plan: CpuPlan
  sup: Supervisor
}

export interface RunStartOptions {
  log: (s: string) => void
  /** The first line logged, e.g. "gwp tax table (quick)"; the load average is appended. */
  title: string
  machine: MachineInfo
  /** false: start at once (--no-wait). */
  wait: boolean
  maxWaitMs?: number
}

export async function startRun(o: RunStartOptions): Promise<RunStart> {
  const loads: LoadSample[] = [sampleLoad('start')]
  const notes: string[] = []
  o.log(`${o.title}, ${formatLoad(loads[0], o.machine.cpus)}`)
  let waitedS = 0
  if (o.wait) {
    const w0 = Date.now()
    notes.push(await waitForQuiet(o.log, o.maxWaitMs))
    waitedS = Math.round((Date.now() - w0) / 1000)
    if (waitedS > 5) loads.push(sampleLoad('after-wait'))
  } else {
    notes.push('started without waiting for other benchmarks (--no-wait)')
  }
  const clock0 = performance.now()
  const plan = await detectCpuPlan()
  const sup = createSupervisor({ plan })
  const pinned = pinSelf(plan, 'load')
  o.log(plan.description + (plan.pinned && !pinned ? ' (could not pin the harness itself)' : ''))
  return { loads, notes, waitedS, clock0, plan, sup }
}
