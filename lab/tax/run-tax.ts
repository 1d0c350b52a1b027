// lab/tax/run-tax.ts: the tax table run end to end — start the stub upstream (the topology's 36 replicas), the
// IdP, gw and the peers, pinned; run the scenarios interleaved; check the early-answer case, the topology mix, the
// soak and a CPU profile; stop everything; write lab/results/<date>-<name>.{json,md} and the SVG charts.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { request } from 'undici'
import { readLoadTokens } from '../../testkit/idp/load-tokens.js'
import type { MixEntry } from '../../testkit/load/index.js'
import { parsePeerLine, peerScript, PEER_LINE_RE, type HostPort } from '../peers/common.js'
import { formatAreas, formatTop, monotonicUs, summarizeProfileDir, type ProfileSummary } from '../harness/cpu-profile.js'
import { interleave } from '../harness/interleave.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type ResultHeader } from '../harness/lifecycle.js'
import { drive, measure, type LoadSpec, type MeasureContext, type MeasureTarget, type RunRecord } from '../harness/measure.js'
import type { WrittenFiles } from '../harness/results-io.js'
import { startGw, startIdpProcess, startPeer, startStubProcess, type GwProcess, type PeerProcess, type StubProcess } from '../harness/rig.js'
import type { Child, Supervisor } from '../harness/supervisor.js'
import { freePortStubConfig, loadTopology, portMap, remapTopologyGwp, tinyGwp } from '../harness/topology.js'
import type { GoalResult } from '../harness/stats.js'
import { FLAVOURS, SCENARIO, ceilingPlan, estimateSeconds, halfCeilingRate, ratePlans, type Flavour, type ScenarioPlan, type TaxConfig, type TransferConfig } from './config.js'
import { earlyCheck, type EarlyResult } from './early.js'
import { evaluateGoals } from './goals.js'
import { taxCharts, taxMarkdown } from './report.js'
import { runSoak, type SoakResult } from './soak.js'
import { ratios, summarize, type RatioRow, type TargetSummary } from './summary.js'
import { engineOf, expandTargets, gwTarget, smallRoutesMix, targetDef, targetMix, topologyMix, ENGINES, TARGETS, type Engine, type TargetId } from './targets.js'
import { MIB, PEAK_EVERY_MS, slowGrowthMiB, slowRead, summarizeTransfers, transferMix, transferPlans, type SlowReaderResult, type TransferRow } from './transfers.js'

export interface TaxRunOptions extends ExperimentOptions {
  flavour: Flavour
  /** Change any setting of the flavour (rounds, durations…). */
  overrides?: Partial<TaxConfig>
  /**
   * Run only these targets (default: every peer, gw passthrough and full chain on every engine, the other gw
   * targets on the flavour's `stageEngines`; 'direct' is always added, the goals need it). A bare gw id
   * (`gw-pass`) means it on every engine of `engines`.
   */
  targets?: string[]
  /** gw's engines: `node` (node:http + undici, before) and `http1` (its own engine, after). Default both. */
  engines?: Engine[]
}

export interface ScenarioResult {
  id: string
  title: string
  spec: LoadSpec
  targets: string[]
  summary: TargetSummary[]
  ratios: RatioRow[]
}

export interface MixResult {
  /** The gw target whose process served the mix (`gw-mix@http1`). */
  target: string
  engine: Engine
  rate: number
  probeRate: number
  classes: Record<string, number>
  summary: TargetSummary | null
  smallRoutes: { p50: number; p99: number; p999: number } | null
}

export interface TransferResult {
  config: TransferConfig
  download: TransferRow[]
  upload: TransferRow[]
}

export interface TaxResult extends ResultHeader {
  config: TaxConfig
  /** The engines gw ran on, in order (before, after). */
  engines: Engine[]
  processes: { name: string; pid: number }[]
  scenarios: ScenarioResult[]
  goals: GoalResult[]
  early: EarlyResult[]
  /** The topology mix through gw, once per engine. */
  mixes: MixResult[]
  /** 1 MiB downloads and uploads through every proxy (null when not run). */
  transfers: TransferResult | null
  /** Slow readers through every proxy: its memory peak. */
  slow: SlowReaderResult[]
  soak: SoakResult | null
  profiles: { label: string; summary: ProfileSummary }[]
  runs: RunRecord[]
  /** Runs re-run because the generator stalled (kept for transparency; not in any figure). */
  discarded: DiscardedRun[]
}

interface Rig {
  sup: Supervisor
  dir: string
  stub: StubProcess
  /** One gw process per engine, each serving its five gw targets. */
  gws: Map<Engine, GwProcess>
  gwPolicy: string
  peers: Map<TargetId, PeerProcess>
  users: HostPort[]
  tokens: string[]
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** One request per target before any measurement: a target that does not answer 2xx stops the run early and clearly. */
async function smoke(name: string, url: string, e: MixEntry): Promise<void> {
  const headers: Record<string, string> = { ...(e.headers ?? {}) }
  if (e.host !== undefined) headers.host = e.host
  let last = ''
  for (let i = 0; i < 20; i++) {
    try {
      const res = await request(url + e.path, { method: (e.method ?? 'GET') as 'GET', headers })
      const body = await res.body.text()
      if (res.statusCode < 400) return
      last = `${res.statusCode} ${body.slice(0, 200)}`
    } catch (err) { last = (err as Error).message }
    await sleep(250)
  }
  throw new Error(`${name}: ${url}${e.path} does not answer 2xx (${last})`)
}

function fmtRun(r: RunRecord): string {
  const l = r.load
  const cost = r.proxy === null ? '' : `, proxy ${r.proxy.cpuUsPerRequest} µs/req (${Math.round(r.proxy.cpuShare * 100)}% CPU)`
  const err = l.errors > 0 ? `, ${l.errors} errors` : ''
  return `${Math.round(l.rps)} req/s, p50 ${l.latencyMs.p50} p99 ${l.latencyMs.p99} ms${cost}${err}`
}

/** A run set aside because the load generator itself stalled during it (see `disturbed`). */
export interface DiscardedRun { reason: string; run: RunRecord }

/**
 * True when an open-model run's generator fell behind its own schedule by more than `lagMs` (p99). The generator is
 * pinned away from the proxy, so its lag says the machine (other users' work, a host hiccup) stalled it, not the
 * target: such a run measures the machine, and is run again once.
 */
export function disturbed(r: RunRecord, lagMs: number): boolean {
  return r.load.model === 'open' && r.load.scheduleLagP99Ms !== null && r.load.scheduleLagP99Ms > lagMs
}

/**
 * Runs a scenario's targets interleaved over the rounds, re-running (once, within the run's budget) a run the
 * generator's own stall spoiled. Past the budget a disturbed run is kept: its load generator warning says so.
 */
async function runScenario(plan: ScenarioPlan, c: TaxConfig, targets: Map<TargetId, MeasureTarget>, ctx: MeasureContext,
  discarded: DiscardedRun[], log: (s: string) => void): Promise<RunRecord[]> {
  log(`\n${plan.title}`)
  const out: RunRecord[] = []
  for (const slot of interleave(plan.targets.filter((t) => targets.has(t)), c.rounds)) {
    let r = await measure(plan.id, slot.round, targets.get(slot.target)!, plan.spec, ctx)
    if (disturbed(r, c.disturbedLagMs) && discarded.length < c.rerunBudget) {
      const reason = `generator schedule lag p99 ${r.load.scheduleLagP99Ms} ms > ${c.disturbedLagMs} ms`
      log(`  [round ${slot.round + 1}/${c.rounds}] ${slot.target.padEnd(18)} ${fmtRun(r)} — set aside (${reason}), running it again`)
      discarded.push({ reason, run: r })
      r = await measure(plan.id, slot.round, targets.get(slot.target)!, plan.spec, ctx)
    }
    out.push(r)
    log(`  [round ${slot.round + 1}/${c.rounds}] ${slot.target.padEnd(18)} ${fmtRun(r)}`)
  }
  return out
}

/** Drives every target once, unrecorded: JIT, pools and caches warm before round 1 of anything. */
async function prime(c: TaxConfig, targets: Map<TargetId, MeasureTarget>, log: (s: string) => void): Promise<void> {
  if (c.primeMs <= 0) return
  log(`\npriming every target for ${c.primeMs / 1000} s (unrecorded)…`)
  for (const t of targets.values()) await drive(t.url, t.mix, { model: 'closed', concurrency: 16, durationMs: c.primeMs, warmupMs: 0 }, c.primeMs)
}

async function startRig(sup: Supervisor, dir: string, c: TaxConfig, wanted: Set<TargetId>, engines: Engine[], notes: string[], log: (s: string) => void): Promise<Rig> {
  const topo = loadTopology()
  const sc = topo.sidecar
  log(`starting the stub upstream (${Object.values(sc.upstreams).reduce((n, u) => n + u.ports.length, 0)} replicas of the topology, free ports)…`)
  const stub = await startStubProcess(sup, dir, freePortStubConfig(sc))
  log('starting the IdP and pre-signing load tokens…')
  const idp = await startIdpProcess(sup, dir, sc.idp.issuer, c.tokens, sc.idp.audience)
  const idpFrom = Number(/:(\d+)$/.exec(sc.idp.listen)?.[1] ?? 9100)
  const gwPolicy = join(dir, 'bench.gwp')
  writeFileSync(gwPolicy, remapTopologyGwp(topo.gwp, portMap(sc, stub.ports, { from: idpFrom, to: idp.port }), sc.idp.issuer))
  const gws = new Map<Engine, GwProcess>()
  for (const engine of engines) {
    if (![...wanted].some((t) => engineOf(t) === engine)) continue
    log(`starting gw on the ${engine} engine, ${sc.routes.length} routes (access log on, to /dev/null)…`)
    gws.set(engine, await startGw(sup, gwPolicy, { name: `gw@${engine}`, engine }))
  }
  const passUpstream = sc.routes.find((r) => r.name === sc.scenarios.passthrough)!.upstreams[0].name
  const users: HostPort[] = sc.upstreams[passUpstream].ports.map((_, i) => ({ host: '127.0.0.1', port: stub.ports.get(`${passUpstream}-${i + 1}`)! }))
  // Peers get the pool size gw's topology gives each replica, so no side wins on connection count.
  const poolSize = Number(/pool connections (\d+)/.exec(topo.gwp)?.[1] ?? 64)
  const peers = new Map<TargetId, PeerProcess>()
  for (const [id, name] of [['floor', 'floor'], ['bytes', 'bytes'], ['fastify', 'fastify-proxy'], ['nginx', 'nginx']] as const) {
    if (!wanted.has(id)) continue
    log(`starting ${name}…`)
    const p = await startPeer(sup, name, users, poolSize)
    if (p.skipped) { notes.push(`skipped: ${p.reason}`); log(`  skipped: ${p.reason}`) }
    peers.set(id, p)
  }
  const tokens = (await readLoadTokens(idp.tokensFile)).tokens.map((t) => t.token)
  return { sup, dir, stub, gws, gwPolicy, peers, users, tokens }
}

function buildTargets(rig: Rig, wanted: Set<TargetId>): Map<TargetId, MeasureTarget> {
  const sc = loadTopology().sidecar
  const out = new Map<TargetId, MeasureTarget>()
  for (const def of TARGETS) {
    if (!wanted.has(def.id)) continue
    const mix = targetMix(sc, def, rig.tokens)
    if (def.servedBy === 'stub') out.set(def.id, { name: def.id, url: `http://127.0.0.1:${rig.users[0].port}`, mix, probe: null })
    else if (def.servedBy === 'gw') {
      const gw = rig.gws.get(def.engine!)
      if (gw !== undefined) out.set(def.id, { name: def.id, url: gw.url, mix, probe: gw.probe, gwAdminUrl: gw.adminUrl })
    }
    else {
      const p = rig.peers.get(def.id)
      if (p !== undefined && !p.skipped) out.set(def.id, { name: def.id, url: p.url, mix, probe: p.probe })
    }
  }
  return out
}

/**
 * Short profiled runs at the ceiling, each in a process of its own (so the profiler never taxes the table): gw on
 * the given targets (each on its own engine), then the flavour's `profilePeers` as references — where gw spends CPU
 * the floor does not is the tax, and where it spends CPU the byte-level limit case does not is what remains,
 * function by function.
 */
async function profilePhase(rig: Rig, c: TaxConfig, which: TargetId[], log: (s: string) => void): Promise<{ label: string; summary: ProfileSummary }[]> {
  const out: { label: string; summary: ProfileSummary }[] = []
  const sc = loadTopology().sidecar
  const spec: LoadSpec = { model: 'closed', concurrency: c.concurrency, durationMs: c.profileMs, warmupMs: 0 }
  const profile = async (label: string, profDir: string, child: Child, url: string, mix: MixEntry[]): Promise<void> => {
    log(`  profiling ${label} for ${c.profileMs / 1000} s (closed model, ${c.concurrency} concurrent)…`)
    await drive(url, mix, spec, 1500)
    const fromUs = monotonicUs()
    await drive(url, mix, spec, c.profileMs)
    const toUs = monotonicUs()
    await child.stop(10_000) // SIGTERM: the process exits, and node writes the profile on the way out
    // Only the measured window: start-up (module loading) and shutdown are not the request path.
    const summary = summarizeProfileDir(profDir, 15, { fromUs, toUs })
    if (summary !== undefined) out.push({ label: `${label} at the ceiling`, summary })
    else log(`  (no profile written for ${label})`)
  }
  for (const id of which) {
    const profDir = join(rig.dir, `prof-${id}`)
    const gw = await startGw(rig.sup, rig.gwPolicy, { name: `gw-prof-${id}`, cpuProfDir: profDir, engine: targetDef(id).engine })
    await profile(targetDef(id).label, profDir, gw.child, gw.url, targetMix(sc, targetDef(id), rig.tokens))
  }
  // The peers as references: the floor (what gw's extra CPU over node:http + undici is) and, in the full flavour,
  // the byte-level limit case (what remains between gw and it, function by function).
  for (const peer of c.profilePeers) {
    const peerDir = join(rig.dir, `prof-${peer}`)
    const child = await rig.sup.start({
      name: `${peer}-prof`, cmd: process.execPath, role: 'proxy', ready: PEER_LINE_RE,
      args: ['--cpu-prof', `--cpu-prof-dir=${peerDir}`, peerScript(peer), '--listen', '127.0.0.1:0',
        '--upstream', rig.users.map((u) => `${u.host}:${u.port}`).join(','), '--connections', '64'],
    })
    const line = parsePeerLine(child.readyLine)
    if (line?.kind === 'ready') await profile(targetDef(peer).label, peerDir, child, line.url, targetMix(sc, targetDef(peer), rig.tokens))
  }
  return out
}

/**
 * The targets a run measures: those named (a bare gw id on every engine), or by default every peer, gw passthrough
 * and the full chain on every engine, and the other gw targets on the flavour's `stageEngines`. Always `direct`.
 */
export function wantedTargets(names: readonly string[] | undefined, engines: readonly Engine[], stageEngines: readonly Engine[]): TargetId[] {
  const ids = expandTargets(names, engines)
  const keep = names !== undefined
    ? ids
    : ids.filter((t) => { const d = targetDef(t); return d.engine === undefined || d.base === 'gw-pass' || d.base === 'gw-full' || stageEngines.includes(d.engine) })
  return TARGETS.map((t) => t.id).filter((t) => t === 'direct' || keep.includes(t))
}

/** One gw per engine on a one-route policy (every path to the users replicas): the early check, transfers, slow readers. */
async function startTinyGws(rig: Rig, engines: Engine[]): Promise<Map<Engine, GwProcess>> {
  const policy = join(rig.dir, 'one-route.gwp')
  writeFileSync(policy, tinyGwp({ replicas: rig.users.map((u) => `${u.host}:${u.port}`), timeout: '120s' }))
  const out = new Map<Engine, GwProcess>()
  for (const engine of engines) out.set(engine, await startGw(rig.sup, policy, { name: `gw-one-route@${engine}`, engine }))
  return out
}

/** Slow readers through each proxy in turn; the proxy's RSS and heap sampled over the window. */
async function slowReaders(targets: [string, MeasureTarget][], t: TransferConfig, log: (s: string) => void): Promise<SlowReaderResult[]> {
  const out: SlowReaderResult[] = []
  log(`\nslow readers: ${t.slowReaders} clients each reading a ${t.slowBodyBytes / MIB} MiB download at ${t.slowRate / 1024} KiB/s for ${t.slowMs / 1000} s, ` +
    'the proxy\'s RSS and heap sampled')
  for (const [id, target] of targets) {
    if (target.probe === null) continue
    await sleep(300)
    await target.probe.start({ peakEveryMs: PEAK_EVERY_MS })
    let results: Awaited<ReturnType<typeof slowRead>>[] = []
    try {
      results = await Promise.all(Array.from({ length: t.slowReaders }, () => slowRead(target.url, `/bytes/${t.slowBodyBytes}`, t.slowRate, t.slowMs)))
      await sleep(200) // the proxy notices the hang-ups and lets go of the upstream side
    } finally {
      const p = await target.probe.stop().catch(() => undefined)
      const peak = p?.peak
      const r: SlowReaderResult = {
        target: id, readers: t.slowReaders, rate: t.slowRate, bodyBytes: t.slowBodyBytes, ms: t.slowMs,
        statuses: results.map((x) => x.status), bytesRead: results.reduce((n, x) => n + x.bytes, 0),
        errors: results.flatMap((x) => (x.error === undefined ? [] : [x.error])),
        rssStartBytes: p?.rssBytes.start ?? null, rssPeakBytes: peak?.rssBytes ?? null,
        heapPeakBytes: peak !== undefined && 'heapUsedBytes' in peak ? peak.heapUsedBytes : null,
      }
      out.push(r)
      const g = slowGrowthMiB(r)
      log(`  ${id.padEnd(14)} read ${(r.bytesRead / MIB).toFixed(2)} MiB in all (statuses ${[...new Set(r.statuses)].join('/')}), ` +
        `RSS peak ${r.rssPeakBytes === null ? '—' : (r.rssPeakBytes / MIB).toFixed(1)} MiB (${g === null ? '—' : (g >= 0 ? '+' : '') + g.toFixed(1)} MiB over the start)` +
        `${r.heapPeakBytes === null ? '' : `, heap peak ${(r.heapPeakBytes / MIB).toFixed(1)} MiB`}${r.errors.length > 0 ? `, errors: ${r.errors.join('; ')}` : ''}`)
    }
  }
  return out
}

/** Runs the tax table; resolves with the written files. Every process it started is stopped before it resolves. */
export async function runTax(o: TaxRunOptions): Promise<{ files: WrittenFiles; result: TaxResult }> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'))
  const c: TaxConfig = { ...FLAVOURS[o.flavour], ...(o.overrides ?? {}) }
  const engines = ENGINES.filter((e) => (o.engines ?? ENGINES).includes(e))
  const wanted = new Set<TargetId>(wantedTargets(o.targets, engines, c.stageEngines))
  const { header, value } = await runExperiment('tax', { maxWaitMs: 30 * 60_000, ...o }, 'gwp tax table', async ({ sup, dir, notes, clock0, machine, mark }) => {
    if (!machine.nginx && wanted.has('nginx')) log('skipped: nginx not installed')
    const records: RunRecord[] = []
    const discarded: DiscardedRun[] = []
    const scenarios: ScenarioResult[] = []
    const early: EarlyResult[] = []
    const mixes: MixResult[] = []
    let transfers: TransferResult | null = null
    let slow: SlowReaderResult[] = []
    let soak: SoakResult | null = null
    let profiles: TaxResult['profiles'] = []
    log(`gw engines: ${engines.join(', ')}; targets: ${[...wanted].join(', ')}`)
    const rig = await startRig(sup, dir, c, wanted, engines, notes, log)
    const processes = sup.children().map((ch) => ({ name: ch.name, pid: ch.pid }))
    const targets = buildTargets(rig, wanted)
    for (const [id, t] of targets) await smoke(id, t.url, t.mix[0])
    const ctx: MeasureContext = { stubControlUrl: rig.stub.url('users-1'), upstreamProbe: rig.stub.probe, clock0 }
    const order = TARGETS.map((t) => t.id).filter((t) => targets.has(t))
    const gwEngines = engines.filter((e) => targets.has(gwTarget('gw-pass', e))).length
    const proxies = (['floor', 'bytes', 'fastify', 'nginx'] as const).filter((t) => targets.has(t)).length + gwEngines
    const expected = estimateSeconds(c, {
      targets: order, transferTargets: proxies + 1, slowTargets: proxies, mixEngines: gwEngines,
      profiles: engines.flatMap((e) => [gwTarget('gw-pass', e), gwTarget('gw-full', e)]).filter((t) => targets.has(t)).length + c.profilePeers.length,
    })
    log(`expected to take about ${Math.round(expected / 60)} min on a quiet machine (longer on a busy one)`)

    // (a) the ceiling, then (b) fixed rates derived from it.
    const ceiling = ceilingPlan(c, order)
    await prime(c, targets, log)
    records.push(...await runScenario(ceiling, c, targets, ctx, discarded, log))
    const ceilSummary = summarize(records, ceiling.id, order)
    const halfRate = halfCeilingRate(new Map(ceilSummary.map((s) => [s.target, s.rps])))
    const plans = [ceiling, ...ratePlans(c, halfRate, order)]
    for (const p of plans.slice(1)) {
      mark(p.id)
      records.push(...await runScenario(p, c, targets, ctx, discarded, log))
    }
    for (const p of plans) {
      scenarios.push({
        id: p.id, title: p.title, spec: p.spec, targets: p.targets,
        summary: summarize(records, p.id, order),
        ratios: ratios(records, p.id, order.filter((t) => t.startsWith('gw-')), ['direct', 'floor', 'bytes', 'fastify', 'nginx']),
      })
    }

    // One gw per engine on a one-route policy (every path forwarded as is, like the peers): early answers,
    // transfers and slow readers go through it.
    const tiny = await startTinyGws(rig, engines.filter((e) => wanted.has(gwTarget('gw-pass', e))))

    // The early-answer case, through every proxy.
    mark('early')
    log('\nupstream answers before reading the body: 1 MB POST to /early, then the next request on the same connection')
    const earlyTargets: [string, string][] = [['direct', targets.get('direct')!.url]]
    for (const [e, gw] of tiny) earlyTargets.push([`gw@${e}`, gw.url])
    for (const id of ['floor', 'bytes', 'fastify', 'nginx'] as const) { const t = targets.get(id); if (t !== undefined) earlyTargets.push([id, t.url]) }
    for (const [id, url] of earlyTargets) {
      const r = await earlyCheck(id, url, c.earlyAttempts)
      early.push(r)
      log(`  ${id.padEnd(10)} ${r.summary}`)
    }

    // 1 MiB downloads and uploads through every proxy, then slow readers.
    if (c.transfer.rounds > 0) {
      mark('transfers')
      const tt = new Map<string, MeasureTarget>()
      const add = (id: string, t: Omit<MeasureTarget, 'name' | 'mix'> | undefined): void => { if (t !== undefined) tt.set(id, { ...t, name: id, mix: [] }) }
      for (const id of ['direct', 'floor', 'bytes'] as const) add(id, targets.get(id))
      for (const [e, gw] of tiny) add(gwTarget('gw-pass', e), { url: gw.url, probe: gw.probe, gwAdminUrl: gw.adminUrl })
      for (const id of ['fastify', 'nginx'] as const) add(id, targets.get(id))
      const tOrder = [...tt.keys()]
      const tc: TaxConfig = { ...c, rounds: c.transfer.rounds }
      for (const plan of transferPlans(c.transfer, tOrder as TargetId[])) {
        const mix = transferMix(plan.id, c.transfer.bytes)
        const withMix = new Map([...tt].map(([id, t]) => [id as TargetId, { ...t, mix }]))
        records.push(...await runScenario(plan, tc, withMix, ctx, discarded, log))
      }
      transfers = {
        config: c.transfer,
        download: summarizeTransfers(records, SCENARIO.download, tOrder, c.transfer.bytes),
        upload: summarizeTransfers(records, SCENARIO.upload, tOrder, c.transfer.bytes),
      }
      if (c.transfer.slowReaders > 0 && c.transfer.slowMs > 0) {
        mark('slow-readers')
        slow = await slowReaders([...tt].filter(([id]) => id !== 'direct'), c.transfer, log)
      }
    }
    for (const gw of tiny.values()) await gw.child.stop()

    // (c) the topology mix through gw (each engine), with a small-request latency stream beside it.
    if (c.mixRounds > 0) {
      mark('mix')
      const sc = loadTopology().sidecar
      const tm = topologyMix(sc, rig.tokens)
      const spec: LoadSpec = { model: 'open', rate: c.mixRate, connections: 128, durationMs: c.mixDurationMs, warmupMs: c.warmupMs, timeoutMs: 30_000 }
      const companion = { mix: smallRoutesMix(sc), spec: { model: 'open' as const, rate: c.mixProbeRate, connections: 16, durationMs: c.mixDurationMs, warmupMs: 0 } }
      for (const [engine, gw] of rig.gws) {
        if (!targets.has(gwTarget('gw-pass', engine))) continue
        const name = `gw-mix@${engine}`
        const mixTarget: MeasureTarget = { name, url: gw.url, mix: tm.mix, probe: gw.probe, gwAdminUrl: gw.adminUrl }
        log(`\n(c) topology mix through gw@${engine}: ${sc.routes.length} routes, ${c.mixRate} req/s open model ` +
          `(${(tm.classes.largeShare * 100).toFixed(1)}% 1–10 MB bodies, ${(tm.classes.sseShare * 100).toFixed(1)}% SSE), small-route latency stream at ${c.mixProbeRate} req/s`)
        for (let round = 0; round < c.mixRounds; round++) {
          const r = await measure(SCENARIO.mix, round, mixTarget, spec, ctx, companion)
          records.push(r)
          log(`  [round ${round + 1}/${c.mixRounds}] ${name} ${fmtRun(r)}; small routes p99 ${r.companion?.latencyMs.p99} ms`)
        }
        const mixRuns = records.filter((r) => r.scenario === SCENARIO.mix && r.target === name)
        const med = (f: (r: RunRecord) => number): number => { const v = mixRuns.map(f).sort((a, b) => a - b); return v[v.length >> 1] }
        mixes.push({
          target: name, engine, rate: c.mixRate, probeRate: c.mixProbeRate, classes: tm.classes,
          summary: summarize(records, SCENARIO.mix, [name])[0] ?? null,
          smallRoutes: mixRuns.length === 0 ? null : {
            p50: med((r) => r.companion?.latencyMs.p50 ?? NaN), p99: med((r) => r.companion?.latencyMs.p99 ?? NaN), p999: med((r) => r.companion?.latencyMs.p999 ?? NaN),
          },
        })
      }
    }

    // The soak (full flavour): gw passthrough at the ceiling, fd and heap checked for growth — on the newest engine that ran.
    const soakTarget = [...engines].reverse().map((e) => gwTarget('gw-pass', e)).find((t) => targets.has(t))
    if (c.soakMs > 0 && soakTarget !== undefined) {
      mark('soak')
      log(`\nsoak: ${soakTarget} at the ceiling for ${Math.round(c.soakMs / 60_000)} min in ${c.soakWindowMs / 1000} s windows`)
      const s = await runSoak(targets.get(soakTarget)!, ceiling.spec, c.soakMs, c.soakWindowMs, ctx, log)
      soak = s.result
      records.push(...s.records)
      log(`  ${soak.summary}`)
    }

    const profiled = engines.flatMap((e) => [gwTarget('gw-pass', e), gwTarget('gw-full', e)]).filter((t) => targets.has(t))
    if (c.profileMs > 0 && profiled.length > 0) {
      mark('profile')
      log('\nCPU profiles (separate processes with --cpu-prof; not part of the table)')
      profiles = await profilePhase(rig, c, profiled, log)
      for (const p of profiles) {
        log(`  ${p.label}: ${formatAreas(p.summary)}\n  top self time:\n` + formatTop(p.summary, 10).map((l) => `    ${l}`).join('\n'))
      }
    }
    return { processes, engines, scenarios, early, mixes, transfers, slow, soak, profiles, runs: records, discarded }
  })
  const goals = evaluateGoals(value.runs, {
    ceiling: SCENARIO.ceiling, half: SCENARIO.half, r2500: SCENARIO.rate(2500), r5000: SCENARIO.rate(5000), download: SCENARIO.download, upload: SCENARIO.upload,
  }, engines, value.slow)
  const result: TaxResult = { ...header, config: c, ...value, goals }
  log('\ngoals:')
  for (const g of goals) log(`  ${g.status.padEnd(4)} ${g.text}: ${g.line}${g.note ? ` (${g.note})` : ''}`)
  const files = await writeExperiment(result, (charts) => taxMarkdown(result, charts), taxCharts(result), o)
  return { files, result }
}
