// test/policies/ratelimit-redis.test.ts: the Redis limiter against a real redis-server on a free port: the 429
// contract, one shared and exact limit across two in-process gateways and a separate `gw run` process, one
// script call per decision with bounded keys, and Redis trouble: paused (slow) and killed mid-run under load
// → the route's fail_open / fail_closed policy within the bound, counted, never a hung request; restarted →
// limits enforced again. Skipped when redis-server is not installed.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Redis } from 'ioredis'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { addrs, agent, closeAll, metricOf, send, sleep, spawnGateway, startTogether, steady, tally, waitFor, type SpawnedGateway } from './fixtures.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
/** The bound on one Redis decision. Wider than the 50 ms default so a stall of this busy machine is not an outage. */
const BOUND_MS = 250

let redis: TestRedis
let admin: Redis
let stub: Stub
let gwA: TestGateway
let gwB: TestGateway
let proc: SpawnedGateway
const ua = agent(128)

const policy = () => `
upstream web { replicas ${addrs(stub)} }
route basic { match path prefix "/basic"; ratelimit by ip 5 per 1m redis; timeout 2s; proxy web }
route shared { match path prefix "/shared"; ratelimit by ip 10 per 1m redis; timeout 2s; proxy web }
route counted { match path prefix "/counted"; ratelimit by header X-Client 1000 per 1s redis; timeout 2s; proxy web }
route open { match path prefix "/open"; ratelimit by ip 3 per 1m redis fail_open; timeout 2s; proxy web }
route closed { match path prefix "/closed"; ratelimit by ip 3 per 1m redis fail_closed; timeout 2s; proxy web }
route roomy_open { match path prefix "/roomy-open"; ratelimit by ip 100000 per 1s redis fail_open; timeout 2s; proxy web }
route roomy_closed { match path prefix "/roomy-closed"; ratelimit by ip 100000 per 1s redis fail_closed; timeout 2s; proxy web }
`

before(async () => {
  if (skip) return
  ;[redis, stub] = await startTogether(startRedis(), startStub({ name: 'web', count: 1 }))
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
  admin.on('error', () => undefined) // it reconnects by itself while the test kills Redis
  await admin.connect()
  const settings = { redisUrl: redis.url, redisTimeoutMs: BOUND_MS }
  ;[gwA, gwB, proc] = await startTogether(
    startGateway(policy(), settings), startGateway(policy(), settings),
    spawnGateway(policy(), ['--redis', redis.url, '--redis-timeout', `${BOUND_MS}ms`]),
  )
})
after(async () => {
  if (skip) return
  admin?.disconnect()
  await closeAll(ua, gwA, gwB, proc)
  await closeAll(stub, redis)
})

const get = (base: { url: string }, path: string, headers: Record<string, string> = {}) => send(ua, base.url + path, { headers })

test('over a Redis limit: 429 with Retry-After, RateLimit-Policy and RateLimit', { skip }, async () => {
  const statuses: number[] = []
  for (let i = 0; i < 5; i++) statuses.push((await get(gwA, '/basic/status/200')).status)
  assert.deepEqual(statuses, [200, 200, 200, 200, 200])
  const r = await get(gwA, '/basic/status/200')
  assert.equal(r.status, 429, r.text)
  assert.equal(JSON.parse(r.text).error, 'rate_limited')
  const retry = Number(r.headers['retry-after'])
  assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 12, `Retry-After ${r.headers['retry-after']}`)
  assert.equal(r.headers['ratelimit-policy'], '"ip";q=5;w=60')
  assert.equal(r.headers['ratelimit'], `"ip";r=0;t=${retry}`)
})

test('one limit shared by two in-process gateways and a separate gw process, exact under concurrency', { skip }, async () => {
  const fleet = [gwA, gwB, proc]
  // 10 per minute; 45 requests at once, 15 through each gateway
  const answers = await Promise.all(Array.from({ length: 45 }, (_, i) => get(fleet[i % 3], '/shared/status/200')))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 10, 429: 35 })
  for (const g of fleet) assert.equal((await get(g, '/shared/status/200')).status, 429, `${g.url} sees the shared count`)
  // the separate process took part in the race, not only in the follow-up
  const fromProc = answers.filter((_, i) => i % 3 === 2).map(a => a.status)
  assert.equal(fromProc.length, 15)
})

test('one script call per decision (a single round trip), and limiter keys expire', { skip }, async () => {
  await get(gwA, '/counted/status/200', { 'x-client': 'warm' }) // loads the script
  await admin.config('RESETSTAT')
  for (let i = 0; i < 20; i++) assert.equal((await get(gwA, '/counted/status/200', { 'x-client': `c${i % 4}` })).status, 200)
  const stats = Object.fromEntries([...(await admin.info('commandstats')).matchAll(/^cmdstat_(\S+):calls=(\d+)/gm)].map(m => [m[1], Number(m[2])]))
  // commandstats also counts the commands the script runs (TIME, GET, SET once each per decision)
  const { info: _i, 'config|resetstat': _c, time, get: gets, set: sets, ...sent } = stats
  assert.deepEqual(sent, { evalsha: 20 }, 'exactly one EVALSHA per decision and no other command from the gateway')
  assert.deepEqual([time, gets, sets], [20, 20, 20], 'inside the script: one TIME, one GET, one SET per decision (no extra GET sent by the gateway)')
  const keys = await admin.keys('gwp:rl:*c1')
  assert.equal(keys.length, 1, `one key per limiter and client: ${keys}`)
  const ttl = await admin.pttl(keys[0])
  assert.ok(ttl > 0 && ttl <= 2000, `a key lives about one emission interval plus a second, got PTTL ${ttl}`)
})

test('Redis slow (clients paused): decisions give up after the bound and apply the route policy', { skip }, async () => {
  const errsOpen = await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_open', policy: 'fail_open' })
  const errsClosed = await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_closed', policy: 'fail_closed' })
  await admin.call('CLIENT', 'PAUSE', '1500', 'ALL')
  const t0 = performance.now()
  const [open, closed] = await Promise.all([get(gwA, '/roomy-open/status/200'), get(gwA, '/roomy-closed/status/200')])
  assert.ok(performance.now() - t0 < 1000, 'answered while Redis was still paused')
  assert.equal(open.status, 200, 'fail_open lets the request through')
  assert.equal(closed.status, 503, closed.text)
  assert.equal(JSON.parse(closed.text).error, 'rate_limit_unavailable')
  // the bound is 250 ms; 800 ms leaves room for a loaded machine and is far below the 1.5 s pause
  for (const r of [open, closed]) assert.ok(r.ms >= BOUND_MS * 0.8 && r.ms < 800, `waited ${Math.round(r.ms)} ms for a paused Redis (bound ${BOUND_MS} ms)`)
  assert.equal(await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_open', policy: 'fail_open' }) - errsOpen, 1)
  assert.equal(await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_closed', policy: 'fail_closed' }) - errsClosed, 1)
  await sleep(Math.max(0, 1600 - (performance.now() - t0)))
  assert.equal((await get(gwA, '/roomy-closed/status/200')).status, 200, 'decided by Redis again once it answers')
})

test('Redis killed mid-run under load: the declared policy, counted, no hung request; restarted: limits are back', { skip }, async () => {
  const closedErrs = await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_closed', policy: 'fail_closed' })
  const openErrs = await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_open', policy: 'fail_open' })
  let phase: 'up' | 'down' | 'back' = 'up'
  let killing: Promise<void> | null = null
  let starting: Promise<void> | null = null
  const shots: { phase: string; path: string; status: number; ms: number }[] = []
  let n = 0
  await steady(60, 3000, async () => {
    const path = n++ % 2 === 0 ? '/roomy-open/status/200' : '/roomy-closed/status/200'
    const p = phase
    const r = await get(gwA, path).catch(() => ({ status: 0, ms: 0 }))
    shots.push({ phase: p, path, status: r.status, ms: r.ms })
    return r.status
  }, ms => {
    if (ms > 700 && killing === null) { phase = 'down'; killing = redis.kill() }
    if (ms > 1700 && starting === null) { starting = killing!.then(() => redis.start()).then(() => { phase = 'back' }) }
  })
  await starting
  const of = (ph: string, path: string) => tally(shots.filter(s => s.phase === ph && s.path.startsWith(path)).map(s => s.status))
  assert.deepEqual(Object.keys(of('up', '/roomy-open')), ['200'])
  assert.deepEqual(Object.keys(of('up', '/roomy-closed')), ['200'])
  assert.deepEqual(Object.keys(of('down', '/roomy-open')), ['200'], `fail_open keeps serving while Redis is down: ${JSON.stringify(of('down', '/roomy-open'))}`)
  const closedDown = of('down', '/roomy-closed')
  assert.ok((closedDown['503'] ?? 0) > 0 && Object.keys(closedDown).every(s => s === '503' || s === '200'), `fail_closed answers 503 while Redis is down: ${JSON.stringify(closedDown)}`)
  assert.ok(!shots.some(s => s.status === 0), 'no request failed at the transport level')
  // a down Redis fails fast (no offline queue); at worst a command in flight at the kill waits for the bound
  const worst = Math.max(...shots.map(s => s.ms))
  assert.ok(worst < 1000, `slowest request ${Math.round(worst)} ms (route timeout 2 s, Redis bound ${BOUND_MS} ms)`)
  assert.ok(await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_closed', policy: 'fail_closed' }) > closedErrs)
  assert.ok(await metricOf(gwA, 'gw_ratelimit_store_errors_total', { route: 'roomy_open', policy: 'fail_open' }) > openErrs)

  // back: the client reconnects on its own (backoff ≤ 2 s) and Redis decides again, for every gateway
  await waitFor(async () => (await get(gwA, '/roomy-closed/status/200')).status === 200, 5000, 'gateway A to reach Redis again')
  for (const g of [gwA, gwB, proc]) {
    await waitFor(async () => (await get(g, '/roomy-closed/status/200')).status === 200, 5000, `${g.url} to reach Redis again`)
  }
  // Redis restarted empty: the shared limit of 3 per minute on `closed` applies again, across the fleet
  const statuses: number[] = []
  for (const g of [gwA, gwB, proc, gwA, gwB]) statuses.push((await get(g, '/closed/status/200')).status)
  assert.deepEqual(statuses, [200, 200, 200, 429, 429])
})
