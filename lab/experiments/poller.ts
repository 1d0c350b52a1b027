// lab/experiments/poller.ts: reads gw's /metrics and the stub's counters every few hundred milliseconds while
// an experiment runs, so in-flight requests, connections, breaker state and upstream traffic can be plotted over
// time and an event (the breaker opening, a JWKS fetch) bracketed between two scrapes.
import { getText, parseMetrics, sumMetric, type Sample } from '../harness/metrics-text.js'
import type { PollSample } from './timeline.js'

export interface Poller {
  /** Samples so far (the poller keeps appending until stopped). */
  readonly samples: PollSample[]
  /** Stops after the read in progress; resolves with every sample. */
  stop(): Promise<PollSample[]>
}

/**
 * Calls `read` every `intervalMs` (never two at once: a slow read delays the next) and keeps what it returns,
 * stamped with the wall time the read started. A read that throws (the process is restarting) leaves a gap.
 */
export function startPoller(intervalMs: number, read: () => Promise<Record<string, number>>): Poller {
  const samples: PollSample[] = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now()
      try { samples.push({ at, values: await read() }) } catch { /* a gap in the series */ }
      const wait = at + intervalMs - Date.now()
      if (wait > 0 && !stopped) await new Promise((r) => setTimeout(r, wait))
    }
  })()
  return { samples, stop: async () => { stopped = true; await loop; return samples } }
}

/** Several readers merged into one sample (keys must not clash); a reader that fails contributes nothing. */
export function combine(...readers: (() => Promise<Record<string, number>>)[]): () => Promise<Record<string, number>> {
  return async () => {
    const parts = await Promise.all(readers.map((r) => r().catch(() => ({}))))
    return Object.assign({}, ...parts) as Record<string, number>
  }
}

/** The per-upstream figures an experiment follows, from one scrape of gw's /metrics (keys `<upstream>.<figure>`). */
export function gwUpstreamValues(s: Sample[], upstream: string): Record<string, number> {
  const u = { upstream }
  const p = (k: string): string => `${upstream}.${k}`
  return {
    [p('inFlight')]: sumMetric(s, 'gw_upstream_in_flight_requests', u),
    [p('opened')]: sumMetric(s, 'gw_upstream_connections_opened_total', u),
    [p('closed')]: sumMetric(s, 'gw_upstream_connections_closed_total', u),
    [p('attempts')]: sumMetric(s, 'gw_upstream_requests_total', u),
    [p('ok')]: sumMetric(s, 'gw_upstream_requests_total', { upstream, outcome: '2xx' }),
    [p('5xx')]: sumMetric(s, 'gw_upstream_requests_total', { upstream, outcome: '5xx' }),
    [p('timeout')]: sumMetric(s, 'gw_upstream_requests_total', { upstream, outcome: 'timeout' }),
    [p('connectError')]: sumMetric(s, 'gw_upstream_requests_total', { upstream, outcome: 'connect_error' }),
    [p('retries')]: sumMetric(s, 'gw_upstream_retries_total', u),
    [p('budgetDenied')]: sumMetric(s, 'gw_upstream_retry_budget_denied_total', u),
    [p('bulkheadRejected')]: sumMetric(s, 'gw_upstream_bulkhead_rejected_total', u),
    [p('breakerState')]: sumMetric(s, 'gw_breaker_state', u),
    [p('breakerOpened')]: sumMetric(s, 'gw_breaker_transitions_total', { upstream, to: 'open' }),
    [p('breakerRejected')]: sumMetric(s, 'gw_breaker_rejected_total', u),
    [p('healthyReplicas')]: sumMetric(s, 'gw_upstream_replica_healthy', u),
  }
}

/** Gateway-wide figures: requests in flight, reloads, JWKS fetches. */
export function gwGlobalValues(s: Sample[]): Record<string, number> {
  return {
    'gw.inFlight': sumMetric(s, 'gw_in_flight_requests'),
    'gw.reloadsApplied': sumMetric(s, 'gw_reloads_total', { result: 'applied' }),
    'gw.reloadsRejected': sumMetric(s, 'gw_reloads_total', { result: 'refused' }),
    'gw.jwksFetchOk': sumMetric(s, 'gw_jwks_fetches_total', { result: 'ok' }),
    'gw.jwksFetchError': sumMetric(s, 'gw_jwks_fetches_total', { result: 'error' }),
    'gw.jwksKeys': sumMetric(s, 'gw_jwks_keys'),
  }
}

/** A reader of gw's admin /metrics for these upstreams (plus the gateway-wide figures). */
export function gwReader(adminUrl: string, upstreams: readonly string[]): () => Promise<Record<string, number>> {
  return async () => {
    const s = parseMetrics(await getText(`${adminUrl}/metrics`, 2000))
    return Object.assign(gwGlobalValues(s), ...upstreams.map((u) => gwUpstreamValues(s, u))) as Record<string, number>
  }
}

/** A reader of the stub's counters for a replica group (keys `stub.<group>.<figure>`), via any replica of its process. */
export function stubReader(replicaUrl: string, group: string): () => Promise<Record<string, number>> {
  return async () => {
    const s = JSON.parse(await getText(`${replicaUrl}/__stub/stats?target=${encodeURIComponent(group)}`, 2000)) as
      { requests: number; inFlight: number; connectionsOpen: number; connectionsOpened: number }
    const p = (k: string): string => `stub.${group}.${k}`
    return { [p('requests')]: s.requests, [p('inFlight')]: s.inFlight, [p('connectionsOpen')]: s.connectionsOpen, [p('connectionsOpened')]: s.connectionsOpened }
  }
}
