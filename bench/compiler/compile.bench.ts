// bench/compiler/compile.bench.ts: gwc's cost on a large policy set — parse, parse + check, and the full build
// (codegen, manifest, hashes) of a 1,000-route set generated in memory by testkit/topology. No disk I/O is timed.
// Run: npm run bench:micro -- --filter compile   (or: npm run build && node --expose-gc dist/bench/compiler/compile.bench.js [--routes N] [--time MS])
// One call takes 70–150 ms, so the file's defaults are 2 s per case (≥ 13 samples) and 3 calls per allocation
// window instead of the runtime files' 500 ms and 100,000.
import { parseArgs } from 'node:util'
import { parseFile } from '../../compiler/parse.js'
import { compile } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { memoryHost } from '../../compiler/sources.js'
import { generateBench } from '../../testkit/topology/generate.js'
import { createSuite } from '../runtime/kit/suite.js'

const { values } = parseArgs({ options: { routes: { type: 'string' } }, strict: false })
const routes = Number(values.routes ?? 1000)
const FILE = 'bench.gwp'
const { gwp } = generateBench({ routes })
const host = memoryHost({ [FILE]: gwp })

// Fail loudly on a set that does not compile: timing a compile that stops at an error would flatter it.
const first = compile([FILE], { host })
if (first.ir === undefined || first.diagnostics.length > 0) throw new Error(`the generated set has ${first.diagnostics.length} diagnostics`)
const lines = gwp.split('\n').length

const suite = createSuite(import.meta.url,
  `gwc on a generated set: ${routes} routes, ${first.ir.upstreams.length} upstreams, ${lines} lines, ${(gwp.length / 1024).toFixed(0)} KiB`,
  { timeMs: 2000, allocOps: 3 })
suite
  .add(`parse only (${routes} routes)`, 'tokens, the CST and the AST of every route', () => { parseFile(gwp, FILE) })
  .add(`parse + check (${routes} routes)`, 'the AST, the checked IR, conflict and shadowing tables', () => { compile([FILE], { host }) })
  .add(`parse + check + build (${routes} routes)`, 'all of the above, the generated module text, the manifest and its hashes', () => {
    const r = compile([FILE], { host })
    buildBundle(r.ir!, r.sources)
  })
await suite.run()
