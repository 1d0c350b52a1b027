// Issue 14 (mutation target, area policies): policies/ip/cidr.ts, the compile half's reading of `ip allow|deny`
// entries, at the edges its first mutation run left open: IPv6 text with an embedded IPv4 tail (mapped with a
// three-digit part, IPv4-compatible `::a.b.c.d`, the NAT64 prefix `64:ff9b::/96` where groups precede the `::`),
// and the canonical RFC 5952 text of ranges whose zero run is leading, in the middle, or followed by a lone zero
// group; and the hint for an entry that starts with its `/`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readCidr } from '../../policies/ip/cidr.js'

const text = (raw: string): string => {
  const r = readCidr(raw)
  if (!r.ok) assert.fail(`${raw}: ${r.message}`)
  return `IPv${r.cidr.family} ${r.cidr.text}`
}

test('an IPv6 entry with an embedded IPv4 tail reads as the address it writes', () => {
  assert.equal(text('::ffff:10.0.100.0/120'), 'IPv4 10.0.100.0/24', 'a mapped range whose third part has three digits')
  assert.equal(text('::ffff:192.168.100.7'), 'IPv4 192.168.100.7/32')
  assert.equal(text('::1.2.3.4'), 'IPv6 ::102:304/128', 'IPv4-compatible: only `::` before the tail')
  assert.equal(text('64:ff9b::192.0.2.0/120'), 'IPv6 64:ff9b::c000:200/120', 'groups before the `::` and a tail after it')
  assert.equal(text('64:ff9b:0:0:0:0:192.0.2.33'), 'IPv6 64:ff9b::c000:221/128')
})

test('canonical IPv6 text: the longest zero run as `::`, wherever it is; a lone zero group is written out', () => {
  assert.equal(text('::1'), 'IPv6 ::1/128')
  assert.equal(text('::/0'), 'IPv6 ::/0')
  assert.equal(text('0:0:0:0:0:0:0:2'), 'IPv6 ::2/128')
  assert.equal(text('2001:db8:0:1::1'), 'IPv6 2001:db8:0:1::1/128', 'a lone zero group before the run')
  assert.equal(text('2001:db8::1:0'), 'IPv6 2001:db8::1:0/128', 'a lone zero group after the run')
  assert.equal(text('2001:db8:0:0:1:0:0:0/128'), 'IPv6 2001:db8:0:0:1::/128', 'the longer run wins')
  assert.equal(text('2001:0:0:1:0:0:0:1'), 'IPv6 2001:0:0:1::1/128')
})

test('an entry that starts with its `/` is not an address, with the general hint', () => {
  for (const raw of ['/.01', '/8', '/010']) {
    const r = readCidr(raw)
    assert.ok(!r.ok)
    assert.equal(r.code, 'E0510', raw)
    assert.equal(r.hint, 'write an IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `2001:db8::/32`', raw)
  }
})
