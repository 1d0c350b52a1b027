// lab/experiments/phases.ts: an open-model load cut into phases on a schedule (healthy → upstream bad →
// recovered), each phase its own testkit/load run so its latency percentiles and errors are exact, with the
// experiment's action (switch the stub's rules, stop a process) taken at each boundary. A phase starts on time
// even while the previous one's last requests are still in flight, so the arrival rate never pauses.
import { runOpen, type LoadResult, type MixEntry } from '../../testkit/load/index.js'
import { sleepUntil } from './common.js'

export interface PhaseSpec {
  id: string
  /** Start and end, seconds after the origin. */
  startS: number
  endS: number
  /** Taken at the phase's start, before its load begins (e.g. make the upstream fail). */
  action?: () => Promise<void>
}

export interface PhaseRun {
  id: string
  startS: number
  endS: number
  /** Wall ms when the action began and ended (both the phase start when there is none). */
  actionAt: number
  actionDoneAt: number
  result: LoadResult
}

export interface PhasedLoad {
  url: string
  mix: MixEntry[]
  rate: number
  connections?: number
  timeoutMs?: number
  /** Wall ms of t = 0. */
  origin: number
  phases: PhaseSpec[]
  /** The mix of a phase, read after its action ran (a mix that only exists then: tokens of a key just created). */
  mixFor?: (phase: string) => MixEntry[]
}

/** Checks a schedule: phases in order, each at least 100 ms long, none overlapping. Throws on a bad one. */
export function checkPhases(phases: readonly PhaseSpec[]): void {
  let prev = -Infinity
  for (const p of phases) {
    if (!(p.endS - p.startS >= 0.1)) throw new Error(`phase ${p.id}: must last at least 100 ms`)
    if (p.startS < prev) throw new Error(`phase ${p.id}: starts before the previous phase ends`)
    prev = p.endS
  }
}

/** Runs the phases on their schedule; resolves when the last phase's requests have all settled. */
export async function runPhasedLoad(o: PhasedLoad): Promise<PhaseRun[]> {
  checkPhases(o.phases)
  return Promise.all(o.phases.map(async (p) => {
    const at = o.origin + p.startS * 1000
    await sleepUntil(at)
    const actionAt = Date.now()
    if (p.action !== undefined) await p.action()
    const actionDoneAt = Date.now()
    const end = o.origin + p.endS * 1000
    const result = await runOpen({
      url: o.url, mix: o.mixFor?.(p.id) ?? o.mix, rate: o.rate, connections: o.connections ?? 32,
      durationMs: Math.max(100, end - Date.now()), warmupMs: 0, timeoutMs: o.timeoutMs ?? 5000,
    })
    return { id: p.id, startS: p.startS, endS: p.endS, actionAt, actionDoneAt, result }
  }))
}

/** Which phase a time (seconds on the time line) falls in, or undefined. */
export function phaseAt<P extends { startS: number; endS: number }>(phases: readonly P[], t: number): P | undefined {
  return phases.find((p) => t >= p.startS && t < p.endS)
}
