// test/issues/9-breaker-metric-access-log.test.ts (issue 9, item 11, two parts): `gw_breaker_state` (and the
// other breaker series) exist only for upstreams that have a breaker, also across reloads that add or remove
// one; and the access line of a retried request that ends in 502 (no attempt ever answered) carries `tries`
// and the upstream and replica of its last attempt. Before the fix, /metrics showed `gw_breaker_state 0` for
// an upstream without a breaker and the 502's access line had neither field.
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { deadAddress, deadUrl } from '../helpers/dead-address.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { agent, closeAll, scrape, send, sleep } from '../policies/fixtures.js'

let live: Server
let gw: TestGateway
let dir: string
const ua = agent(8)


const policy = (guardedBreaker: boolean, plainBreaker: boolean) => `
upstream guarded { replicas 127.0.0.1:${(live.address() as { port: number }).port}${guardedBreaker ? '; breaker error_ratio 50% min_requests 20' : ''} }
upstream plain { replicas 127.0.0.1:${(live.address() as { port: number }).port}${plainBreaker ? '; breaker error_ratio 50% min_requests 20' : ''} }
upstream gone { replicas ${deadAddress(0)} ${deadAddress(1)}; health passive eject_after 1000 }
route guarded { match path prefix "/guarded"; timeout 2s; proxy guarded }
route plain { match path prefix "/plain"; timeout 2s; proxy plain }
route gone { match path prefix "/gone"; timeout 2s; retry 1 budget 100%; proxy gone }
`

before(async () => {
  live = createServer((req, res) => { req.resume(); res.end('ok') })
  await new Promise<void>(r => live.listen(0, '127.0.0.1', r))
  dir = await mkdtemp(join(tmpdir(), 'gwp-i11-'))
  gw = await startGateway(policy(true, false), { accessLog: true, logDestination: join(dir, 'access.log') })
})
after(async () => {
  await closeAll(ua, gw)
  live.closeAllConnections()
  await new Promise(r => live.close(r))
  await rm(dir, { recursive: true, force: true })
})

const breakerSeries = async (): Promise<string[]> =>
  [...new Set((await scrape(gw)).split('\n').filter(l => l.startsWith('gw_breaker_')).map(l => /upstream="([^"]+)"/.exec(l)![1]))].sort()

test('breaker series only for upstreams with a breaker, across reloads that add or remove one', async () => {
  assert.equal((await send(ua, gw.url + '/plain/x')).status, 200)
  assert.equal((await send(ua, gw.url + '/guarded/x')).status, 200)
  const text = await scrape(gw)
  assert.match(text, /^gw_breaker_state\{upstream="guarded"\} 0$/m)
  assert.deepEqual(await breakerSeries(), ['guarded'])
  await gw.reload(policy(false, true))
  assert.deepEqual(await breakerSeries(), ['plain'], 'the breaker moved from guarded to plain')
  await gw.reload(policy(false, false))
  assert.deepEqual(await breakerSeries(), [])
})

test('a retried request ending in 502 logs tries and the upstream and replica of its last attempt', async () => {
  const r = await send(ua, gw.url + '/gone/x')
  assert.equal(r.status, 502)
  await send(ua, gw.url + '/plain/y')
  await sleep(400) // access lines are written in batches every 200 ms
  const lines = (await readFile(join(dir, 'access.log'), 'utf8')).split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>)
  const gone = lines.find(l => l.route === 'gone')!
  assert.equal(gone.status, 502)
  assert.equal(gone.tries, 2)
  assert.equal(gone.upstreamName, 'gone')
  assert.ok([deadUrl(0), deadUrl(1)].includes(gone.upstream as string), String(gone.upstream))
  assert.equal(gone.upstreamMs, undefined, 'no attempt got response headers')
  const plain = lines.find(l => l.route === 'plain' && l.path === '/plain/y')!
  assert.deepEqual([plain.tries, plain.upstreamName, plain.upstream, typeof plain.upstreamMs], [1, 'plain', `http://127.0.0.1:${(live.address() as { port: number }).port}`, 'number'])
})
