// Reads a client address (`203.0.113.7`, `2001:db8::1`, `::ffff:203.0.113.7`) into 32-bit words without
// allocating, and matches it against precompiled CIDR lists: the runtime half of `ip allow|deny`.
// An IPv4-mapped IPv6 address (how Node reports an IPv4 client on a dual-stack socket) is read as the IPv4
// address. Anything else that is not a plain address (a port, brackets, leading zeros, an empty string) is
// unreadable, and the stage refuses it: the address comes from the socket or a trusted proxy's X-Forwarded-For.

/** The words of the last address read: W[0] for IPv4, W[0..3] for IPv6 (most significant first). */
const W = new Int32Array(4)
/** Scratch for the eight 16-bit groups of an IPv6 address. */
const G = new Int32Array(8)

/** An IPv4 dotted quad in s[from, to) as an unsigned number, or -1. Parts 0-255, no leading zeros. */
function v4(s: string, from: number, to: number): number {
  let v = 0, part = 0, digits = 0, dots = 0
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return -1
      v = v * 256 + part
      part = 0; digits = 0; dots++
      continue
    }
    if (c < 48 || c > 57) return -1
    if (digits > 0 && part === 0) return -1 // `01`: some parsers read octal
    part = part * 10 + (c - 48)
    if (++digits > 3 || part > 255) return -1
  }
  if (digits === 0 || dots !== 3) return -1
  return v * 256 + part
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/** An IPv6 address in s[0, end) into G; false when it is not one. */
function v6(s: string, end: number): boolean {
  let i = 0, n = 0, gap = -1
  if (s.charCodeAt(0) === 58 /* : */) {
    if (end < 2 || s.charCodeAt(1) !== 58) return false
    gap = 0; i = 2
  }
  while (i < end) {
    let j = i, v = 0
    for (; j < end; j++) {
      const h = hex(s.charCodeAt(j))
      if (h < 0) break
      v = v * 16 + h
      if (j - i === 4) return false
    }
    if (j < end && s.charCodeAt(j) === 46) { // a dotted-quad tail: the last two groups
      if (n > 6) return false
      const x = v4(s, i, end)
      if (x < 0) return false
      G[n++] = (x / 65536) | 0
      G[n++] = x & 0xffff
      break
    }
    if (j === i || n === 8) return false
    G[n++] = v
    if (j === end) break
    if (s.charCodeAt(j) !== 58) return false
    j++
    if (j < end && s.charCodeAt(j) === 58) {
      if (gap >= 0) return false
      gap = n; j++
    } else if (j === end) return false
    i = j
  }
  if (gap < 0) return n === 8
  if (n > 7) return false
  // spread: the groups after the gap move to the end, zeros fill it
  const after = n - gap
  for (let k = 0; k < after; k++) G[7 - k] = G[n - 1 - k]
  for (let k = gap; k < 8 - after; k++) G[k] = 0
  return true
}

/** Reads `s` into W: 4 (W[0]), 6 (W[0..3]) or 0 when it is not an address. */
export function readAddress(s: string): 0 | 4 | 6 { // HOT PATH
  const n = s.length
  if (n === 0 || n > 64) return 0
  if (s.indexOf(':') < 0) {
    const x = v4(s, 0, n)
    if (x < 0) return 0
    W[0] = x | 0
    return 4
  }
  const zone = s.indexOf('%') // fe80::1%eth0: a link-local peer's interface, not part of the address
  if (!v6(s, zone < 0 ? n : zone)) return 0
  if (G[0] === 0 && G[1] === 0 && G[2] === 0 && G[3] === 0 && G[4] === 0 && G[5] === 0xffff) {
    W[0] = (G[6] << 16) | G[7]
    return 4
  }
  W[0] = (G[0] << 16) | G[1]; W[1] = (G[2] << 16) | G[3]; W[2] = (G[4] << 16) | G[5]; W[3] = (G[6] << 16) | G[7]
  return 6
}

/** A CIDR list compiled for matching: network and mask words side by side. */
export interface AddressList {
  /** [net, mask] per IPv4 entry. */
  v4: Int32Array
  /** [net0..3, mask0..3] per IPv6 entry. */
  v6: Int32Array
}

const maskWord = (prefix: number, word: number): number => {
  const bits = Math.min(32, Math.max(0, prefix - 32 * word))
  return bits === 0 ? 0 : (~0 << (32 - bits)) | 0
}

/** Compiles canonical CIDR texts (the compiler's); throws on one that does not read (the bundle is refused). */
export function compileList(entries: readonly string[]): AddressList {
  const v4s: number[] = [], v6s: number[] = []
  for (const e of entries) {
    const slash = e.indexOf('/')
    const addr = slash < 0 ? e : e.slice(0, slash)
    const f = readAddress(addr)
    const prefix = slash < 0 ? (f === 4 ? 32 : 128) : Number(e.slice(slash + 1))
    if (f === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (f === 4 && !addr.includes(':') ? 32 : 128)) throw new Error(`ip: ${JSON.stringify(e)} is not a CIDR range`)
    if (f === 4) {
      // `::ffff:a.b.c.d/n` (n ≥ 96) read as a.b.c.d/(n - 96), as the compiler writes it
      const p = addr.includes(':') ? prefix - 96 : prefix
      if (p < 0) throw new Error(`ip: ${JSON.stringify(e)} is not a CIDR range`)
      const m = maskWord(p, 0)
      v4s.push(W[0] & m, m)
    } else {
      const ms = [0, 1, 2, 3].map(i => maskWord(prefix, i))
      v6s.push(...ms.map((m, i) => W[i] & m), ...ms)
    }
  }
  return { v4: Int32Array.from(v4s), v6: Int32Array.from(v6s) }
}

/** 1 when `addr` is in the list, 0 when not, -1 when it is not an address. */
export function lookup(list: AddressList, addr: string): -1 | 0 | 1 { // HOT PATH
  const f = readAddress(addr)
  if (f === 4) {
    const t = list.v4, a = W[0]
    for (let i = 0; i < t.length; i += 2) if ((a & t[i + 1]) === t[i]) return 1
    return 0
  }
  if (f === 6) {
    const t = list.v6, a0 = W[0], a1 = W[1], a2 = W[2], a3 = W[3]
    for (let i = 0; i < t.length; i += 8) {
      if ((a0 & t[i + 4]) === t[i] && (a1 & t[i + 5]) === t[i + 1] && (a2 & t[i + 6]) === t[i + 2] && (a3 & t[i + 7]) === t[i + 3]) return 1
    }
    return 0
  }
  return -1
}
