// lab/probe/signal-file.ts: the harness side of the preload's signal + file mode (GWP_PROBE_FILE, SIGUSR2),
// for a probed Node process that was not spawned by us with an IPC channel.
import { readFileSync, rmSync } from 'node:fs'
import type { ProbeResult } from './types.js'

interface ProbeFileState { state: 'started' | 'stopped' | 'error'; pid: number; result?: ProbeResult; message?: string }

/** The probe file's current state, or undefined if it is absent or half-written. */
export function readProbeFile(file: string): ProbeFileState | undefined {
  try { return JSON.parse(readFileSync(file, 'utf8')) as ProbeFileState } catch { return undefined }
}

/**
 * Sends SIGUSR2 to `pid` and waits until its probe file shows `want`. For 'started' the file is removed first,
 * so a file left by an earlier window cannot answer for this one. Resolves with the stop result for 'stopped'.
 */
export async function toggleProbe(pid: number, file: string, want: 'started' | 'stopped', timeoutMs = 5000): Promise<ProbeResult | undefined> {
  if (want === 'started') rmSync(file, { force: true })
  process.kill(pid, 'SIGUSR2')
  const until = Date.now() + timeoutMs
  for (;;) {
    const s = readProbeFile(file)
    if (s?.state === 'error') throw new Error(`probe: ${String(s.message)}`)
    if (s?.state === want && s.pid === pid) return s.result
    if (Date.now() > until) throw new Error(`probe: ${file} did not become '${want}' in ${timeoutMs} ms (is GWP_PROBE_FILE set and the preload loaded?)`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
