// lab/probe/index.ts: the process probe's public API (preload.ts is loaded by path, not imported).
export { createProcessProbe, countFds, type ProbeStartOptions } from './process-probe.js'
export { spawnProbed, PRELOAD_URL, type ProbedProcess, type SpawnProbedOptions } from './spawn-probed.js'
export { createTreeProbe, processTree, readProcStat, countProcFds, clockTicks, type ProcStat } from './tree-reader.js'
export { readProbeFile, toggleProbe } from './signal-file.js'
export { perRequest, type ProbeResult, type TreeProbeResult, type PerRequestCost } from './types.js'
