// bench/runtime/ip-rules.bench.ts: the `ip allow|deny` stage (policies/ip/stage.ts, address.ts) — reading the
// client address into 32-bit words and testing it against the list, admitted and refused, IPv4, v4-mapped and
// IPv6, a 3-entry and a 100-entry list — beside node:net's BlockList.check on the same lists (what request-head.ts
// caches per address for trusted proxies), which builds a SocketAddress per call.
// Run: npm run build && node --expose-gc dist/bench/runtime/ip-rules.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { BlockList } from 'node:net'
import { CONTINUE } from '../../config/stage.js'
import { compileList, lookup } from '../../policies/ip/address.js'
import { createIpStage } from '../../policies/ip/stage.js'
import { RequestContext } from '../../runtime/context.js'
import { Reply } from '../../runtime/reply.js'
import { createBenchEnv } from './kit/stage-env.js'
import { fakeRequest, fakeResponse } from './kit/fake-http.js'
import { createSuite } from './kit/suite.js'

const env = createBenchEnv({ declarations: [], identityHeaders: [] })
const OFFICE = ['10.0.0.0/8', '192.168.0.0/16', '2001:db8::/32']
// 100 entries: /24s of 172.16.0.0/12 and /48s of 2001:db8::/32, the client's entry last
const MANY = [
  ...Array.from({ length: 60 }, (_, i) => `172.${16 + (i >> 4)}.${(i & 15) * 16}.0/24`),
  ...Array.from({ length: 39 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`),
  '198.51.100.0/24',
]
const allow = createIpStage({ route: 'ip_bench', mode: 'allow', entries: OFFICE }, env)
const deny = createIpStage({ route: 'ip_bench', mode: 'deny', entries: OFFICE }, env)
const allowMany = createIpStage({ route: 'ip_bench', mode: 'allow', entries: MANY }, env)

const ctxAt = (ip: string) => {
  const c = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'api.bench.test']] }), fakeResponse().res, performance.now())
  c.clientIp = ip
  return c
}
const v4In = ctxAt('10.1.2.3'), v4Out = ctxAt('203.0.113.9'), mapped = ctxAt('::ffff:10.1.2.3'), v6In = ctxAt('2001:db8:0:1::42'), last = ctxAt('198.51.100.7')
assert.equal(allow(v4In), CONTINUE)
assert.equal(allow(mapped), CONTINUE)
assert.equal(allow(v6In), CONTINUE)
assert.ok(allow(v4Out) instanceof Reply)
assert.equal(deny(v4Out), CONTINUE)
assert.equal(allowMany(last), CONTINUE)

function blockList(entries: readonly string[]): BlockList {
  const b = new BlockList()
  for (const e of entries) { const [a, p] = e.split('/'); b.addSubnet(a, Number(p), a.includes(':') ? 'ipv6' : 'ipv4') }
  return b
}
const bl = blockList(OFFICE), blMany = blockList(MANY)
assert.equal(bl.check('10.1.2.3', 'ipv4'), true)
const list = compileList(OFFICE)
assert.equal(lookup(list, '10.1.2.3'), 1)

const suite = createSuite(import.meta.url, 'ip allow/deny: the stage and its address reader')
suite
  .add('ip allow, 3 entries: IPv4 client admitted', 'nothing: the address is read into preallocated words', () => allow(v4In))
  .add('ip allow, 3 entries: IPv4 client refused (403)', 'nothing: the 403 reply was built at load; a counter increment', () => allow(v4Out))
  .add('ip deny, 3 entries: IPv4 client admitted', 'nothing', () => deny(v4Out))
  .add('ip allow, 3 entries: v4-mapped client (::ffff:10.1.2.3) admitted', 'nothing', () => allow(mapped))
  .add('ip allow, 3 entries: IPv6 client admitted', 'nothing', () => allow(v6In))
  .add('ip allow, 100 entries: client in the last entry', 'nothing: a linear scan of 60 v4 pairs', () => allowMany(last))
  .add('lookup alone: IPv4, 3 entries', 'nothing', () => lookup(list, '10.1.2.3'))
  .add('node:net BlockList.check: IPv4, 3 entries', 'a SocketAddress per call', () => bl.check('10.1.2.3', 'ipv4'))
  .add('node:net BlockList.check: IPv6, 3 entries', 'a SocketAddress per call', () => bl.check('2001:db8:0:1::42', 'ipv6'))
  .add('node:net BlockList.check: IPv4, 100 entries, last', 'a SocketAddress per call', () => blMany.check('198.51.100.7', 'ipv4'))
await suite.run()
