// lab/harness/machine.ts: what a result must say about the machine it ran on — CPUs, versions, the commit,
// and the load other users put on it (uptime's load averages, sampled through the run): this machine is shared.
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { findNginx } from '../peers/nginx.js'
import { REPO_ROOT } from './paths.js'

export interface LoadSample { at: string; phase: string; loadavg: [number, number, number]; uptime: string }

export interface MachineInfo {
  cpus: number
  cpuModel: string
  memoryBytes: number
  node: string
  nginx: string | null
  commit: string | null
  /** True when the working tree had uncommitted changes at start. */
  dirty: boolean | null
}

const sh = (cmd: string, args: string[]): string | null => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT }).trim() } catch { return null }
}

export function machineInfo(): MachineInfo {
  const nginx = findNginx()
  let nginxVersion: string | null = null
  if (nginx !== undefined) {
    const r = sh('sh', ['-c', `"$0" -v 2>&1`, nginx]) // nginx -v prints to stderr
    nginxVersion = r?.replace(/^nginx version:\s*/, '') ?? null
  }
  const status = sh('git', ['status', '--porcelain', '--untracked-files=no'])
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    nginx: nginxVersion,
    commit: sh('git', ['rev-parse', '--short=12', 'HEAD']),
    dirty: status === null ? null : status !== '',
  }
}

/** One reading of the load averages, with uptime's own line when the command exists. */
export function sampleLoad(phase: string): LoadSample {
  const l = loadavg()
  const r2 = (x: number): number => Math.round(x * 100) / 100
  return { at: new Date().toISOString(), phase, loadavg: [r2(l[0]), r2(l[1]), r2(l[2])], uptime: sh('uptime', []) ?? '' }
}

/** "load 2.68 / 2.54 / 2.36 (1/5/15 min) on 2 CPUs" */
export function formatLoad(s: LoadSample, cpuCount: number): string {
  return `load ${s.loadavg.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) on ${cpuCount} CPUs`
}
