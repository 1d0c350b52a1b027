// test/issues/9-split-failover.test.ts (issue 9, item 9): a weighted split fails over between its upstreams.
// Two real upstream servers plus dead ports: with `proxy search 95%, search_v2 5%` and search_v2 refusing
// connections, the canary slice gets 200s from `search` (a retry goes to the split's other upstream, within
// the budget, behind its breaker, within the route timeout); an upstream out of rotation hands its share to
// the other before anything is sent; the failed upstream's budget bounds the retries; a request that reached
// the upstream is retried only when idempotent. Before the fix every canary request got a 502.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { deadAddress } from '../helpers/dead-address.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { agent, closeAll, metricOf, send, sleep, tally } from '../policies/fixtures.js'

let search: Server
let v2err: Server
let hang: Server
let gw: TestGateway
let dir: string
const ua = agent(16)


async function serve(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const s = createServer(handler)
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  return s
}
const port = (s: Server) => (s.address() as { port: number }).port

before(async () => {
  search = await serve((req, res) => { req.resume(); res.end('search') })
  v2err = await serve((req, res) => { req.resume(); res.statusCode = 503; res.end('v2 down') })
  hang = await serve(req => { req.resume() })
  dir = await mkdtemp(join(tmpdir(), 'gwp-split-'))
  // Passive ejection is out of reach except on `ejected`, so the retries are what moves requests over.
  const off = 'health passive eject_after 1000'
  gw = await startGateway(`
upstream search { replicas 127.0.0.1:${port(search)} }
upstream search_v2 { replicas ${deadAddress(0)}; ${off} }
upstream dark { replicas ${deadAddress(1)}; ${off} }
upstream ejected { replicas ${deadAddress(2)}; health passive eject_after 2 for 30s }
upstream refusing { replicas ${deadAddress(3)}; ${off} }
upstream v2err { replicas 127.0.0.1:${port(v2err)}; ${off} }
upstream hang { replicas 127.0.0.1:${port(hang)}; ${off} }
route canary { match path prefix "/canary"; timeout 2s; retry 1 budget 100%; proxy search 95%, search_v2 5% }
route budgeted { match path prefix "/budgeted"; timeout 2s; retry 1 budget 1%; proxy dark 100%, search 0% }
route no_retry { match path prefix "/no-retry"; timeout 2s; proxy search 50%, ejected 50% }
route post_refused { match path prefix "/post-refused"; timeout 2s; retry 1 budget 100%; proxy refusing 100%, search 0% }
route answered { match path prefix "/answered"; timeout 2s; retry 1 budget 100%; proxy v2err 100%, search 0% }
route slow { match path prefix "/slow"; timeout 2s; retry 1 per_try 150ms budget 100%; proxy hang 100%, search 0% }
`, { accessLog: true, logDestination: join(dir, 'access.log') })
})
after(async () => {
  await closeAll(ua, gw)
  for (const s of [search, v2err, hang]) { s.closeAllConnections(); await new Promise(r => s.close(r)) }
  await rm(dir, { recursive: true, force: true })
})

const get = (path: string, method = 'GET') => send(ua, gw.url + path, { method, ...(method === 'POST' ? { body: 'x', headers: { 'content-type': 'text/plain' } } : {}) })
const failovers = (from: string, to: string) => metricOf(gw, 'gw_upstream_failovers_total', { from, to })

async function accessLines(route: string): Promise<{ status: number; tries: number; upstream: string; upstreamName: string }[]> {
  await sleep(400) // the access log writes in batches every 200 ms
  return (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(l => l.includes(`"route":"${route}"`)).map(l => JSON.parse(l))
}

test('95/5 split with search_v2 refusing connections: the canary slice gets 200s from search', async () => {
  const answers: { status: number; text: string }[] = []
  for (let i = 0; i < 300; i++) answers.push(await get('/canary/q'))
  assert.deepEqual(tally(answers.map(a => a.status)), { 200: 300 })
  assert.ok(answers.every(a => a.text === 'search'))
  const refused = await metricOf(gw, 'gw_upstream_requests_total', { upstream: 'search_v2', outcome: 'connect_error' })
  assert.ok(refused >= 3, `the canary was drawn (${refused} times)`)
  assert.equal(await failovers('search_v2', 'search'), refused, 'every refused canary attempt was retried on search')
  assert.equal(await metricOf(gw, 'gw_upstream_retries_total', { upstream: 'search_v2' }), refused)
  const lines = await accessLines('canary')
  const moved = lines.filter(l => l.tries === 2)
  assert.equal(moved.length, refused)
  assert.ok(moved.every(l => l.status === 200 && l.upstreamName === 'search' && l.upstream === `http://127.0.0.1:${port(search)}`), JSON.stringify(moved[0]))
})

test('the failed upstream\'s retry budget bounds the failover: beyond it, 502', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 20; i++) statuses.push((await get('/budgeted/q')).status)
  // budget 1% of 20 requests is below the floor of 3 retries per 10 s window
  assert.deepEqual(tally(statuses), { 200: 3, 502: 17 })
  assert.equal(await failovers('dark', 'search'), 3)
  assert.equal(await metricOf(gw, 'gw_upstream_retry_budget_denied_total', { upstream: 'dark' }), 17)
  const lines = await accessLines('budgeted')
  assert.ok(lines.filter(l => l.status === 502).every(l => l.tries === 1 && l.upstreamName === 'dark'))
})

test('no retry configured: an upstream ejected by passive health hands its share to the other before sending', async () => {
  const statuses: number[] = []
  for (let i = 0; i < 60; i++) statuses.push((await get('/no-retry/q')).status)
  // the first two draws of `ejected` meet the refusal (no retry on this route); then it is out of rotation
  assert.deepEqual(tally(statuses), { 200: 58, 502: 2 })
  assert.ok(await failovers('ejected', 'search') > 0)
  assert.equal(await metricOf(gw, 'gw_upstream_retries_total', { upstream: 'ejected' }), 0, 'not a retry: nothing was sent')
})

test('idempotent-only: a POST that was refused is retried on the other upstream, one that reached a 503 is not', async () => {
  assert.equal((await get('/post-refused/q', 'POST')).status, 200)
  assert.equal((await get('/answered/q')).status, 200, 'a GET answered 503 is retried on search')
  const post = await get('/answered/q', 'POST')
  assert.equal(post.status, 503)
  assert.equal(post.text, 'v2 down', 'the upstream\'s own answer, not retried')
})

test('within the route timeout: per_try moves a hung attempt over to the other upstream', async () => {
  const r = await get('/slow/q')
  assert.equal(r.status, 200)
  assert.equal(r.text, 'search')
  assert.ok(r.ms >= 140 && r.ms < 1900, `answered after the 150 ms per-try deadline, within the 2 s timeout: ${Math.round(r.ms)} ms`)
})
