// lab/run.ts: runs resilience experiments by name. Thin: parse argv, run, set the exit code.
//   node dist/lab/run.js containment --quick
//   node dist/lab/run.js all --quick          every experiment in turn
// (`node dist/lab/run.js <experiment> --quick` does the same.)
import { parseArgs } from 'node:util'
import { EXPERIMENTS, findExperiment } from './index.js'

const USAGE = `usage: node dist/lab/run.js EXPERIMENT|all [--quick] [--name NAME] [--out DIR] [--no-wait]

experiments:
${EXPERIMENTS.map((e) => `  ${e.id.padEnd(14)} ${e.summary}`).join('\n')}

  --quick     the quick flavour (about 2 minutes each); default is the full one
  --no-wait   do not wait for other benchmarks (pgrep -f "lab/run.js|bench/micro.js|lab/experiments") to finish`

async function main(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      quick: { type: 'boolean' }, full: { type: 'boolean' }, name: { type: 'string' }, out: { type: 'string' }, 'no-wait': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    } })
  } catch (e) { process.stderr.write(`experiments: ${(e as Error).message}\n\n${USAGE}\n`); return 2 }
  const { values: v, positionals } = parsed
  if (v.help === true || positionals.length === 0) { process.stdout.write(USAGE + '\n'); return positionals.length === 0 && v.help !== true ? 2 : 0 }
  const ids = positionals[0] === 'all' ? EXPERIMENTS.map((e) => e.id) : positionals
  for (const id of ids) if (findExperiment(id) === undefined) { process.stderr.write(`experiments: unknown experiment ${JSON.stringify(id)}\n\n${USAGE}\n`); return 2 }
  if (v.name !== undefined && ids.length > 1) { process.stderr.write('experiments: --name needs a single experiment\n'); return 2 }
  for (const id of ids) {
    await findExperiment(id)!.run({ flavour: v.quick === true ? 'quick' : 'full', name: v.name, outDir: v.out, noWait: v['no-wait'] === true })
  }
  return 0
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`experiments: ${(e as Error)?.stack ?? String(e)}\n`)
  process.exit(1)
})
