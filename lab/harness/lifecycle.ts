// lab/harness/lifecycle.ts: the one run lifecycle of every lab experiment (tax, reuse, the resilience experiments).
// A run samples the machine's load, waits until no other benchmark runs and the CPUs are nearly idle (on this
// 2-CPU machine another benchmark would be measured along with the targets), and only then decides the CPU
// placement — which CPU is idler is a fact about now, not about when the command was typed — and starts the
// supervisor; its body runs; every process it started is stopped (also on Ctrl-C) and its scratch directory
// removed; then lab/results/<date>-<name>.{json,md,svg} are written.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TopLevelSpec } from 'vega-lite'
import { detectCpuPlan, pinSelf, type CpuPlan } from './cpu-plan.js'
import { formatLoad, machineInfo, sampleLoad, type LoadSample, type MachineInfo } from './machine.js'
import { closeControl } from './metrics-text.js'
import { waitForQuiet } from './quiet.js'
import { resultBase, shortPath, writeResults, type WrittenFiles } from './results-io.js'
import { closeRigControl } from './rig.js'
import { createSupervisor, type Supervisor } from './supervisor.js'

/** What every result file records about its run. */
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
  maxWaitMs?: number | undefined
}

async function startRun(o: RunStartOptions): Promise<RunStart> {
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

export type Flavour = 'quick' | 'full'

export interface ExperimentOptions {
  flavour: Flavour
  /** Result name (default `<experiment>-<flavour>`). */
  name?: string
  /** Write results there instead of lab/results/. */
  outDir?: string
  log?: (line: string) => void
  /** Do not wait for other benchmarks to finish (--no-wait; a note in the result says so). */
  noWait?: boolean
  /** How long to wait for other benchmarks at most, then measure anyway and say so (default: quiet.ts's). */
  maxWaitMs?: number
}

/** What an experiment's steps get: the supervised processes, the machine facts, and a place for notes. */
export interface ExperimentEnv {
  sup: Supervisor
  plan: CpuPlan
  /** Scratch directory (policies, stub configs), removed at the end. */
  dir: string
  log: (line: string) => void
  /** When measuring began (after the wait). */
  started: Date
  /** performance.now() when measuring began: the origin of the run's time line. */
  clock0: number
  machine: MachineInfo
  /** `uptime` readings through the run: call `mark(phase)` at each phase. */
  loads: LoadSample[]
  mark(phase: string): void
  /** Free-form notes carried into the result and its markdown. */
  notes: string[]
}

/** The fields every result starts with (the markdown header is built from them). */
export interface ResultHeader extends RunHeader {
  kind: string
  version: 1
  name: string
  flavour: Flavour
  /** Time spent waiting for other benchmarks / a busy machine before measuring (included in durationS). */
  waitedS: number
}

/**
 * Runs `body` with a ready environment and always cleans up: every process the experiment started is stopped
 * (also on Ctrl-C, through the supervisor), the scratch directory is removed, and the header is filled in.
 */
export async function runExperiment<T>(kind: string, o: ExperimentOptions, title: string, body: (env: ExperimentEnv) => Promise<T>): Promise<{ header: ResultHeader; value: T }> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'))
  const machine = machineInfo()
  const runStarted = new Date()
  const { loads, notes, waitedS, clock0, plan, sup } = await startRun({ log, title: `${title} (${o.flavour})`, machine, wait: o.noWait !== true, maxWaitMs: o.maxWaitMs })
  const started = new Date()
  const dir = mkdtempSync(join(tmpdir(), `gwp-${kind}-`))
  const env: ExperimentEnv = {
    sup, plan, dir, log, started, clock0, machine, loads, notes,
    mark: (phase) => { loads.push(sampleLoad(phase)) },
  }
  let value: T
  try {
    value = await body(env)
  } finally {
    log('\nstopping benchmark processes…')
    await sup.stopAll()
    sup.dispose()
    await closeControl()
    await closeRigControl()
    rmSync(dir, { recursive: true, force: true })
  }
  loads.push(sampleLoad('end'))
  const finished = new Date()
  const header: ResultHeader = {
    kind: `gwp-bench-${kind}`, version: 1, name: o.name ?? `${kind}-${o.flavour}`, flavour: o.flavour,
    startedAt: runStarted.toISOString(), finishedAt: finished.toISOString(),
    durationS: Math.round((finished.getTime() - runStarted.getTime()) / 1000), waitedS,
    machine, cpuPlan: plan.description, load: loads, notes,
  }
  return { header, value }
}

/** Writes the result files and says where they went. */
export async function writeExperiment<R extends ResultHeader>(result: R, markdown: (charts: { name: string; file: string; error?: string }[]) => string,
  charts: { name: string; spec: TopLevelSpec }[], o: ExperimentOptions): Promise<WrittenFiles> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'))
  const files = await writeResults(resultBase(new Date(result.startedAt), result.name), result, markdown, charts, o.outDir)
  log(`\nwrote ${shortPath(files.md)}, ${shortPath(files.json)} and ${files.svgs.length} charts (${result.durationS - result.waitedS} s` +
    (result.waitedS > 0 ? `, after waiting ${result.waitedS} s for the machine` : '') + ')')
  return files
}
