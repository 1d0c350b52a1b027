// CLI for the stub upstream: parse argv, start the replicas, print one line per listener, close on SIGINT/SIGTERM.
// Usage: node dist/testkit/upstream/main.js --help
import { parseArgs } from 'node:util'
import { loadStubConfig, startStub, type ReplicaOptions, type StubConfig } from './stub.js'

const USAGE = `usage: main.js [--listen HOST:PORT]... [--name NAME] [--config FILE] [--topology FILE] [--seed SEED]
  --listen HOST:PORT  a replica listening there (repeatable; PORT alone means 127.0.0.1:PORT; 0 = any free port)
  --name NAME         group name of the --listen replicas, named NAME-1, NAME-2, ... (default: stub)
  --config FILE       YAML/JSON: {seed?, host?, rules?, services?} (see testkit/upstream/README.md)
  --topology FILE     YAML/JSON list of {name, ports, rules?}, or a config file with services (repeatable)
  --seed SEED         PRNG seed (overrides the file's; default 0)
prints "listening <replica> <url>" per replica once all listen; exits 0 on SIGINT/SIGTERM, 2 on bad usage.`

function usage(msg: string): never {
  process.stderr.write(`main.js: ${msg}\n${USAGE}\n`)
  process.exit(2)
}

function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(s)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || port > 65535) usage(`bad --listen ${JSON.stringify(s)}: expected HOST:PORT or PORT`)
  return { host: m[1] || '127.0.0.1', port }
}

async function main(): Promise<void> {
  let args
  try {
    args = parseArgs({
      options: {
        listen: { type: 'string', multiple: true }, name: { type: 'string' }, config: { type: 'string' },
        topology: { type: 'string', multiple: true }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) { usage((e as Error).message) }
  if (args.help === true) { process.stdout.write(USAGE + '\n'); return }

  let config: StubConfig = {}
  const services = []
  try {
    if (args.config !== undefined) config = await loadStubConfig(args.config)
    services.push(...(config.services ?? []))
    for (const file of args.topology ?? []) services.push(...((await loadStubConfig(file)).services ?? []))
  } catch (e) { usage((e as Error).message) }
  const group = args.name ?? 'stub'
  const replicas: ReplicaOptions[] = (args.listen ?? []).map((l, i) => ({ ...parseListen(l), name: `${group}-${i + 1}`, group }))
  if (replicas.length === 0 && services.length === 0) usage('nothing to listen on: give --listen, or a topology with services')
  const seed = args.seed === undefined ? config.seed : /^-?\d+$/.test(args.seed) ? Number(args.seed) : args.seed

  const stub = await startStub({ replicas, services, seed, rules: config.rules, host: config.host })
  for (const r of stub.replicas) process.stdout.write(`listening ${r.name} ${r.url}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    stub.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((e: unknown) => {
  process.stderr.write(`main.js: ${(e as Error).message}\n`)
  process.exit(1)
})
