// lab/experiments/common.ts: timing helpers the experiments' schedules share (their run lifecycle is
// lab/harness/lifecycle.ts).
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)))

/** Sleeps until wall-clock time `at` (Date.now() ms). */
export const sleepUntil = (at: number): Promise<void> => sleep(at - Date.now())
