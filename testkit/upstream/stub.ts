// The stub upstream's programmatic entry: startStub() starts one or many replicas (one listener each) in this
// process and returns a handle to inspect and steer them. Tests, the demo and the CLI all come through here.
import { snapshot, resetCounters, type StubStats } from './counters.js'
import type { ServiceSpec } from './config.js'
import { createReplica, type Replica } from './replica.js'
import { parseRules, type RuleSpec } from './rules.js'

export type { ServiceSpec, StubConfig } from './config.js'
export { loadStubConfig, parseStubConfig } from './config.js'
export type { ReplicaStats, StubStats } from './counters.js'
export type { LatencySpec } from './latency.js'
export { patternBytes, patternSha256 } from './pattern.js'
export type { ErrorAction, Mode, RuleSpec } from './rules.js'

export interface ReplicaOptions {
  /** Default `${group}-${i}`; must be unique in the stub. */
  name?: string
  /** Default: the name without a trailing `-<digits>`, else the stub's `name`. */
  group?: string
  host?: string
  /** Default 0 (any free port). */
  port?: number
  /** This replica's rules, replacing the stub-wide `rules`. */
  rules?: RuleSpec[]
}

export interface StubOptions {
  /** Explicit replicas. */
  replicas?: ReplicaOptions[]
  /** A topology: every port of every service becomes a replica `${service}-${i}`. Added after `replicas`. */
  services?: ServiceSpec[]
  /** With neither `replicas` nor `services`: start `count` (default 1) replicas `${name}-1…` on free ports. */
  count?: number
  /** Default group name, default `stub`. */
  name?: string
  /** Default `127.0.0.1`. */
  host?: string
  /** Seeds every replica's stream together with its name. Default 0. */
  seed?: number | string
  /** Rules for replicas without their own. */
  rules?: RuleSpec[]
  /** Server keep-alive timeout, default 65 s (outlasts client pools' idle timeouts). */
  keepAliveTimeoutMs?: number
}

export interface ReplicaInfo { name: string; group: string; host: string; port: number; url: string }

export interface Stub {
  readonly replicas: ReplicaInfo[]
  /** The base URL of a replica (default: the first). Throws on an unknown name. */
  url(name?: string): string
  /** Counters summed over the selection (undefined = all, a replica name, or a group name), plus each replica. */
  stats(selector?: string): StubStats
  /** Zero the cumulative counters and rewind the PRNG streams of the selection; health and rules are kept. */
  reset(selector?: string): void
  /** Flip /healthz of the selection (undefined = all) between 200 and 503. */
  setHealthy(selector: string | undefined, ok: boolean): void
  /** Replace the rules of the selection; validated first, so a bad list throws and changes nothing. */
  setRules(selector: string | undefined, rules: RuleSpec[]): void
  /** Stop every listener and destroy open connections. Idempotent. */
  close(): Promise<void>
}

/**
 * Start the replicas and resolve once all of them listen. Rejects (after closing any that did start) on a bad
 * option, a duplicate replica name, invalid rules, or a listen error such as EADDRINUSE.
 */
export async function startStub(opts: StubOptions = {}): Promise<Stub> {
  const host = opts.host ?? '127.0.0.1'
  const seed = opts.seed ?? 0
  const base = opts.name ?? 'stub'
  const defaultRules = parseRules(opts.rules ?? [])
  const plan: { name: string; group: string; host: string; port: number; rules: RuleSpec[] }[] = []
  const add = (o: ReplicaOptions, fallbackGroup: string, index: number): void => {
    const group = o.group ?? (o.name !== undefined ? o.name.replace(/-\d+$/, '') : fallbackGroup)
    const name = o.name ?? `${group}-${index}`
    if (plan.some((p) => p.name === name)) throw new Error(`startStub: duplicate replica name ${JSON.stringify(name)}`)
    plan.push({ name, group, host: o.host ?? host, port: o.port ?? 0, rules: o.rules !== undefined ? parseRules(o.rules, `${name}.rules`) : defaultRules })
  }
  opts.replicas?.forEach((r, i) => add(r, base, i + 1))
  for (const s of opts.services ?? []) s.ports.forEach((port, i) => add({ name: `${s.name}-${i + 1}`, group: s.name, host: s.host, port, rules: s.rules }, s.name, i + 1))
  if (opts.replicas === undefined && opts.services === undefined) {
    const count = opts.count ?? 1
    if (!Number.isInteger(count) || count < 1) throw new Error(`startStub: count must be a positive integer, got ${count}`)
    for (let i = 1; i <= count; i++) add({}, base, i)
  }
  if (plan.length === 0) throw new Error('startStub: no replicas to start')

  const replicas: Replica[] = []
  const select = (selector: string | undefined): Replica[] => {
    if (selector === undefined) return replicas
    const byName = replicas.filter((r) => r.name === selector)
    const found = byName.length > 0 ? byName : replicas.filter((r) => r.group === selector)
    if (found.length === 0) throw new Error(`no replica or group named ${JSON.stringify(selector)}`)
    return found
  }
  const keepAliveTimeoutMs = opts.keepAliveTimeoutMs ?? 65_000
  for (const p of plan) replicas.push(createReplica({ ...p, seed, keepAliveTimeoutMs, select }))
  const started = await Promise.allSettled(replicas.map((r) => r.listen()))
  const failed = started.find((s) => s.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(replicas.map((r) => r.close()))
    throw (failed as PromiseRejectedResult).reason
  }

  let closing: Promise<void> | undefined
  return {
    replicas: replicas.map((r) => ({ name: r.name, group: r.group, host: r.host, port: r.port, url: r.url })),
    url: (name) => (name === undefined ? replicas[0] : select(name)[0]).url,
    stats: (selector) => snapshot(select(selector)),
    reset(selector) { for (const r of select(selector)) { resetCounters(r.counters); r.rng.reset() } },
    setHealthy(selector, ok) { for (const r of select(selector)) r.healthy = ok },
    setRules(selector, rules) {
      const targets = select(selector)
      const parsed = parseRules(rules)
      for (const r of targets) r.setRules(parsed)
    },
    close: () => (closing ??= Promise.all(replicas.map((r) => r.close())).then(() => {})),
  }
}
