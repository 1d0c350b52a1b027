// Issue 14, survivor 2: which address the gateway takes as the client's behind trusted proxies. X-Forwarded-For
// is a list each proxy appends to: only the entries added by proxies we trust can be believed, so the client
// is the rightmost entry that is not a trusted proxy. The leftmost entry is whatever the client wrote: taking
// it lets any client pick its own `ratelimit by ip` key. The address is observed the way it matters, through a
// per-ip rate limit (1 per hour: a second request with the same key gets 429), and the chain the upstream
// receives is pinned too.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
let trusting: TestGateway
let plain: TestGateway

const policy = (addrs: string) => `
upstream web { replicas ${addrs} }
route spoof { match path prefix "/spoof"; ratelimit by ip 2 per 1m; timeout 2s; proxy web }
route key { match path prefix "/key"; ratelimit by ip 1 per 1h; timeout 2s; proxy web }
route rest { match path prefix "/"; timeout 2s; proxy web }
`

before(async () => {
  up = await startRecordingUpstream(1)
  // the test client connects from 127.0.0.1: a trusted proxy for `trusting`, an ordinary client for `plain`
  trusting = await startGateway(policy(up.addrs), { trustedProxies: ['127.0.0.0/8', '10.0.0.0/8', '2001:db8:aaaa::/48'] })
  plain = await startGateway(policy(up.addrs))
})
after(async () => { await trusting?.close(); await plain?.close(); await up?.close() })

/** One GET with the given X-Forwarded-For lines; the status and the X-Forwarded-For values the upstream got. */
async function get(gw: TestGateway, path: string, xff: string[]): Promise<{ status: number; upstreamXff: string[] | null }> {
  up.reset()
  const r = await wireExchange(gw.running.address.port, req(`GET ${path} HTTP/1.1`, 'Host: shop.test', ...xff.map(v => `X-Forwarded-For: ${v}`)))
  return { status: r.status, upstreamXff: up.received.length === 0 ? null : up.received[0].all('x-forwarded-for') }
}

test('a client behind a trusted proxy cannot escape `ratelimit by ip` by writing its own X-Forwarded-For entries', async () => {
  // the trusted proxy appends the address it saw (198.51.100.7) after whatever the client sent
  const statuses = []
  for (let i = 1; i <= 4; i++) statuses.push((await get(trusting, '/spoof', [`203.0.113.${i}, 198.51.100.7`])).status)
  assert.deepEqual(statuses, [200, 200, 429, 429])
})

test('from an untrusted peer X-Forwarded-For is ignored: the key is the peer, whatever the header says', async () => {
  const statuses = []
  for (let i = 1; i <= 4; i++) statuses.push((await get(plain, '/spoof', [`203.0.113.${i}`, `198.51.100.${i}`])).status)
  assert.deepEqual(statuses, [200, 200, 429, 429])
})

/**
 * The client address chosen for `xff`, checked against `client`: a first request with `xff` must pass, then a
 * request whose only entry is `client` (or none, for the peer) must hit the same 1-per-hour key.
 */
async function assertClient(xff: string[], client: string | 'peer', what: string): Promise<void> {
  const first = await get(trusting, '/key', xff)
  assert.equal(first.status, 200, `${what}: the first request with a fresh key passes`)
  const probe = await get(trusting, '/key', client === 'peer' ? [] : [client])
  assert.equal(probe.status, 429, `${what}: the client address should be ${client}`)
}

test('the client is the rightmost X-Forwarded-For entry that is not a trusted proxy', async () => {
  await assertClient(['203.0.113.10'], '203.0.113.10', 'one entry')
  await assertClient(['198.51.100.66, 203.0.113.11'], '203.0.113.11', 'a client-written entry to the left')
  await assertClient(['198.51.100.67, 203.0.113.12, 10.0.0.5, 10.1.2.3'], '203.0.113.12', 'trusted hops to the right are skipped')
  await assertClient(['198.51.100.68', '203.0.113.13, 10.0.0.6'], '203.0.113.13', 'several header lines form one list, in order')
  await assertClient(['198.51.100.69, 203.0.113.14, , 10.0.0.7,'], '203.0.113.14', 'empty entries are skipped')
  await assertClient(['<script>, not-an-ip, 203.0.113.15'], '203.0.113.15', 'malformed entries to the left are never the client')
  await assertClient(['2001:db8::99, 2001:db8::77, 2001:db8:aaaa::1'], '2001:db8::77', 'IPv6 entries, a trusted IPv6 hop skipped')
  await assertClient(['10.0.0.8, 10.0.0.9'], 'peer', 'every entry trusted: the peer itself')
})

test('a malformed entry right of the client is not taken for a trusted hop (the key is not the address left of it)', async () => {
  assert.equal((await get(trusting, '/key', ['203.0.113.20, bogus'])).status, 200)
  assert.equal((await get(trusting, '/key', ['203.0.113.20'])).status, 200, '203.0.113.20 was not the key')
})

test('what the upstream receives: a trusted chain extended with the peer; from an untrusted peer, the peer alone', async () => {
  assert.deepEqual((await get(trusting, '/x', ['198.51.100.70, 203.0.113.30', '10.0.0.10'])).upstreamXff, ['198.51.100.70, 203.0.113.30, 10.0.0.10, 127.0.0.1'])
  assert.deepEqual((await get(trusting, '/x', ['2001:db8::5'])).upstreamXff, ['2001:db8::5, 127.0.0.1'])
  assert.deepEqual((await get(trusting, '/x', [])).upstreamXff, ['127.0.0.1'])
  assert.deepEqual((await get(plain, '/x', ['198.51.100.71', '203.0.113.31'])).upstreamXff, ['127.0.0.1'])
})
