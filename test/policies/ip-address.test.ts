// test/policies/ip-address.test.ts: the two readers of addresses in policies/ip agree — the compile half's
// (cidr.ts, BigInt, with diagnostics) and the runtime half's (address.ts, 32-bit words, no allocation) — and
// both agree with Node's own BlockList, on random ranges and addresses written every way a client address
// can be: dotted quads, compressed and uncompressed IPv6 in either case, v4-mapped in both notations.
import assert from 'node:assert/strict'
import { BlockList } from 'node:net'
import { test } from 'node:test'
import { cidrText, covers, readCidr, v6Text } from '../../policies/ip/cidr.js'
import { compileList, lookup } from '../../policies/ip/address.js'
import { prng } from '../helpers/prng.js'

const r = prng(12)
const bits = (n: number): bigint => { let x = 0n; for (let i = 0; i < n; i += 16) x = (x << 16n) | BigInt((r() * 65536) | 0); return x & ((1n << BigInt(n)) - 1n) }
const v4 = (n: bigint) => [24n, 16n, 8n, 0n].map(s => String((n >> s) & 0xffn)).join('.')
const full6 = (n: bigint) => Array.from({ length: 8 }, (_, i) => ((n >> BigInt(16 * (7 - i))) & 0xffffn).toString(16).padStart(4, '0')).join(':')

/** An address of `family`, near `net` half the time, in one of its spellings; and its family and number as read. */
function address(family: 4 | 6, net: bigint, prefix: number): { text: string; family: 4 | 6; n: bigint } {
  const w = family === 4 ? 32 : 128
  const host = bits(w - prefix)
  const n = r() < 0.5 ? (net | host) : bits(w)
  if (family === 4) {
    const k = r()
    if (k < 0.6) return { text: v4(n), family: 4, n }
    if (k < 0.8) return { text: `::ffff:${v4(n)}`, family: 4, n }
    return { text: `::FFFF:${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`, family: 4, n }
  }
  const k = r()
  return { text: k < 0.5 ? v6Text(n) : k < 0.75 ? full6(n).toUpperCase() : full6(n), family: 6, n }
}

test('compile-side and runtime readers agree with each other and with node:net BlockList', () => {
  let hits = 0
  for (let i = 0; i < 4000; i++) {
    const family: 4 | 6 = r() < 0.5 ? 4 : 6
    const w = family === 4 ? 32 : 128
    const prefix = (r() * (w + 1)) | 0
    const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(w - prefix)
    const net = bits(w) & mask
    const range = cidrText(family, net, prefix)
    const read = readCidr(range)
    assert.ok(read.ok && !read.hostBits && read.cidr.text === range, `${range} reads back as itself`)
    const list = compileList([range])
    // never an IPv6 address that happens to be v4-mapped: that one is the IPv4 address
    const a = address(family, net, prefix)
    if (family === 6 && a.n >> 32n === 0xffffn) continue
    const want = covers(read.cidr, { family: a.family, net: a.n, prefix: w, text: '' })
    assert.equal(lookup(list, a.text), want ? 1 : 0, `${a.text} in ${range}`)
    const bl = new BlockList()
    bl.addSubnet(family === 4 ? v4(net) : v6Text(net), prefix, family === 4 ? 'ipv4' : 'ipv6')
    if (!a.text.includes(':') || family === 6) assert.equal(bl.check(family === 4 ? a.text : a.text.toLowerCase(), family === 4 ? 'ipv4' : 'ipv6'), want, `BlockList: ${a.text} in ${range}`)
    if (want) hits++
  }
  assert.ok(hits > 1000, `${hits} addresses fell inside their range`)
})

test('v4-mapped ranges are the IPv4 ranges they map, in both halves', () => {
  const m = readCidr('::ffff:10.0.0.0/104')
  assert.ok(m.ok && m.cidr.text === '10.0.0.0/8')
  const list = compileList(['10.0.0.0/8'])
  for (const a of ['10.1.2.3', '::ffff:10.1.2.3', '::FFFF:a01:203', '0:0:0:0:0:ffff:10.1.2.3']) assert.equal(lookup(list, a), 1, a)
  for (const a of ['11.1.2.3', '::10.1.2.3', '64:ff9b::10.1.2.3', '::ffff:0:10.1.2.3']) assert.equal(lookup(list, a), 0, a)
})

test('the runtime reader refuses what is not a plain address', () => {
  const list = compileList(['0.0.0.0/0', '::/0'])
  for (const a of ['', ' ', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.256', '1.2.3.4 ', '1.2.3.4:80', '[::1]', ':::', '1:2:3:4:5:6:7:8:9',
    '12345::', '::1::', '1:', ':1', 'g::1', '::ffff:1.2.3', 'localhost', '1.2.3.4/8']) assert.equal(lookup(list, a), -1, JSON.stringify(a))
  for (const a of ['0.0.0.0', '255.255.255.255', '::', '::1', '1::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '::1.2.3.4']) assert.equal(lookup(list, a), 1, a)
  assert.throws(() => compileList(['10.0.0.0/33']), /not a CIDR range/)
  assert.throws(() => compileList(['nope']), /not a CIDR range/)
})
