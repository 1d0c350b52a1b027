// lab/experiments/index.ts: the resilience experiments by name, for lab/run.ts and lab/run.ts.
import type { ExperimentOptions } from '../harness/lifecycle.js'
import { runContainment } from './containment.js'
import { runFaults } from './faults.js'
import { runHotReload } from './hot-reload.js'
import { runJwksRotation } from './jwks-rotation.js'
import { runRetryStorm } from './retry-storm.js'
import { runRolling } from './rolling.js'
import { runStageCost } from './stage-cost.js'

export type { ExperimentOptions, Flavour } from '../harness/lifecycle.js'

export interface ExperimentDef {
  id: string
  /** One line for the usage text. */
  summary: string
  run(o: ExperimentOptions): Promise<unknown>
}

export const EXPERIMENTS: readonly ExperimentDef[] = [
  { id: 'containment', summary: 'slow upstream containment: payments slow + 30% 503; catalog p99, breaker open time, pile-up; breaker off vs on', run: runContainment },
  { id: 'retry-storm', summary: 'retry storm: a dead upstream (503 / connection refused); naive retries vs retry 1 + budget + breaker; amplification', run: runRetryStorm },
  { id: 'jwks-rotation', summary: 'JWKS rotation under load: rotate, switch tokens, retire; p99 over time, IdP fetches, old tokens → 401', run: runJwksRotation },
  { id: 'stage-cost', summary: 'marginal cost per stage: added p99, CPU µs/req, heap B/req over passthrough (auth, ratelimit local/redis, headers, breaker)', run: runStageCost },
  { id: 'hot-reload', summary: 'hot reload under load: routing changes, one broken policy; dropped requests, time to apply, old version keeps serving', run: runHotReload },
  { id: 'faults', summary: 'faults under load: SIGHUP/SIGTERM (1 and 2 workers), non-reading clients vs a pool of 4, Redis SIGSTOP/SIGKILL, IdP down/503/slow, replicas killed', run: runFaults },
  { id: 'rolling', summary: 'graceful shutdown (drained vs aborted) and rolling restarts of two replicas behind a balancer', run: runRolling },
]

export function findExperiment(id: string): ExperimentDef | undefined {
  return EXPERIMENTS.find((e) => e.id === id)
}
