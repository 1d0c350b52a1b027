// The differential fuzzer's command: N generated cases (seeded, deterministic) through gw's codec and llhttp,
// a tally by verdict, and the first disagreements in full. Exit 1 when any case disagrees.
//   node dist/testkit/http1-fuzz/run.js --cases 1000000 --seed 1 [--type request|response|both] [--show 10]
import { parseArgs } from 'node:util'
import { compareCase, show } from './compare.js'
import { generateCase } from './gen.js'

export interface Tally { cases: number; byKind: Map<string, number>; byShape: Map<string, number>; disagreements: string[] }

/** Runs cases [from, from + n) of the stream for `seed`. */
export function runCases(seed: number, n: number, type: 'request' | 'response', keep = 10, from = 0): Tally {
  const t: Tally = { cases: 0, byKind: new Map(), byShape: new Map(), disagreements: [] }
  for (let i = from; i < from + n; i++) {
    const c = generateCase(seed, i, type)
    const v = compareCase(c)
    t.cases++
    t.byKind.set(v.kind, (t.byKind.get(v.kind) ?? 0) + 1)
    const shapeKey = `${c.shape} ${v.gw.error === null ? 'accepted' : 'refused'}`
    t.byShape.set(shapeKey, (t.byShape.get(shapeKey) ?? 0) + 1)
    if (v.kind === 'disagree' && t.disagreements.length < keep) {
      t.disagreements.push(`case ${i}: ${v.why}\n  input ${show(c)}\n  gw     ${JSON.stringify({ error: v.gw.error, messages: v.gw.messages.length })}\n  llhttp ${JSON.stringify({ error: v.llhttp.error, messages: v.llhttp.messages.length })}`)
    }
  }
  return t
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { cases: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' }, type: { type: 'string', default: 'both' }, show: { type: 'string', default: '10' }, from: { type: 'string', default: '0' } } })
  const n = Number(values.cases)
  const seed = Number(values.seed)
  const types = values.type === 'both' ? ['request', 'response'] as const : [values.type as 'request' | 'response']
  let bad = 0
  for (const type of types) {
    const t0 = performance.now()
    const t = runCases(seed, n, type, Number(values.show), Number(values.from))
    const secs = (performance.now() - t0) / 1000
    process.stdout.write(`${type}s: ${t.cases} cases, seed ${seed}, ${secs.toFixed(1)} s\n`)
    for (const [k, c] of [...t.byKind].sort()) process.stdout.write(`  ${k.padEnd(36)} ${c}\n`)
    for (const [k, c] of [...t.byShape].sort()) process.stdout.write(`  shape ${k.padEnd(30)} ${c}\n`)
    for (const d of t.disagreements) process.stdout.write(d + '\n')
    bad += t.byKind.get('disagree') ?? 0
  }
  return bad === 0 ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main()
