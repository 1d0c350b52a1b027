// Issue 12 item 5: `ip allow|deny` through real sockets. The address checked is the client's as the trusted-proxy
// rules determine it: the socket peer, whatever X-Forwarded-For an untrusted peer sends; behind trusted proxies the
// rightmost X-Forwarded-For entry that is not one. An IPv4 client on a dual-stack socket (`::ffff:127.0.0.1`)
// is matched as IPv4. A refusal is 403 {"error":"forbidden","request_id":…} and never reaches the upstream; an
// address that does not read (a trusted proxy's garbage) is refused by allow and deny lists alike.
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'

let up: RecordingUpstream
let plain: TestGateway
let trusting: TestGateway
let dual: TestGateway | undefined

const policy = (addrs: string) => `
upstream web { replicas ${addrs} }
policy office { ip allow "10.0.0.0/8", "2001:db8::/32" }
route loopback_only { match path prefix "/lo"; ip allow "127.0.0.0/8"; timeout 2s; proxy web }
route office { match path prefix "/office"; use office; ip deny "10.66.0.0/16"; timeout 2s; proxy web }
route no_loopback { match path prefix "/nolo"; ip deny "127.0.0.1", "::1"; timeout 2s; proxy web }
route no_ten { match path prefix "/noten"; ip deny "10.0.0.0/8"; timeout 2s; proxy web }
route v6_only { match path prefix "/v6"; ip allow "::1", "2001:db8:5::/48"; timeout 2s; proxy web }
route docs_net { match path prefix "/docnet"; ip allow "203.0.113.0/24"; timeout 2s; proxy web }
route open { match path prefix "/"; timeout 2s; proxy web }
`

/** Whether this host can listen on `::` (dual-stack): the v4-mapped test needs it. */
const dualStack = (): Promise<boolean> => new Promise(resolve => {
  const s = createServer()
  s.once('error', () => resolve(false))
  s.listen(0, '::', () => s.close(() => resolve(true)))
})

before(async () => {
  up = await startRecordingUpstream(1)
  plain = await startGateway(policy(up.addrs))
  // the test client (127.0.0.1) is a trusted proxy here: X-Forwarded-For says who the client is
  trusting = await startGateway(policy(up.addrs), { trustedProxies: ['127.0.0.0/8', '192.0.2.0/24'] })
  if (await dualStack()) dual = await startGateway(policy(up.addrs), { listen: '[::]:0' })
})
after(async () => { await plain?.close(); await trusting?.close(); await dual?.close(); await up?.close() })

async function get(base: string, path: string, headers: Record<string, string | string[]> = {}) {
  up.reset()
  const res = await request(base + path, { headers })
  const text = await res.body.text()
  return { status: res.statusCode, text, reached: up.received.length }
}

function assertForbidden(r: { status: number; text: string; reached: number }, what: string) {
  assert.equal(r.status, 403, `${what}: ${r.text}`)
  const body = JSON.parse(r.text)
  assert.equal(body.error, 'forbidden', what)
  assert.equal(typeof body.request_id, 'string', `${what}: the body names the request id`)
  assert.equal(r.reached, 0, `${what}: a refused request never reaches the upstream`)
}

test('from an untrusted peer the socket address decides: a spoofed X-Forwarded-For neither admits nor refuses', async () => {
  assert.equal((await get(plain.url, '/lo')).status, 200, 'loopback client on a loopback allow list')
  assert.equal((await get(plain.url, '/lo', { 'x-forwarded-for': '203.0.113.9' })).status, 200)
  assertForbidden(await get(plain.url, '/office'), 'loopback is not on the office list')
  assertForbidden(await get(plain.url, '/office', { 'x-forwarded-for': '10.1.2.3' }), 'spoofed office address')
  assertForbidden(await get(plain.url, '/office', { 'x-forwarded-for': ['10.1.2.3', '10.4.5.6'] }), 'two spoofed lines')
  assertForbidden(await get(plain.url, '/office', { 'x-real-ip': '10.1.2.3', forwarded: 'for=10.1.2.3' }), 'other spoofable headers')
  assertForbidden(await get(plain.url, '/nolo', { 'x-forwarded-for': '10.9.9.9' }), 'denied peer claiming another address')
  assert.equal((await get(plain.url, '/noten', { 'x-forwarded-for': '10.9.9.9' })).status, 200, 'a spoofed denied address does not get a client refused either')
})

test('behind trusted proxies the client is the rightmost X-Forwarded-For entry that is not a trusted proxy', async () => {
  const t = trusting.url
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '10.1.2.3' })).status, 200, 'office client via the proxy')
  assertForbidden(await get(t, '/lo', { 'x-forwarded-for': '10.1.2.3' }), 'the proxy\'s own address is not the client')
  // the client wrote 10.1.2.3 itself; the proxy appended the address it saw
  assertForbidden(await get(t, '/office', { 'x-forwarded-for': '10.1.2.3, 198.51.100.7' }), 'leftmost entry is client-written')
  // a chain of trusted proxies (192.0.2.x) after the real client
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '198.51.100.7, 10.1.2.3, 192.0.2.1, 192.0.2.2' })).status, 200, 'rightmost untrusted is 10.1.2.3')
  assertForbidden(await get(t, '/office', { 'x-forwarded-for': '10.1.2.3, 203.0.113.9, 192.0.2.1' }), 'rightmost untrusted is 203.0.113.9')
  assert.equal((await get(t, '/docnet', { 'x-forwarded-for': '10.1.2.3, 203.0.113.9, 192.0.2.1' })).status, 200)
  // two X-Forwarded-For lines are one list (Node joins them)
  assert.equal((await get(t, '/docnet', { 'x-forwarded-for': ['10.1.2.3', '203.0.113.9'] })).status, 200)
  // deny wins over allow: 10.66/16 is inside the office's 10/8
  assertForbidden(await get(t, '/office', { 'x-forwarded-for': '10.66.0.1' }), 'denied inside the allowed range')
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '10.67.0.1' })).status, 200)
  // IPv6 and v4-mapped IPv6 entries, in any case and compression
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '2001:DB8:0:0::7' })).status, 200, 'IPv6 in the office /32')
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '::ffff:10.1.2.3' })).status, 200, 'v4-mapped is the IPv4 address')
  assert.equal((await get(t, '/office', { 'x-forwarded-for': '::ffff:a01:203' })).status, 200, 'v4-mapped in hex groups too')
  assertForbidden(await get(t, '/office', { 'x-forwarded-for': '::ffff:10.66.0.1' }), 'v4-mapped denied address')
  assertForbidden(await get(t, '/office', { 'x-forwarded-for': '2001:db9::1' }), 'IPv6 outside the /32')
  assertForbidden(await get(t, '/noten', { 'x-forwarded-for': '::ffff:10.0.0.1' }), 'v4-mapped on a deny list')
  assert.equal((await get(t, '/v6', { 'x-forwarded-for': '2001:db8:5:ffff::1' })).status, 200)
})

test('an address that does not read is refused by allow and deny lists alike (fail closed)', async () => {
  for (const bad of ['not-an-ip', '10.1.2.3:4567', '[2001:db8::1]', '010.1.2.3', '10.1.2', '2001:db8:::1', '10.1.2.3.4', '1::2::3', '1.2.3.4 5.6.7.8', '::ffff:1.2.3.256']) {
    assertForbidden(await get(trusting.url, '/office', { 'x-forwarded-for': `192.0.2.200, ${bad}` }), `allow list, client ${JSON.stringify(bad)}`)
    assertForbidden(await get(trusting.url, '/noten', { 'x-forwarded-for': `192.0.2.200, ${bad}` }), `deny list, client ${JSON.stringify(bad)}`)
  }
  // an empty entry is skipped (request-head.ts): the next one leftwards is the client
  assert.equal((await get(trusting.url, '/office', { 'x-forwarded-for': '10.1.2.3, ' })).status, 200)
})

test('an IPv4 client on a dual-stack listener (`::ffff:127.0.0.1`) is matched as IPv4; an IPv6 client as IPv6', async t => {
  if (dual === undefined) { t.skip('no IPv6 on this host'); return }
  const port = dual.running.address.port
  const v4 = `http://127.0.0.1:${port}`
  assert.equal((await get(v4, '/lo')).status, 200, 'mapped loopback on the IPv4 loopback allow list')
  assertForbidden(await get(v4, '/nolo'), 'mapped loopback on a deny list written as 127.0.0.1')
  assertForbidden(await get(v4, '/v6'), 'an IPv4 client is not on a list of IPv6 entries')
  let v6ok = true
  try { await get(`http://[::1]:${port}`, '/') } catch { v6ok = false }
  if (!v6ok) return
  assert.equal((await get(`http://[::1]:${port}`, '/v6')).status, 200, '::1 on an IPv6 allow list')
  assertForbidden(await get(`http://[::1]:${port}`, '/lo'), '::1 is not 127.0.0.0/8')
  assertForbidden(await get(`http://[::1]:${port}`, '/nolo'), '::1 denied')
})

test('refusals are counted as gw_stage_rejects_total{stage="ip"} per route', async () => {
  await get(plain.url, '/office')
  const res = await request(plain.adminUrl + '/metrics')
  const text = await res.body.text()
  assert.ok((metric(text, 'gw_stage_rejects_total', { stage: 'ip', route: 'office', code: '403' }) ?? 0) >= 1, 'office refusals counted')
})
