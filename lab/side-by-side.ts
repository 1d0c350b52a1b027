// lab/side-by-side.ts: CPU µs and heap bytes per request of several proxies — the floor and one or more gw
// builds (other commits checked out beside this one) — interleaved in one run against one tiny upstream, at a
// fixed rate (open model, same request count for everyone) and at a closed-loop ceiling. It is how the
// before/after figures in docs/FINDINGS.md were measured, so any of them can be re-measured:
//
//   git worktree add /tmp/gw-old <commit> && (cd /tmp/gw-old && npm ci && npm run build)
//   node dist/lab/side-by-side.js --gw old=/tmp/gw-old --gw new=. [--rate 3000] [--rounds 5] [--duration 4s]
//
// A build may name its client engine (settings `engine`, passed as GW_ENGINE): one build, both engines:
//
//   node dist/lab/side-by-side.js --gw node=.@node --gw http1=.@http1
//
// Each gw runs `route r { match path prefix "/"; timeout 5s; proxy u }` with its access log on (to /dev/null).
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { parseDuration, runClosed, runOpen } from '../testkit/load/index.js'
import { perRequest, spawnProbed, type ProbedProcess } from './probe/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const { values: v } = parseArgs({
  options: {
    gw: { type: 'string', multiple: true }, rate: { type: 'string' }, rounds: { type: 'string' }, duration: { type: 'string' },
    concurrency: { type: 'string' }, 'no-floor': { type: 'boolean' },
  },
})
const builds = (v.gw ?? ['gw=.']).map(s => {
  const [name, spec] = s.includes('=') ? s.split('=') : ['gw', s]
  const at = spec.lastIndexOf('@')
  return { name, dir: resolve(at < 0 ? spec : spec.slice(0, at)), engine: at < 0 ? undefined : spec.slice(at + 1) }
})
const rate = Number(v.rate ?? 3000)
const rounds = Number(v.rounds ?? 5)
const durationMs = parseDuration(v.duration ?? '4s')
const concurrency = Number(v.concurrency ?? 32)

const node = process.execPath
const UP = 19_301
const dir = mkdtempSync(join(tmpdir(), 'gwp-sbs-'))
writeFileSync(join(dir, 'p.gwp'), `upstream u { replicas 127.0.0.1:${UP}; pool connections 64 }\nroute r { match path prefix "/"; timeout 5s; proxy u }\n`)

const upstream = spawn(node, ['-e', `require('http').createServer((q,s)=>{s.setHeader('content-type','application/json');s.end('{"ok":true,"pad":"0123456789abcdef0123456789abcdef"}')}).listen(${UP},'127.0.0.1',()=>console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
await new Promise(r => upstream.stdout!.once('data', r))

interface Target { name: string; url: string; proc: ProbedProcess }
const targets: Target[] = []
let port = UP + 1
if (v['no-floor'] !== true) {
  const p = port++
  targets.push({ name: 'floor', url: `http://127.0.0.1:${p}`, proc: spawnProbed(node, [join(ROOT, 'dist/lab/peers/floor.js'), '--listen', `127.0.0.1:${p}`, '--upstream', `127.0.0.1:${UP}`, '--connections', '64'], { ready: /ready/ }) })
}
for (const b of builds) {
  const p = port++, a = port++
  targets.push({ name: b.name, url: `http://127.0.0.1:${p}`, proc: spawnProbed(node, [join(b.dir, 'dist/bin/gw.js'), 'run', join(dir, 'p.gwp'), '--listen', `127.0.0.1:${p}`, '--admin', `127.0.0.1:${a}`, '--log-destination', '/dev/null'], { ready: /serving/, env: b.engine === undefined ? process.env : { ...process.env, GW_ENGINE: b.engine } }) })
}
const stopAll = () => { for (const t of targets) t.proc.kill(); upstream.kill() }
process.once('SIGINT', () => { stopAll(); process.exit(130) })
for (const t of targets) await t.proc.ready

type Row = { cpuOpen: number[]; heapOpen: number[]; p99Open: number[]; lagOpen: number[]; cpuClosed: number[]; rpsClosed: number[] }
const rows = new Map<string, Row>(targets.map(t => [t.name, { cpuOpen: [], heapOpen: [], p99Open: [], lagOpen: [], cpuClosed: [], rpsClosed: [] }]))
for (const t of targets) await runClosed({ url: t.url + '/x', concurrency, durationMs: 1500 }) // JIT warm-up
for (let r = 0; r < rounds; r++) {
  for (const t of targets) { // interleaved: A B C, A B C … so drift of the shared machine cancels
    const row = rows.get(t.name)!
    t.proc.start()
    const open = await runOpen({ url: t.url + '/x', rate, durationMs, connections: concurrency })
    const po = perRequest(await t.proc.stop(), open.requests.completed)
    row.cpuOpen.push(po.cpuUsPerRequest); row.heapOpen.push(po.heapBytesPerRequest ?? NaN)
    row.p99Open.push(open.latencyMs.p99); row.lagOpen.push(open.schedule?.lagMs.p99 ?? NaN)
    t.proc.start()
    const closed = await runClosed({ url: t.url + '/x', concurrency, durationMs })
    const pc = perRequest(await t.proc.stop(), closed.requests.completed)
    row.cpuClosed.push(pc.cpuUsPerRequest); row.rpsClosed.push(closed.rate.completed)
  }
}
stopAll()

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] }
const base = rows.get(targets[0].name)!
const load = (await import('node:os')).loadavg().map(x => x.toFixed(2)).join('/')
console.log(`side by side: ${rounds} interleaved rounds; open model ${rate} req/s and closed model ${concurrency} concurrent, ${durationMs} ms each; load ${load}`)
console.log(`| target | CPU µs/req @${rate}/s | ÷ ${targets[0].name} | heap B/req | p99 ms @${rate}/s | generator lag p99 ms | CPU µs/req closed | req/s closed |`)
console.log('| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const [name, r] of rows) {
  console.log(`| ${name} | ${median(r.cpuOpen).toFixed(1)} | ${(median(r.cpuOpen) / median(base.cpuOpen)).toFixed(2)}× | ${Math.round(median(r.heapOpen))} | ${median(r.p99Open).toFixed(2)} | ${median(r.lagOpen).toFixed(2)} | ${median(r.cpuClosed).toFixed(1)} | ${Math.round(median(r.rpsClosed))} |`)
}
process.exit(0)
