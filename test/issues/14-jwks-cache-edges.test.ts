// test/issues/14-jwks-cache-edges.test.ts: the JWKS cache (policies/auth/jwks.ts) at the edges jwks-unit does not
// reach: before its first fetch it knows no keys; stop() during a fetch under way schedules nothing after it;
// a failure after max_stale, with the stale keys not yet dropped by a lookup, is logged as "no keys cached"
// (they are no longer trusted), not as serving them. Against a JWKS server the test controls, in-process.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { pino } from 'pino'
import type { JwtAlgorithm, JwtProviderIR } from '../../policies/auth/options.js'
import { JwksCache, jwksMetrics } from '../../policies/auth/jwks.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { stageMetrics } from '../../runtime/stage-env.js'

let server: Server
let url = ''
let doc: unknown = { keys: [] }
let status = 200
let delayMs = 0
let fetches = 0
let key: JWK
before(async () => {
  server = createServer((_req, res) => {
    fetches++
    const send = () => { res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(doc)) }
    if (delayMs > 0) setTimeout(send, delayMs); else send()
  })
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks`
  key = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey)
})
after(() => { server.closeAllConnections(); server.close() })
const caches: JwksCache[] = []
after(() => { for (const c of caches) c.stop() })
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

function cache(o: Partial<JwtProviderIR> = {}) {
  const p = {
    kind: 'jwt', name: 'idp', issuer: 'https://idp/', jwksUrl: url, refreshMs: 300_000, refreshAheadMs: 30_000, unknownKidCooldownMs: 30_000,
    maxStaleMs: 900_000, fetchTimeoutMs: 2000, algorithms: ['ES256'] as JwtAlgorithm[], audience: [], leewayMs: 0, forward: [],
    tokenCacheSize: 100, source: { file: 'p.gwp', line: 1, col: 1 }, ...o,
  } as JwtProviderIR
  const shared = new Map<string, unknown>()
  const logs: { level: number; msg: string }[] = []
  const log = pino({ level: 'info' }, { write: (s: string) => { logs.push(JSON.parse(s)) } })
  const m = jwksMetrics(stageMetrics(new GatewayMetrics({ defaultMetrics: false }), <T>(k: string, f: () => T): T => { if (!shared.has(k)) shared.set(k, f()); return shared.get(k) as T }), p.name)
  const c = new JwksCache(p, m, log)
  caches.push(c)
  return { c, logs }
}

test('before its first fetch the cache knows no keys (a missing kid cannot be judged yet)', async () => {
  doc = { keys: [{ ...key, kid: 'k1' }] }; status = 200; delayMs = 100
  const { c } = cache()
  assert.equal(c.knowsKeys(), false, 'not started')
  const started = c.start()
  assert.equal(c.knowsKeys(), false, 'first fetch under way')
  await started
  assert.equal(c.knowsKeys(), true)
  delayMs = 0
})

test('stop() while a fetch is under way: nothing is scheduled after that fetch ends', async () => {
  doc = { keys: [{ ...key, kid: 'k1' }] }; status = 200; delayMs = 100
  const { c } = cache({ refreshMs: 400, refreshAheadMs: 300 })   // would refetch 100 ms after each fetch
  const first = c.start()
  c.stop()
  await first
  fetches = 0
  delayMs = 0
  await sleep(500)
  assert.equal(fetches, 0, 'no background fetch after stop()')
})

test('a failed fetch once the keys are older than max_stale logs that no keys are trusted, even before a lookup dropped them', async () => {
  doc = { keys: [{ ...key, kid: 'k1' }] }; status = 200; delayMs = 0
  const { c, logs } = cache({ maxStaleMs: 200 })
  await c.start()
  await sleep(300)
  status = 500
  await c.refresh()
  assert.equal(logs.length, 1)
  assert.equal(logs[0].level, 50)
  assert.match(logs[0].msg, /^JWKS fetch failed; no keys cached: tokens are answered 503 auth_unavailable until a fetch succeeds; next attempt in /)
  status = 200
})
