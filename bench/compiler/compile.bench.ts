// bench/compiler/compile.bench.ts: gwc's cost on a large policy set — parse, parse + check, and the full build
// (codegen, manifest, hashes) of a 1,000-route set generated in memory by testkit/topology. No disk I/O is timed.
// Run: npm run build && node dist/bench/compiler/compile.bench.js [--routes N] [--time MS]  (each case runs ≥ 20 times and ≥ MS)
import { parseArgs } from 'node:util'
import { Bench } from 'tinybench'
import { parseFile } from '../../grammar/index.js'
import { compile } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { memoryHost } from '../../compiler/sources.js'
import { generateBench } from '../../testkit/topology/generate.js'

const { values } = parseArgs({ options: { routes: { type: 'string' }, time: { type: 'string' } } })
const routes = Number(values.routes ?? 1000)
const FILE = 'bench.gwp'
const { gwp } = generateBench({ routes })
const host = memoryHost({ [FILE]: gwp })

// Fail loudly on a set that does not compile: timing a compile that stops at an error would flatter it.
const first = compile([FILE], { host })
if (first.ir === undefined || first.diagnostics.length > 0) throw new Error(`the generated set has ${first.diagnostics.length} diagnostics`)
const lines = gwp.split('\n').length

const bench = new Bench({ time: Number(values.time ?? 1000), iterations: 20, warmup: true })
bench
  .add(`parse only (${routes} routes)`, () => { parseFile(gwp, FILE) })
  .add(`parse + check (${routes} routes)`, () => { compile([FILE], { host }) })
  .add(`parse + check + build (${routes} routes)`, () => {
    const r = compile([FILE], { host })
    buildBundle(r.ir!, r.sources)
  })
await bench.run()

console.log(`policy set: ${routes} routes, ${first.ir.upstreams.length} upstreams, ${lines} lines, ${(gwp.length / 1024).toFixed(0)} KiB`)
console.table(bench.tasks.map(t => {
  const r = t.result as { state?: string; latency?: { mean: number; p99?: number; samplesCount?: number }; throughput?: { mean: number } } | undefined
  const lat = r?.latency
  return {
    case: t.name,
    'ms/op': lat ? +lat.mean.toFixed(2) : NaN,
    'p99 ms': lat?.p99 !== undefined ? +lat.p99.toFixed(2) : NaN,
    'ops/s': r?.throughput ? +r.throughput.mean.toFixed(2) : NaN,
    samples: lat?.samplesCount ?? NaN,
  }
}))
