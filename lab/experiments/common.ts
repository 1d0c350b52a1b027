// lab/experiments/common.ts: what every resilience experiment does around its own steps — wait until no other
// benchmark runs on the shared machine, pin and supervise its processes (lab/harness), sample the machine's
// load, keep a scratch directory, and write lab/results/<date>-<name>.{json,md,svg} at the end.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TopLevelSpec } from 'vega-lite'
import type { CpuPlan } from '../harness/cpu-plan.js'
import { machineInfo, sampleLoad, type LoadSample, type MachineInfo } from '../harness/machine.js'
import { closeControl } from '../harness/metrics-text.js'
import { resultBase, shortPath, writeResults, type WrittenFiles } from '../harness/results-io.js'
import { startRun, type RunHeader } from '../harness/run-start.js'
import type { Supervisor } from '../harness/supervisor.js'
import { closeRigControl } from './rig.js'

export type Flavour = 'quick' | 'full'

export interface ExperimentOptions {
  flavour: Flavour
  /** Result name (default `<experiment>-<flavour>`). */
  name?: string
  /** Write results there instead of lab/results/. */
  outDir?: string
  log?: (line: string) => void
  /** Do not wait for other benchmarks to finish (tests; a note in the result says so). */
  noWait?: boolean
}

/** What an experiment's steps get: the supervised processes, the machine facts, and a place for notes. */
export interface ExperimentEnv {
  sup: Supervisor
  plan: CpuPlan
  /** Scratch directory (policies, stub configs), removed at the end. */
  dir: string
  log: (line: string) => void
  started: Date
  machine: MachineInfo
  /** `uptime` readings through the run: call `mark(phase)` at each phase. */
  loads: LoadSample[]
  mark(phase: string): void
  /** Free-form notes carried into the result and its markdown. */
  notes: string[]
}

/** The fields every experiment result starts with (the markdown header is built from them). */
export interface ResultHeader extends RunHeader {
  kind: string
  version: 1
  name: string
  flavour: Flavour
}

/**
 * Runs `body` with a ready environment and always cleans up: every process the experiment started is stopped
 * (also on Ctrl-C, through the supervisor), the scratch directory is removed, and the header is filled in.
 */
export async function runExperiment<T>(kind: string, o: ExperimentOptions, title: string, body: (env: ExperimentEnv) => Promise<T>): Promise<{ header: ResultHeader; value: T }> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'))
  const machine = machineInfo()
  const { loads, notes, plan, sup } = await startRun({ log, title: `${title} (${o.flavour})`, machine, wait: o.noWait !== true })
  const started = new Date()
  const dir = mkdtempSync(join(tmpdir(), `gwp-${kind}-`))
  const env: ExperimentEnv = {
    sup, plan, dir, log, started, machine, loads, notes,
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
    startedAt: started.toISOString(), finishedAt: finished.toISOString(),
    durationS: Math.round((finished.getTime() - started.getTime()) / 1000),
    machine, cpuPlan: plan.description, load: loads, notes,
  }
  return { header, value }
}

/** Writes the result files and says where they went. */
export async function writeExperiment<R extends ResultHeader>(result: R, markdown: (charts: { name: string; file: string; error?: string }[]) => string,
  charts: { name: string; spec: TopLevelSpec }[], o: ExperimentOptions): Promise<WrittenFiles> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'))
  const files = await writeResults(resultBase(new Date(result.startedAt), result.name), result, markdown, charts, o.outDir)
  log(`\nwrote ${shortPath(files.md)}, ${shortPath(files.json)} and ${files.svgs.length} charts (${result.durationS} s)`)
  return files
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/** Sleeps until wall-clock time `at` (Date.now() ms). */
export const sleepUntil = (at: number): Promise<void> => sleep(at - Date.now())
