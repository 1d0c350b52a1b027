// lab/experiments/containment-policy.ts: the containment experiment's upstream behaviours (stub rules) and its
// variants' policies, shared by the main run and the breaker-reaction part.
import type { RuleSpec } from '../../testkit/upstream/rules.js'
import { INERT_PASSIVE_HEALTH, replicaList } from '../harness/rig.js'

export const HEALTHY: RuleSpec[] = [{ path: '/', latency: { dist: 'lognormal', p50: 5, p99: 20 } }]
export const BAD: RuleSpec[] = [{ path: '/', latency: { dist: 'lognormal', p50: 200, p99: 1000 }, error: { rate: '30%', status: 503 } }]
export const CATALOG: RuleSpec[] = [{ path: '/', latency: { dist: 'uniform', min: 1, max: 4 } }]

export interface Variant { id: string; label: string; payments: string }

/** The breaker's threshold sits below the injected 30% so it can open; the bulkhead caps what a slow payments may hold. */
export const BREAKER = 'breaker error_ratio 25% min_requests 20 window 10s open_for 2s half_open 3'
export const BULKHEAD = 'bulkhead max_in_flight 64'

export const VARIANTS: readonly Variant[] = [
  { id: 'off', label: 'breaker off (no breaker, no bulkhead)', payments: INERT_PASSIVE_HEALTH },
  { id: 'on', label: `breaker on (${BREAKER}; ${BULKHEAD})`, payments: `${INERT_PASSIVE_HEALTH}\n  ${BREAKER}\n  ${BULKHEAD}` },
  { id: 'passive', label: 'breaker off, passive health at its defaults (5 failures eject a replica for 30 s)', payments: '' },
]

export function containmentPolicy(v: Variant, payments: number[], catalog: number[]): string {
  return `# written by lab/experiments/containment.ts: variant ${v.id}
upstream payments {
  replicas ${replicaList(payments)}
  pool connections 64 idle 30s
  ${v.payments}
}

upstream catalog {
  replicas ${replicaList(catalog)}
  pool connections 64 idle 30s
}

route payments {
  match path prefix "/v1/payments"
  timeout 2s
  proxy payments
}

route catalog {
  match path prefix "/v1/catalog"
  timeout 2s
  proxy catalog
}
`
}

