// The compile half's reading of an `ip allow|deny` entry: an address or a CIDR range, IPv4 or IPv6, as a
// network number (BigInt; compile time only) and a prefix length, plus its canonical text. An IPv4-mapped IPv6
// range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps (`10.0.0.0/8`): the runtime matches v4 clients that
// Node reports as `::ffff:a.b.c.d` as IPv4 (policies/ip/address.ts).
import { isIPv4, isIPv6 } from 'node:net'

export interface Cidr {
  family: 4 | 6
  /** The network number (host bits cleared). */
  net: bigint
  prefix: number
  /** `10.0.0.0/8`, `2001:db8::/32`: what the IR holds and messages show. */
  text: string
}

export type CidrReading =
  | { ok: true; cidr: Cidr; hostBits: boolean }
  | { ok: false; code: 'E0510' | 'E0511'; message: string; label: string; hint: string }

const width = (f: 4 | 6): number => (f === 4 ? 32 : 128)

function v4Number(s: string): bigint {
  return s.split('.').reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n)
}

function v6Number(s: string): bigint {
  let groups: number[]
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  let text = s
  let extra: number[] = []
  if (tail !== null) {
    const v = Number(v4Number(tail[1]))
    extra = [Math.floor(v / 65536), v % 65536]
    text = s.slice(0, -tail[1].length)
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1)
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined]
  const hs = head === '' ? [] : head.split(':').map(h => parseInt(h, 16))
  if (rest === undefined) groups = [...hs, ...extra]
  else {
    const ts = rest === '' ? [] : rest.split(':').map(h => parseInt(h, 16))
    groups = [...hs, ...Array(8 - hs.length - ts.length - extra.length).fill(0), ...ts, ...extra]
  }
  return groups.reduce((n, g) => (n << 16n) | BigInt(g), 0n)
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
export function v6Text(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(16 * (7 - i))) & 0xffffn))
  let best = -1, bestLen = 1
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && g[j] === 0) j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j
  }
  const hex = (xs: number[]) => xs.map(x => x.toString(16)).join(':')
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`
}

const v4Text = (n: bigint): string => [24n, 16n, 8n, 0n].map(s => String((n >> s) & 0xffn)).join('.')

export const cidrText = (family: 4 | 6, net: bigint, prefix: number): string => `${family === 4 ? v4Text(net) : v6Text(net)}/${prefix}`


/** Reads one entry as written. */
export function readCidr(raw: string): CidrReading {
  const slash = raw.indexOf('/')
  const addr = slash < 0 ? raw : raw.slice(0, slash)
  const plen = slash < 0 ? undefined : raw.slice(slash + 1)
  const family = isIPv4(addr) ? 4 : isIPv6(addr) && !addr.includes('%') ? 6 : 0
  if (family === 0) {
    const hint = /^\d+(\.\d+){0,2}$/.test(addr) ? 'write all four parts of an IPv4 address, as in `10.0.0.0/8`'
      : /(^|\.)0\d/.test(addr) ? 'IPv4 parts have no leading zeros (`010` could be read as octal): write `10.0.0.1`'
        : addr.includes('%') ? 'a zone (`%eth0`) is not part of an address range: remove it'
          : 'write an IPv4 or IPv6 address, optionally with a prefix length: `10.0.0.0/8`, `2001:db8::/32`'
    return { ok: false, code: 'E0510', message: `\`${raw}\` is not an IP address or CIDR range`, label: 'not an address', hint }
  }
  if (plen !== undefined && !/^\d{1,3}$/.test(plen)) {
    return { ok: false, code: 'E0510', message: `\`${raw}\` has no valid prefix length after \`/\``, label: 'not a prefix length', hint: `write a number of bits, as in \`${addr}/${family === 4 ? 24 : 64}\`` }
  }
  const w = width(family)
  let prefix = plen === undefined ? w : Number(plen)
  if (prefix > w) {
    return { ok: false, code: 'E0511', message: `prefix length \`/${prefix}\` is out of range for an IPv${family} address`, label: `IPv${family} prefixes are 0 to ${w}`, hint: `write at most \`/${w}\`` }
  }
  let f: 4 | 6 = family
  let n = family === 4 ? v4Number(addr) : v6Number(addr)
  // `::ffff:a.b.c.d/n` (n ≥ 96) is the IPv4 range a.b.c.d/(n - 96): that is how v4 clients are matched
  if (f === 6 && prefix >= 96 && n >> 32n === 0xffffn) { f = 4; n &= 0xffffffffn; prefix -= 96 }
  const bits = width(f)
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix)
  const net = n & mask
  return { ok: true, cidr: { family: f, net, prefix, text: cidrText(f, net, prefix) }, hostBits: net !== n }
}

/** Whether every address of `inner` is in `outer`. */
export function covers(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefix > inner.prefix) return false
  const shift = BigInt(width(outer.family) - outer.prefix)
  return outer.net >> shift === inner.net >> shift
}

/** CIDR ranges are nested or disjoint: they share an address exactly when one covers the other. */
export const overlaps = (a: Cidr, b: Cidr): boolean => covers(a, b) || covers(b, a)

/** The whole IPv4 space and the whole IPv6 space. */
export const isEverything = (c: Cidr): boolean => c.prefix === 0

