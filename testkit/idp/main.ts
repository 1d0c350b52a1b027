// testkit/idp/main.ts: the mock IdP as a process, for experiments that run it beside the gateway.
//
//   node dist/testkit/idp/main.js --listen 127.0.0.1:9100 [--issuer URL] [--algs RS256,ES256,EdDSA]
//        [--keys-per-alg N] [--max-age SECONDS] [--no-admin]
//        [--tokens N --out tokens.json [--aud bench-api] [--users N] [--tenants N] [--ttl 24h]]
//
// Prints `jwks <url>`, `issuer <url>`, the keys, the token file if asked for, then `ready` (wait for that
// line when spawning it). Admin endpoints on the same port (see README.md): POST /admin/rotate?alg=,
// POST /admin/retire?kid=, GET /admin/token?sub=&aud=&tid=&alg=&ttl=, GET /admin/stats,
// POST /admin/down?mode=false|error|refuse|hang, POST /admin/delay?ms=, POST /admin/reset.
// SIGINT/SIGTERM close the server and exit 0. Exit 2 on bad usage, 1 on a startup failure.
import { parseArgs } from 'node:util'
import { parseAlg } from './keys.js'
import { writeLoadTokens } from './load-tokens.js'
import { startIdp } from './server.js'

const USAGE = `usage: node dist/testkit/idp/main.js [--listen HOST:PORT] [--issuer URL] [--algs RS256,ES256,EdDSA]
       [--keys-per-alg N] [--max-age SECONDS] [--no-admin]
       [--tokens N --out FILE [--aud AUDIENCE] [--users N] [--tenants N] [--ttl 24h]]`

class UsageError extends Error {}

/** Parses `HOST:PORT`, `:PORT`, `PORT` or `[v6]:PORT`. */
function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || !Number.isInteger(port) || port > 65535) throw new UsageError(`bad --listen ${JSON.stringify(v)} (want HOST:PORT)`)
  return { host: m[1] || m[2] || '127.0.0.1', port }
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(v)}`)
  return n
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:9100' },
      issuer: { type: 'string' },
      algs: { type: 'string' },
      'keys-per-alg': { type: 'string' },
      'max-age': { type: 'string' },
      'no-admin': { type: 'boolean', default: false },
      tokens: { type: 'string' },
      out: { type: 'string' },
      aud: { type: 'string' },
      users: { type: 'string' },
      tenants: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (a.help) { console.log(USAGE); return }
  const { host, port } = parseListen(a.listen)
  let algorithms
  try { algorithms = a.algs?.split(',').filter(Boolean).map(parseAlg) } catch (e) { throw new UsageError((e as Error).message) }
  const count = positiveInt('tokens', a.tokens)
  if ((count === undefined) !== (a.out === undefined)) throw new UsageError('--tokens and --out go together')
  const maxAge = a['max-age'] === undefined ? undefined : Number(a['max-age'])
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0)) throw new UsageError('--max-age must be a non-negative integer')

  const idp = await startIdp({
    host, port, issuer: a.issuer, algorithms, keysPerAlg: positiveInt('keys-per-alg', a['keys-per-alg']),
    cacheMaxAge: maxAge, admin: !a['no-admin'],
  })
  let closing = false
  const stop = (signal: string): void => {
    if (closing) process.exit(1) // a second signal means "now"
    closing = true
    idp.close().then(() => { console.log(`stopped (${signal})`); process.exitCode = 0 })
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)

  console.log(`idp      ${idp.url}`)
  console.log(`jwks     ${idp.jwksUrl}`)
  console.log(`issuer   ${idp.issuer}`)
  for (const k of idp.keys()) console.log(`key      ${k.kid} ${k.alg}${k.current ? ' current' : ''}`)
  if (count !== undefined && a.out !== undefined) {
    const file = await writeLoadTokens(idp, a.out, {
      count, audience: a.aud, users: positiveInt('users', a.users), tenants: positiveInt('tenants', a.tenants), ttl: a.ttl,
    })
    console.log(`tokens   ${file.tokens.length} -> ${a.out} (aud ${JSON.stringify(file.audience)}, expires ${file.expiresAt})`)
  }
  if (!a['no-admin']) console.log(`admin    ${idp.url}/admin/stats`)
  console.log('ready')
}

main().catch((err: Error) => {
  const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
  console.error(err.message.startsWith('idp: ') ? err.message : `idp: ${err.message}`)
  if (usage) console.error(USAGE)
  process.exit(usage ? 2 : 1)
})
