// testkit/load/index.ts: the load generator's public API (the CLI is main.ts).
export { runOpen, type OpenOptions } from './open.js'
export { runClosed, type ClosedOptions } from './closed.js'
export { classifyError, LoadTimeoutError, type CommonOptions } from './engine.js'
export { prepareMix, singleMix, type MixEntry, type PreparedMix, type PreparedRequest } from './mix.js'
export { createLatencyHistogram, recordMs, summarize, type LatencySummary } from './histogram.js'
export { formatSummary, type LoadResult, type SecondSample, type ErrorKind } from './result.js'
export { parseDuration } from './duration.js'
