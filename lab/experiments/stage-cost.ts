// lab/experiments/stage-cost.ts: the marginal cost of each stage — one gw, one route per stage added to a bare
// passthrough (auth with a warm token cache, ratelimit local, ratelimit redis, headers, breaker, and all of them),
// every route to the same replicas, measured interleaved at one fixed rate with the tax harness (lab/harness/
// measure: probed gw, medians over rounds, differences paired within a round); plus the JWT figures of the
// micro-benchmarks. (Report: stage-cost-report.ts.)
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { performance } from 'node:perf_hooks'
import { interleave } from '../harness/interleave.js'
import { drive, measure, type LoadSpec, type MeasureContext, type MeasureTarget, type RunRecord } from '../harness/measure.js'
import { distFile } from '../harness/paths.js'
import { groupPorts, replicaList, startGwPolicy, startIdpProcess, startStubProcess } from '../harness/rig.js'
import { readLoadTokens } from '../../testkit/idp/load-tokens.js'
import type { MixEntry } from '../../testkit/load/index.js'
import { runBenchFile } from '../../bench/runtime/kit/runner.js'
import { TRACEPARENT } from '../tax/targets.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { formatChecks } from './report.js'
import {
  gwSideLatency, latestTaxFigures, microFigures, parseAccessLog, stageCharts, stageChecks, stageMarkdown, summarizeStages,
  type GwSide, type MicroFigure, type RunWindow, type StageRow, type TaxFigures,
} from './stage-cost-report.js'

export interface StageCostConfig {
  rounds: number
  primeMs: number
  warmupMs: number
  durationMs: number
  rate: number
  tokens: number
  microTimeMs: number
}

const CONFIGS: Record<Flavour, StageCostConfig> = {
  quick: { rounds: 4, primeMs: 1000, warmupMs: 500, durationMs: 2500, rate: 2000, tokens: 200, microTimeMs: 300 },
  full: { rounds: 5, primeMs: 3000, warmupMs: 2000, durationMs: 8000, rate: 2000, tokens: 1000, microTimeMs: 500 },
}

export interface StageDef {
  id: string; label: string; path: string; auth: boolean; needsRedis?: boolean; stages: string; upstream: 'users' | 'users_b'; headers?: Record<string, string>
  /** The request presents the run's API key (made with `gwc keys add`) in X-Api-Key. */
  apiKey?: boolean
  /** The route ends with this terminal instead of `proxy UPSTREAM`. */
  terminal?: string
  /** The row its differences are taken over (paired per round); default passthrough. */
  base?: string
}

export const STAGES: readonly StageDef[] = [
  { id: 'pass', label: 'passthrough', path: '/pass', auth: false, stages: '', upstream: 'users' },
  { id: 'auth', label: '+ auth (JWT, warm token cache)', path: '/auth', auth: true, stages: 'auth idp', upstream: 'users' },
  { id: 'rl-local', label: '+ ratelimit by ip, local', path: '/rl-local', auth: false, stages: 'ratelimit by ip 1000000000 per 1s', upstream: 'users' },
  { id: 'rl-redis', label: '+ ratelimit by ip, redis', path: '/rl-redis', auth: false, needsRedis: true, stages: 'ratelimit by ip 1000000000 per 1s redis', upstream: 'users' },
  { id: 'headers', label: '+ headers (2 request edits, 1 response)', path: '/headers', auth: false, stages: 'headers request set X-Env "bench", remove X-Debug\n  headers response set X-Served-By "gw"', upstream: 'users' },
  { id: 'cors', label: '+ cors (allowed origin echoed, credentials)', path: '/cors', auth: false, stages: 'cors origins "https://app.bench.test" credentials', upstream: 'users', headers: { origin: 'https://app.bench.test' } },
  { id: 'rewrite', label: '+ rewrite (strip a prefix, the replica\'s Host)', path: '/rewrite', auth: false, stages: 'rewrite strip "/rewrite"\n  rewrite host replica', upstream: 'users' },
  { id: 'breaker', label: '+ breaker', path: '/breaker', auth: false, stages: '', upstream: 'users_b' },
  // the load generator connects from loopback: the last of three entries admits it (issue 12, policies/ip)
  { id: 'ip', label: '+ ip allow (3 CIDRs, v4 and v6)', path: '/ip', auth: false, stages: 'ip allow "10.0.0.0/8", "2001:db8::/32", "127.0.0.0/8"', upstream: 'users' },
  // issue 12's API keys: one key in a keys file (gwc keys add), presented in X-Api-Key; a SHA-256 and a Map lookup
  { id: 'keys', label: '+ auth (API key in a header, keys file)', path: '/keys', auth: false, apiKey: true, stages: 'auth partners', upstream: 'users' },
  // `redirect https` answers a plain-HTTP request itself (308, no upstream): its baseline is a route that answers
  // the same status with a fixed Location, not passthrough (which pays for the upstream exchange the redirect skips)
  { id: 'respond', label: 'respond 308 with a fixed Location (over passthrough: no upstream)', path: '/respond', auth: false, stages: '', upstream: 'users', terminal: 'respond 308 header Location "https://api.bench.test/fixed"' },
  { id: 'redirect', label: '+ redirect https (plain HTTP → 308), over the respond row', path: '/redirect', auth: false, stages: 'redirect https', upstream: 'users', base: 'respond' },
  { id: 'all', label: 'all: auth + ratelimit local + headers + breaker', path: '/all', auth: true, stages: 'auth idp\n  ratelimit by user 1000000000 per 1s\n  headers request set X-Env "bench", remove X-Debug', upstream: 'users_b' },
]

export function stagePolicy(stages: readonly StageDef[], ports: number[], jwksUrl: string, issuer: string): string {
  const routes = stages.map((s) => `route ${s.id.replace(/-/g, '_')} {
  match path prefix ${JSON.stringify(s.path)}
  timeout 5s
  ${s.stages}
  ${s.terminal ?? `proxy ${s.upstream}`}
}`).join('\n\n')
  return `# written by lab/experiments/stage-cost.ts
upstream users {
  replicas ${replicaList(ports)}
  pool connections 64 idle 30s
}

upstream users_b {
  replicas ${replicaList(ports)}
  pool connections 64 idle 30s
  breaker error_ratio 50% min_requests 20 window 10s open_for 5s
}

jwt idp {
  issuer ${JSON.stringify(issuer)}
  jwks ${JSON.stringify(jwksUrl)} refresh 5m
  audience "bench-api"
}

keys partners {
  file "keys.txt"
  header X-Api-Key
}

${routes}
`
}

/** Each row's baseline: its `base`, else passthrough. */
export const baseOf = (stages: readonly StageDef[]) => (id: string): string => stages.find((s) => s.id === id)?.base ?? 'pass'

/** A free loopback port (listen on 0, read it, close): Redis cannot pick its own and report it. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

const hasRedis = (): string | undefined => {
  try { return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined } catch { return undefined }
}

export interface StageCostResult extends ResultHeader {
  config: StageCostConfig
  stages: readonly StageDef[]
  rows: StageRow[]
  /** The same runs seen from gw's access log. */
  gwSide: GwSide
  micro: MicroFigure[]
  tax: TaxFigures | null
  runs: RunRecord[]
  checks: ReturnType<typeof stageChecks>
}

export async function runStageCost(o: ExperimentOptions): Promise<StageCostResult> {
  const c = CONFIGS[o.flavour]
  const { header, value } = await runExperiment('stage-cost', o, 'gwp marginal cost per stage', async (env) => {
    const { sup, dir, log, notes } = env
    const stub = await startStubProcess(sup, dir, { seed: 17, services: [{ name: 'users', ports: [0, 0, 0], rules: [{ path: '/', latency: 0 }] }] })
    const issuer = 'https://idp.bench.test/'
    const idp = await startIdpProcess(sup, dir, issuer, c.tokens, 'bench-api')
    const tokens = (await readLoadTokens(idp.tokensFile)).tokens.map((t) => t.token)
    let stages = [...STAGES]
    const args: string[] = []
    const redis = hasRedis()
    if (redis === undefined) {
      stages = stages.filter((s) => s.needsRedis !== true)
      notes.push('skipped: ratelimit redis (redis-server is not installed)')
      log('redis-server not installed: skipping the redis limiter')
    } else {
      const port = await freePort()
      await sup.start({
        name: 'redis', cmd: redis, role: 'upstream', ready: /Ready to accept connections/,
        args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      })
      args.push('--redis', `redis://127.0.0.1:${port}`)
      log(`redis-server on 127.0.0.1:${port}`)
    }
    // The access log goes to a file (not /dev/null as in the tax run): gw's own time per request, per route.
    const accessFile = join(dir, 'access.log')
    args.push('--log-destination', accessFile)
    // the keys file beside the policy (its `file "keys.txt"` is relative to it), one key made as a user makes one
    const apiKey = execFileSync(process.execPath, [distFile('bin/gwc.js'), 'keys', 'add', join(dir, 'keys.txt'), 'bench-consumer'], { encoding: 'utf8' }).trim()
    const gw = await startGwPolicy(sup, dir, 'stages', stagePolicy(stages, groupPorts(stub.ports, 'users'), idp.jwksUrl, issuer), { args })
    const mixOf = (s: StageDef): MixEntry[] => {
      const base: MixEntry = { method: 'GET', path: `${s.path}/42`, headers: { traceparent: TRACEPARENT, 'x-debug': '1', ...s.headers, ...(s.apiKey === true ? { 'x-api-key': apiKey } : {}) } }
      return s.auth ? tokens.map((t) => ({ ...base, headers: { ...base.headers, authorization: `Bearer ${t}` } })) : [base]
    }
    const targets = new Map<string, MeasureTarget>(stages.map((s) => [s.id, { name: s.id, url: gw.url, mix: mixOf(s), probe: gw.probe, gwAdminUrl: gw.adminUrl }]))
    const clock0 = performance.now()
    const clock0Wall = Date.now()
    const ctx: MeasureContext = { stubControlUrl: stub.url('users-1'), upstreamProbe: stub.probe, clock0 }
    log(`\npriming every route for ${c.primeMs / 1000} s (every load token verified once: the token cache is warm)…`)
    for (const t of targets.values()) await drive(t.url, t.mix, { model: 'closed', concurrency: 16, durationMs: c.primeMs, warmupMs: 0 }, c.primeMs)
    const spec: LoadSpec = { model: 'open', rate: c.rate, connections: 64, durationMs: c.durationMs, warmupMs: c.warmupMs }
    log(`\n${c.rate} req/s open model, ${c.durationMs / 1000} s per run, ${c.rounds} interleaved rounds`)
    env.mark('load')
    const runs: RunRecord[] = []
    const windows: RunWindow[] = []
    for (const slot of interleave(stages.map((s) => s.id), c.rounds)) {
      const r = await measure('stage-cost', slot.round, targets.get(slot.target)!, spec, ctx)
      runs.push(r)
      const from = clock0Wall + r.startS * 1000
      windows.push({ stage: slot.target, route: slot.target.replace(/-/g, '_'), round: slot.round, from, to: from + c.durationMs + 100 })
      log(`  [round ${slot.round + 1}/${c.rounds}] ${slot.target.padEnd(9)} p50 ${r.load.latencyMs.p50} p99 ${r.load.latencyMs.p99} ms, ` +
        `${r.proxy?.cpuUsPerRequest ?? '—'} µs CPU/req, ${r.proxy?.heapBytesPerRequest ?? '—'} heap B/req${r.load.errors > 0 ? `, ${r.load.errors} errors` : ''}`)
    }
    env.mark('micro')
    log('\nmicro-benchmarks: the token cache and the auth handler (bench/runtime, each file in its own process)…')
    const micro: MicroFigure[] = []
    for (const [file, filter] of [['limits', 'token cache: hit'], ['handler', 'auth']] as const) {
      const out = await runBenchFile(distFile(`bench/runtime/${file}.bench.js`), { filter, timeMs: c.microTimeMs })
      if (!out.ok) { notes.push(`micro-benchmark ${file} failed: ${out.error?.split('\n')[0]}`); continue }
      micro.push(...microFigures(out.result!, file))
    }
    await gw.child.stop(10_000) // SIGTERM: gw flushes its access log on the way out
    const gwSide = gwSideLatency(parseAccessLog(readFileSync(accessFile, 'utf8')), windows, stages.map((s) => s.id), baseOf(stages))
    return { stages, runs, micro, gwSide }
  })
  const rows = summarizeStages(value.runs, value.stages.map((s) => s.id), baseOf(value.stages))
  const result: StageCostResult = {
    ...header, config: c, stages: value.stages, rows, gwSide: value.gwSide, micro: value.micro, tax: latestTaxFigures(), runs: value.runs,
    checks: stageChecks(rows, value.micro, value.gwSide),
  }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => stageMarkdown(result, charts), stageCharts(result), o)
  return result
}
