// testkit/topology/generate.ts: the benchmark topology generator's entry point — `generateBench()` for code (the
// compiler benchmark builds 1,000 routes in memory) and a CLI that writes examples/bench.gwp and its sidecar.
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { emitGwp } from './emit-gwp.js'
import { buildTopology, TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions } from './model.js'
import { buildSidecar, type Sidecar } from './sidecar.js'

export { buildTopology, TOPOLOGY_DEFAULTS, type Topology, type TopologyOptions } from './model.js'
export { readSidecar, type Sidecar, type SidecarRoute } from './sidecar.js'

export const DEFAULT_OUT = 'examples/bench.gwp'

/** The sidecar's file name for a policy file: `x.gwp` → `x.topology.json`. */
export const sidecarPath = (gwp: string): string => gwp.replace(/\.gwp$/, '') + '.topology.json'

/** The command that regenerates a set, as recorded in its header (defaults left out, so it reads short). */
export function commandFor(o: Partial<TopologyOptions>, out: string): string {
  const args = ['node dist/testkit/topology/generate.js']
  const d = TOPOLOGY_DEFAULTS as TopologyOptions
  for (const k of ['routes', 'upstreams', 'replicas', 'seed', 'basePort', 'host'] as const) {
    if (o[k] !== undefined && o[k] !== d[k]) args.push(`--${k === 'basePort' ? 'base-port' : k} ${o[k]}`)
  }
  if (out !== DEFAULT_OUT) args.push(`--out ${out}`)
  return args.join(' ')
}

export interface Generated { topology: Topology; gwp: string; sidecar: Sidecar; sidecarText: string }

/**
 * Builds a topology and renders both files in memory. Deterministic: the same options give byte-identical
 * text. Throws an Error naming the bad option (too few routes for the upstreams, ports past 65535…).
 */
export function generateBench(opts: Partial<TopologyOptions> = {}, out: string = DEFAULT_OUT): Generated {
  const topology = buildTopology(opts)
  const gwp = emitGwp(topology, commandFor(opts, out))
  const sidecar = buildSidecar(topology, out)
  return { topology, gwp, sidecar, sidecarText: JSON.stringify(sidecar, null, 2) + '\n' }
}

const USAGE = `usage: node dist/testkit/topology/generate.js [--routes N] [--upstreams M] [--replicas K] [--seed S]
                                          [--base-port P] [--host H] [--out FILE] [--stdout]
  writes FILE (default ${DEFAULT_OUT}) and its sidecar FILE without .gwp + .topology.json
  defaults: --routes ${TOPOLOGY_DEFAULTS.routes} --upstreams ${TOPOLOGY_DEFAULTS.upstreams} --replicas ${TOPOLOGY_DEFAULTS.replicas} --seed ${TOPOLOGY_DEFAULTS.seed} --base-port ${TOPOLOGY_DEFAULTS.basePort} --host ${TOPOLOGY_DEFAULTS.host}
  --stdout prints the policy set instead of writing files; exit 0 ok, 2 bad usage`

function main(argv: string[]): number {
  let v
  try {
    v = parseArgs({
      args: argv, strict: true, options: {
        routes: { type: 'string' }, upstreams: { type: 'string' }, replicas: { type: 'string' }, seed: { type: 'string' },
        'base-port': { type: 'string' }, host: { type: 'string' }, out: { type: 'string', short: 'o' }, stdout: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) { process.stderr.write(`generate: ${(e as Error).message}\n${USAGE}\n`); return 2 }
  if (v.help === true) { process.stdout.write(USAGE + '\n'); return 0 }
  const num = (s: string | undefined, name: string): number | undefined => {
    if (s === undefined) return undefined
    if (!/^\d+$/.test(s)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(s)}`)
    return Number(s)
  }
  const out = v.out ?? DEFAULT_OUT
  let g: Generated
  try {
    const opts: Partial<TopologyOptions> = {}
    const set = <K extends keyof TopologyOptions>(k: K, x: TopologyOptions[K] | undefined) => { if (x !== undefined) opts[k] = x }
    set('routes', num(v.routes, 'routes'))
    set('upstreams', num(v.upstreams, 'upstreams'))
    set('replicas', num(v.replicas, 'replicas'))
    set('basePort', num(v['base-port'], 'base-port'))
    set('host', v.host)
    set('seed', v.seed === undefined ? undefined : /^-?\d+$/.test(v.seed) ? Number(v.seed) : v.seed)
    g = generateBench(opts, out)
  } catch (e) { process.stderr.write(`generate: ${(e as Error).message}\n${USAGE}\n`); return 2 }
  if (v.stdout === true) { process.stdout.write(g.gwp); return 0 }
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, g.gwp)
  writeFileSync(sidecarPath(out), g.sidecarText)
  const t = g.topology
  process.stderr.write(`wrote ${out} and ${sidecarPath(out)}: ${t.routes.length} routes, ${t.upstreams.length} upstreams × ${t.options.replicas} replicas, ports ${t.upstreams[0].ports[0]}–${t.upstreams.at(-1)!.ports.at(-1)}\n`)
  return 0
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2))
