// lab/harness/cpu-profile.ts: reads a V8 .cpuprofile (node --cpu-prof) into the few lines a report needs —
// the functions with the most self time, and the share of time spent in gw's own files — so "where is gw slow"
// has an answer in the result file, not only in a DevTools session.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  hitCount?: number
  children?: number[]
}
interface CpuProfile { nodes: CpuProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

export interface ProfileLine { fn: string; where: string; selfMs: number; selfShare: number }

export interface ProfileSummary {
  file: string
  totalMs: number
  top: ProfileLine[]
  /** Self time by area: gw's runtime/, policies/, generated bundle code, undici, node internals, (idle), (gc)… */
  byArea: { area: string; ms: number; share: number }[]
}

/** Which part of the process a frame belongs to, from its script URL. */
export function areaOf(url: string, fn: string): string {
  if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') return fn
  if (url === '') return '(native/builtin)'
  if (url.startsWith('node:')) return 'node internals'
  if (url.includes('/node_modules/undici/')) return 'undici'
  if (url.includes('/node_modules/')) return 'other node_modules'
  // gw's own HTTP/1.1 engine (parser, writer, listener, upstream pool) apart from the rest of its runtime.
  if (url.includes('/dist/runtime/http1/')) return 'gw runtime/http1/'
  for (const a of ['runtime', 'policies', 'config']) if (url.includes(`/dist/${a}/`)) return `gw ${a}/`
  if (url.includes('/dist/bench/')) return 'bench/ (peer proxy code)'
  if (url.includes('/dist/lab/peers/')) return 'lab/peers (peer proxy code)'
  if (url.includes('/dist/lab/probe/')) return 'lab/probe (the measuring probe)'
  for (const a of ['bin', 'compiler', 'grammar']) if (url.includes(`/dist/${a}/`)) return `gw ${a}/`
  if (url.startsWith('data:') || url.includes('bundle')) return 'generated bundle'
  return 'other'
}

/**
 * A window of the profiled process's life in V8's clock: microseconds of CLOCK_MONOTONIC, the clock
 * `process.hrtime.bigint()` reads in any process on the machine (so a harness can say "only the load window").
 */
export interface ProfileWindow { fromUs: number; toUs: number }

/** `process.hrtime.bigint()` in µs: the same clock as a .cpuprofile's timestamps on Linux. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n)

/**
 * Summarises one profile: self time per function (samples × their time deltas), top `n`. With a window, only the
 * samples inside it count — module loading at start-up and the drain at exit stay out of a steady-state profile.
 */
export function summarizeProfile(profile: CpuProfile, file = '', n = 15, window?: ProfileWindow): ProfileSummary {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]))
  const self = new Map<number, number>()
  const samples = profile.samples ?? []
  const deltas = profile.timeDeltas ?? []
  if (samples.length > 0 && deltas.length === samples.length) {
    // timeDeltas[i] is the time before sample i; attribute it to the sample that ends it (V8's convention).
    let t = profile.startTime
    for (let i = 0; i < samples.length; i++) {
      t += deltas[i]
      if (window !== undefined && (t < window.fromUs || t > window.toUs)) continue
      self.set(samples[i], (self.get(samples[i]) ?? 0) + Math.max(0, deltas[i]) / 1000)
    }
  } else {
    const per = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.nodes.reduce((s, x) => s + (x.hitCount ?? 0), 0))
    for (const x of profile.nodes) if (x.hitCount) self.set(x.id, x.hitCount * per)
  }
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0)
  const byFn = new Map<string, { fn: string; where: string; ms: number }>()
  const byArea = new Map<string, number>()
  for (const [id, t] of self) {
    const cf = byId.get(id)!.callFrame
    const fn = cf.functionName || '(anonymous)'
    const short = cf.url.replace(/^file:\/\/.*?\/dist\//, 'dist/').replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/')
    const where = cf.url === '' ? '' : `${short}:${cf.lineNumber + 1}`
    const key = `${fn} ${where}`
    const e = byFn.get(key) ?? { fn, where, ms: 0 }
    e.ms += t
    byFn.set(key, e)
    const area = areaOf(cf.url, fn)
    byArea.set(area, (byArea.get(area) ?? 0) + t)
  }
  const r = (x: number): number => Math.round(x * 10) / 10
  const share = (x: number): number => Math.round((x / Math.max(totalMs, 1e-9)) * 1000) / 1000
  return {
    file,
    totalMs: r(totalMs),
    top: [...byFn.values()].sort((a, b) => b.ms - a.ms).slice(0, n).map((e) => ({ fn: e.fn, where: e.where, selfMs: r(e.ms), selfShare: share(e.ms) })),
    byArea: [...byArea].sort((a, b) => b[1] - a[1]).map(([area, t]) => ({ area, ms: r(t), share: share(t) })),
  }
}

/** The newest .cpuprofile in a directory, summarised; undefined when there is none. */
export function summarizeProfileDir(dir: string, n = 15, window?: ProfileWindow): ProfileSummary | undefined {
  let files: string[]
  try { files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() } catch { return undefined }
  const last = files.at(-1)
  if (last === undefined) return undefined
  const file = join(dir, last)
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, file, n, window)
}

/**
 * The top `n` functions of a summary (idle left out) with their share of all samples and of the busy ones, one per
 * line ("   5.9%  (15.3% of busy)  writeBuffer"), for the run's console output.
 */
export function formatTop(s: ProfileSummary, n = 10): string[] {
  const busy = busyShare(s)
  const rows = s.top.filter((t) => t.fn !== '(idle)').slice(0, n)
  return rows.map((t) => `${(t.selfShare * 100).toFixed(1).padStart(6)}%  ${busy > 0 ? `(${((t.selfShare / busy) * 100).toFixed(1).padStart(4)}% of busy)  ` : ''}${t.fn}${t.where === '' ? '' : `  ${t.where}`}`)
}

/** The share of a profile's samples that were not idle (waiting for the network): what "busy" divides by. */
export function busyShare(s: ProfileSummary): number {
  return 1 - (s.byArea.find((a) => a.area === '(idle)')?.share ?? 0)
}

/** The areas of a summary with their share, on one line ("node internals 21.2%, undici 13.5%, …"). */
export function formatAreas(s: ProfileSummary, n = 8): string {
  return s.byArea.slice(0, n).map((a) => `${a.area} ${(a.share * 100).toFixed(1)}%`).join(', ')
}
