// test/issues/10-redis-transition-logs.test.ts (issue 10): the gateway logs when Redis stops answering and
// when it answers again, once per transition and not per request, for a real redis-server that is frozen
// (SIGSTOP: its socket stays open, only timeouts tell) and then thawed (SIGCONT), and for one killed and
// restarted. Before the fix a frozen Redis showed only in metrics: no log line at all.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, test } from 'node:test'
import { pino } from 'pino'
import { startStub, type Stub } from '../../testkit/upstream/stub.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { hasRedis, startRedis, type TestRedis } from '../helpers/redis.js'
import { addrs, agent, closeAll, send, sleep, startTogether, waitFor } from '../policies/fixtures.js'

const skip = hasRedis() ? false : 'redis-server is not installed'
/** Wide enough that a busy machine's slow answer is not an outage (3 in a row would be). */
const BOUND_MS = 300

let redis: TestRedis
let stub: Stub
let gw: TestGateway
const lines: { level: number; msg: string; err?: string }[] = []
const ua = agent(16)

before(async () => {
  if (skip) return
  ;[redis, stub] = await startTogether(startRedis(), startStub({ name: 'web', count: 1 }))
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); cb() } })
  gw = await startGateway(`
upstream web { replicas ${addrs(stub)} }
route open { match path prefix "/open"; ratelimit by ip 1000000 per 1s redis fail_open; timeout 2s; proxy web }
`, { redisUrl: redis.url, redisTimeoutMs: BOUND_MS }, { log: pino({ level: 'info' }, sink) })
})
after(async () => {
  if (skip) return
  try { redis.resume() } catch { /* not running */ }
  await closeAll(ua, gw)
  await closeAll(stub, redis)
})

const redisLines = () => lines.filter(l => l.msg.startsWith('redis ')).map(l => `${l.level === 40 ? 'warn' : 'info'} ${l.msg.split(';')[0]}`)
const burst = async (n: number) => { for (let i = 0; i < n; i++) assert.equal((await send(ua, gw.url + '/open/status/200')).status, 200) }

test('frozen (SIGSTOP) then thawed (SIGCONT): one "not answering" line and one "answering again" line', { skip }, async () => {
  await burst(5)
  assert.deepEqual(redisLines(), [], 'nothing logged while Redis answers')
  redis.pause()
  await burst(10) // each waits for the bound, then fail_open lets it through
  await Promise.all(Array.from({ length: 10 }, () => send(ua, gw.url + '/open/status/200')))
  assert.deepEqual(redisLines(), ['warn redis not answering'], 'one line for twenty failed decisions')
  assert.match(lines.find(l => l.msg.startsWith('redis not answering'))!.err!, /no answer within \d+ ms/)
  redis.resume()
  // the first decision Redis makes again ends the outage
  await waitFor(async () => { await send(ua, gw.url + '/open/status/200'); return redisLines().length === 2 }, 5000, 'the recovery line')
  await burst(10)
  assert.deepEqual(redisLines(), ['warn redis not answering', 'info redis answering again'])
})

test('killed then restarted: one "not answering" line and one "answering again" line', { skip }, async () => {
  const before = redisLines().length
  await redis.kill()
  await burst(10)
  await sleep(300)
  await burst(10)
  await redis.start()
  await waitFor(async () => { await send(ua, gw.url + '/open/status/200'); return redisLines().length === before + 2 }, 8000, `the reconnection line: ${JSON.stringify(lines)}`)
  await burst(10)
  await sleep(200)
  assert.deepEqual(redisLines().slice(before), ['warn redis not answering', 'info redis answering again'])
})
