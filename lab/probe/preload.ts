// lab/probe/preload.ts: loaded with `node --import <abs>/dist/lab/probe/preload.js server.js`, it lets a
// harness measure any Node server (gateway, floor proxy, fastify) without the server's cooperation.
//
// Two ways to drive it; both may be active at once:
//  - IPC (preferred; what spawnProbed uses): when the process has an IPC channel (spawned with 'ipc' in stdio)
//    and is not a cluster worker, it answers tagged messages. Parent → child: { gwpProbe: 'start', id,
//    countRequests?, peakEveryMs? } / { gwpProbe: 'stop', id } / { gwpProbe: 'ping', id }. Child → parent: { gwpProbe:
//    'started' | 'result' | 'pong' | 'error', id, pid, result?, message? }. Other messages are ignored, and the
//    probe never speaks first, so a parent that does not know the protocol sees nothing.
//  - Signal + file: when GWP_PROBE_FILE is set, each SIGUSR2 toggles start/stop, and the state is written to
//    that file (atomically: temp file + rename) as { state: 'started', pid } or { state: 'stopped', pid, result }.
//    GWP_PROBE_COUNT_REQUESTS=1 turns on request counting in this mode. Works for processes started by
//    anything (a shell, a supervisor), at the price of polling the file.
//
// It must not keep the process alive: the IPC channel is unref'd after the listener is added (a 'message'
// listener would otherwise ref it), signal handlers never hold the loop, and the probe has no timers of its own.
// Limitation: in a node:cluster setup only the process that received the command is measured.
import { renameSync, writeFileSync } from 'node:fs'
import { createProcessProbe } from './process-probe.js'

interface ProbeCommand { gwpProbe: 'start' | 'stop' | 'ping'; id?: number; countRequests?: boolean; peakEveryMs?: number }

const probe = createProcessProbe()

function isCommand(m: unknown): m is ProbeCommand {
  return typeof m === 'object' && m !== null && typeof (m as { gwpProbe?: unknown }).gwpProbe === 'string'
}

function onMessage(m: unknown): void {
  if (!isCommand(m) || process.send === undefined) return
  const id = m.id ?? 0
  try {
    if (m.gwpProbe === 'start') {
      probe.start({ countRequests: m.countRequests === true, ...(typeof m.peakEveryMs === 'number' ? { peakEveryMs: m.peakEveryMs } : {}) })
      process.send({ gwpProbe: 'started', id, pid: process.pid })
    } else if (m.gwpProbe === 'stop') {
      const result = probe.stop()
      process.send({ gwpProbe: 'result', id, pid: process.pid, result })
    } else if (m.gwpProbe === 'ping') {
      process.send({ gwpProbe: 'pong', id, pid: process.pid, running: probe.running })
    }
  } catch (e) {
    process.send({ gwpProbe: 'error', id, pid: process.pid, message: (e as Error).message })
  }
}

const isClusterWorker = process.env.NODE_UNIQUE_ID !== undefined
if (process.send !== undefined && process.channel !== undefined && !isClusterWorker) {
  process.on('message', onMessage)
  process.channel.unref()
}

const file = process.env.GWP_PROBE_FILE
if (file !== undefined && file !== '') {
  const write = (state: object): void => {
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(state))
    renameSync(tmp, file)
  }
  process.on('SIGUSR2', () => {
    try {
      if (!probe.running) {
        probe.start({ countRequests: process.env.GWP_PROBE_COUNT_REQUESTS === '1' })
        write({ state: 'started', pid: process.pid })
      } else {
        write({ state: 'stopped', pid: process.pid, result: probe.stop() })
      }
    } catch (e) {
      write({ state: 'error', pid: process.pid, message: (e as Error).message })
    }
  })
}
