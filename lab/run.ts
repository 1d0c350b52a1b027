// lab/run.ts: the lab's one command line: runs experiments by name. Thin: parse argv, run, set the exit code.
//   npm run lab -- tax --quick                the tax table, quick flavour (< 5 min)
//   npm run lab -- tax                        the full flavour (rounds of 8 s, 10-minute soak; ~45 min)
//   npm run lab -- reuse --quick              the connection-reuse experiment
//   npm run lab -- containment --quick        a resilience experiment (lab/experiments/; list in `help`)
//   npm run lab -- all --quick                every resilience experiment in turn
// (`npm run lab --` is `npm --prefix lab start --`: it builds the lab, then runs `node dist/lab/run.js`.)
import { parseArgs } from 'node:util'
import { parseDuration } from '../testkit/load/duration.js'
import { runTax } from './tax/run-tax.js'
import { runReuse } from './reuse/run-reuse.js'
import { expandTargets, parseEngines, ENGINES, TARGETS, type Engine } from './tax/targets.js'
import type { TaxConfig } from './tax/config.js'
import { EXPERIMENTS, findExperiment } from './experiments/index.js'

const USAGE = `usage: npm run lab -- EXPERIMENT... [options]     (or, once built: node dist/lab/run.js EXPERIMENT... [options])

experiments:
  tax      the tax table: direct, floor, bytes, gw on both engines (passthrough, +auth, +ratelimit, +breaker, full
           chain), fastify, nginx; ceiling, half-ceiling, 2,500 and 5,000 req/s, 1 MiB transfers and slow readers,
           the topology mix, the early-answer check, CPU profiles, goals PASS/MISS (issue 13's and the earlier ones)
  reuse    connection reuse: keep-alive on, off (upstream Connection: close), and a pool of 2 for 50 concurrent

resilience experiments (lab/experiments):
${EXPERIMENTS.map((e) => `  ${e.id.padEnd(14)} ${e.summary}`).join('\n')}
  all            every resilience experiment in turn

Every experiment first waits until no other benchmark runs (at most 30 min for tax and reuse, 45 for the others).

options:
  --quick              the quick flavour (minutes); default is the full one
  --name NAME          result name (files lab/results/<date>-<name>.{json,md,svg}; one experiment only)
  --out DIR            write results there instead of lab/results/
  --rounds N           rounds of interleaved runs (tax)
  --duration D         measured window per run, e.g. 2s (tax, reuse)
  --warmup D           unrecorded warm-up before each run (tax)
  --targets A,B        tax targets to run (${[...new Set(TARGETS.map((t) => t.base))].join(', ')}; a gw target on one
                       engine as gw-pass@http1); direct always runs
  --engines A,B        gw's engines (${ENGINES.join(', ')}; default both): node = node:http + undici (before),
                       http1 = gw's own HTTP/1.1 engine (after), each its own gw process (GW_ENGINE)
  --soak D             sustained run at the ceiling with fd/heap checks, e.g. 10m (0 = none)
  --no-profile         skip the CPU-profile phase
  --no-pin             do not pin processes to CPUs (same as GWP_NO_PIN=1)
  --no-wait            start at once even while another benchmark runs
Ctrl-C stops every process the run started.`

function usage(msg: string): never {
  process.stderr.write(`run: ${msg}\n\n${USAGE}\n`)
  process.exit(2)
}

async function main(argv: string[]): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean' }, full: { type: 'boolean' }, name: { type: 'string' }, out: { type: 'string' },
        rounds: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, targets: { type: 'string' },
        soak: { type: 'string' }, engines: { type: 'string' }, 'no-profile': { type: 'boolean' }, 'no-pin': { type: 'boolean' }, 'no-wait': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    })
  } catch (e) { usage((e as Error).message) }
  const { values: v, positionals } = parsed
  if (v.help === true || positionals.length === 0 || positionals[0] === 'help') {
    process.stdout.write(USAGE + '\n')
    if (positionals.length === 0 && v.help !== true) process.exitCode = 2
    return
  }
  const ids = positionals.flatMap((p) => (p === 'all' ? EXPERIMENTS.map((e) => e.id) : [p]))
  for (const id of ids) if (id !== 'tax' && id !== 'reuse' && findExperiment(id) === undefined) usage(`unknown experiment ${JSON.stringify(id)}`)
  if (v.name !== undefined && ids.length > 1) usage('--name needs a single experiment')
  const flavour = v.quick === true ? 'quick' : 'full'
  if (v['no-pin'] === true) process.env.GWP_NO_PIN = '1'
  const dur = (name: string, s: string | undefined): number | undefined => {
    if (s === undefined) return undefined
    try { return parseDuration(s) } catch { usage(`bad --${name} ${JSON.stringify(s)} (e.g. 2s, 500ms, 10m)`) }
  }
  const overrides: Partial<TaxConfig> = {}
  if (v.rounds !== undefined) {
    const n = Number(v.rounds)
    if (!Number.isInteger(n) || n < 1) usage('--rounds must be a positive integer')
    overrides.rounds = n
  }
  const d = dur('duration', v.duration)
  if (d !== undefined) overrides.durationMs = d
  const w = dur('warmup', v.warmup)
  if (w !== undefined) overrides.warmupMs = w
  const soak = dur('soak', v.soak)
  if (soak !== undefined) overrides.soakMs = soak
  if (v['no-profile'] === true) overrides.profileMs = 0
  let engines: Engine[] | undefined
  if (v.engines !== undefined) {
    try { engines = parseEngines(v.engines) } catch (e) { usage((e as Error).message) }
  }
  let targets: string[] | undefined
  if (v.targets !== undefined) {
    targets = v.targets.split(',').map((s) => s.trim()).filter(Boolean)
    try { expandTargets(targets, engines ?? ENGINES) } catch (e) { usage((e as Error).message) }
  }

  const common = { flavour, name: v.name, outDir: v.out, noWait: v['no-wait'] === true } as const
  for (const id of ids) {
    if (id === 'tax') await runTax({ ...common, overrides, targets, engines })
    else if (id === 'reuse') await runReuse({ ...common, durationMs: d, soakMs: soak })
    else await findExperiment(id)!.run(common)
  }
}

main(process.argv.slice(2)).then(() => process.exit(process.exitCode ?? 0), (e: unknown) => {
  process.stderr.write(`run: ${(e as Error)?.stack ?? String(e)}\n`)
  process.exit(1)
})
