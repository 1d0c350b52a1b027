// testkit/load/main.ts: the load generator's CLI. Parses argv, runs one model, prints a summary, writes JSON.
import { parseArgs } from 'node:util'
import { readFileSync, writeFileSync } from 'node:fs'
import { runOpen } from './open.js'
import { runClosed } from './closed.js'
import { parseDuration } from './duration.js'
import { formatSummary } from './result.js'
import type { MixEntry } from './mix.js'

const USAGE = `usage: node dist/testkit/load/main.js --url URL (--rate N | --concurrency C) [options]
  --url URL            target, e.g. http://127.0.0.1:8080/health (the path is used when no mix is given)
  --rate N             open model: N req/s fixed arrival, latency from the intended send time
  --concurrency C      closed model: C workers back to back (finds the ceiling)
  --connections N      keep-alive connections (open default 64, closed default C)
  --duration D         measured duration (default 10s); --warmup D (default 0); --timeout D (default 5s)
  --method M --header 'k: v' (repeatable) --host H --body-size N    a one-request mix
  --mix FILE           JSON array of {method, path, headers?, body?: string | {size}, host?, weight?}
  --json FILE          write the full result as JSON ('-' for stdout)
  --quiet              no summary`

function fail(msg: string): never {
  process.stderr.write(`load: ${msg}\n${USAGE}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  let args
  try {
    args = parseArgs({
      options: {
        url: { type: 'string' }, rate: { type: 'string' }, concurrency: { type: 'string' }, connections: { type: 'string' },
        duration: { type: 'string', default: '10s' }, warmup: { type: 'string', default: '0' }, timeout: { type: 'string', default: '5s' },
        method: { type: 'string', default: 'GET' }, header: { type: 'string', multiple: true }, host: { type: 'string' },
        'body-size': { type: 'string' }, mix: { type: 'string' }, json: { type: 'string' }, quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values
  } catch (e) { fail((e as Error).message) }
  if (args.help) { process.stdout.write(USAGE + '\n'); return }
  if (args.url === undefined) fail('--url is required')
  if ((args.rate === undefined) === (args.concurrency === undefined)) fail('give exactly one of --rate (open) or --concurrency (closed)')
  let url: URL
  try { url = new URL(args.url) } catch { fail(`bad --url ${args.url}`) }
  let mix: MixEntry[]
  if (args.mix !== undefined) {
    mix = JSON.parse(readFileSync(args.mix, 'utf8')) as MixEntry[]
    if (!Array.isArray(mix)) fail('--mix must hold a JSON array')
  } else {
    const headers: Record<string, string> = {}
    for (const h of args.header ?? []) {
      const i = h.indexOf(':')
      if (i <= 0) fail(`bad --header ${JSON.stringify(h)} (use 'name: value')`)
      headers[h.slice(0, i).trim()] = h.slice(i + 1).trim()
    }
    const bodySize = args['body-size'] === undefined ? 0 : Number(args['body-size'])
    mix = [{
      method: args.method, path: url.pathname + url.search, headers,
      ...(bodySize > 0 ? { body: { size: bodySize } } : {}), ...(args.host !== undefined ? { host: args.host } : {}),
    }]
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, not ${JSON.stringify(v)}`)
    return n
  }
  const rate = num('rate', args.rate)
  const concurrency = num('concurrency', args.concurrency)
  const connections = num('connections', args.connections)
  let durations: [number, number, number]
  try { durations = [parseDuration(args.duration), parseDuration(args.warmup), parseDuration(args.timeout)] } catch (e) { fail((e as Error).message) }
  const common = {
    url: url.href, mix, durationMs: durations[0], warmupMs: durations[1], timeoutMs: durations[2],
    ...(connections !== undefined ? { connections } : {}),
  }
  const result = rate !== undefined
    ? await runOpen({ ...common, rate })
    : await runClosed({ ...common, concurrency: concurrency as number })
  if (!args.quiet) (args.json === '-' ? process.stderr : process.stdout).write(formatSummary(result) + '\n')
  if (args.json === '-') process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  else if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n')
}

main().catch((e: unknown) => {
  process.stderr.write(`load: ${(e as Error)?.stack ?? String(e)}\n`)
  process.exit(1)
})
