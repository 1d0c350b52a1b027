// lab/experiments/breaker-reaction.ts: how long the breaker takes to open, over the phases of its one-second
// bucket. One run of the containment experiment switches payments bad once, at whatever point of the breaker's
// current bucket that falls; this part switches it bad several times, each episode shifted by a fraction of a
// second, so the result is a range (and which phase gives which time), not one sample.
import type { Supervisor } from '../harness/supervisor.js'
import { sleepUntil } from './common.js'
import { BAD, BREAKER, HEALTHY, containmentPolicy, type Variant } from './containment-policy.js'
import { firstIncrease, readings, type PollSample } from './timeline.js'
import { gwReader, startPoller } from './poller.js'
import { INERT_PASSIVE_HEALTH, setStubRules, startGwPolicy } from '../harness/rig.js'
import { startTrace, type TraceRecord } from './tracer.js'

export interface ReactionConfig { episodes: number; shiftS: number; badS: number; periodS: number; paymentsRate: number; pollMs: number }

export interface Episode {
  /** When payments went bad, seconds after the breaker's bucket clock started (gw's load) modulo 1 s: where in its bucket. */
  bucketPhaseS: number
  openedAfterMs: [number, number] | null
  firstFast503Ms: number | null
}

export interface Reaction { config: ReactionConfig; episodes: Episode[]; minMs: number; medianMs: number; maxMs: number }

/** The breaker-only variant (no bulkhead): its reaction time alone. */
const ON: Variant = { id: 'reaction', label: 'breaker on', payments: `${INERT_PASSIVE_HEALTH}\n  ${BREAKER}` }

/** Per episode: the breaker's first open transition and the first gw-made 503 after the switch (wall ms `at`). */
export function episodeOutcome(samples: readonly PollSample[], records: readonly TraceRecord[], at: number, until: number): Omit<Episode, 'bucketPhaseS'> {
  const opened = firstIncrease(readings(samples.filter((s) => s.at < until), 'payments.breakerOpened'), at)
  const fast = records.filter((r) => r.end >= at && r.end < until && r.status === 503 && r.headers?.['x-stub-replica'] === undefined).map((r) => r.end)
  return {
    openedAfterMs: opened === undefined ? null : [Math.round(opened.before - at), Math.round(opened.seen - at)],
    firstFast503Ms: fast.length === 0 ? null : Math.round(Math.min(...fast) - at),
  }
}

/**
 * Starts a gw with the breaker (its bucket clock starts when gw loads, just before it reports ready), then
 * `episodes` times: payments bad for `badS`, healthy for the rest of `periodS` (the breaker closes again in between),
 * each episode's switch `shiftS` later in the bucket than the last.
 */
export async function runReaction(sup: Supervisor, dir: string, c: ReactionConfig, payments: number[], catalog: number[], ctlUrl: string,
  log: (s: string) => void): Promise<Reaction> {
  await setStubRules(ctlUrl, 'payments', HEALTHY)
  const gw = await startGwPolicy(sup, dir, 'reaction', containmentPolicy(ON, payments, catalog))
  const loadedAt = Date.now()
  const mix = [{ path: '/v1/payments/7' }]
  const total = c.episodes * c.periodS + 2
  const poller = startPoller(c.pollMs, gwReader(gw.adminUrl, ['payments']))
  const trace = startTrace({ url: gw.url, rate: c.paymentsRate, durationMs: total * 1000, mix, connections: 256, keep: ['x-stub-replica'] })
  const t0 = Date.now() + 2000
  const switches: number[] = []
  for (let k = 0; k < c.episodes; k++) {
    const at = t0 + k * c.periodS * 1000 + k * c.shiftS * 1000
    await sleepUntil(at)
    switches.push(Date.now())
    await setStubRules(ctlUrl, 'payments', BAD)
    await sleepUntil(at + c.badS * 1000)
    await setStubRules(ctlUrl, 'payments', HEALTHY)
  }
  const records = await trace.done
  const samples = await poller.stop()
  await gw.child.stop()
  const episodes = switches.map((at, k) => ({
    bucketPhaseS: Math.round((((at - loadedAt) / 1000) % 1) * 100) / 100,
    ...episodeOutcome(samples, records, at, at + c.badS * 1000),
  }))
  const times = episodes.map((e) => e.openedAfterMs?.[1] ?? Infinity).sort((a, b) => a - b)
  for (const e of episodes) log(`  switch at bucket phase ${e.bucketPhaseS.toFixed(2)} s: opened ${e.openedAfterMs === null ? 'never' : `${e.openedAfterMs[0]}–${e.openedAfterMs[1]} ms`} after, first fast 503 ${e.firstFast503Ms ?? '—'} ms`)
  return { config: c, episodes, minMs: times[0], medianMs: times[times.length >> 1], maxMs: times[times.length - 1] }
}
