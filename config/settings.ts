// Process settings for `gw`: listeners, trusted proxies, edge limits, logging. They come from a YAML settings
// file and/or command-line flags (flags win). Policy (routes, upstreams) lives in bundles, never here.
import { readFileSync } from 'node:fs'
import { BlockList, isIP } from 'node:net'
import { parse as parseYaml } from 'yaml'

export interface Settings {
  /** Client listener `host:port`. */
  listen: string
  /** Admin listener `host:port`; loopback by default, never internet-facing. */
  admin: string
  /** CIDRs whose X-Forwarded-* headers are trusted (then extended); from anyone else they are replaced. */
  trustedProxies: string[]
  /** Max bytes of the request line + headers; larger gets 431. */
  maxHeaderBytes: number
  /** A client must send its whole header block within this time (slowloris bound); else 408. */
  headersTimeoutMs: number
  /** A client must send the whole request (body included) within this time; else 408. 0 = no bound. */
  requestTimeoutMs: number
  /** Idle client keep-alive connections are closed after this long. */
  keepAliveTimeoutMs: number
  /** Upstream body idle timeout: no bytes from the upstream for this long aborts the response. */
  upstreamBodyIdleMs: number
  /** Add `Via: 1.1 gwp` to forwarded requests and responses (RFC 9110 §7.6.3). */
  via: boolean
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** Access log: one line per request, written off the hot path; `false` turns it off. */
  accessLog: boolean
  /** Where logs go: `stdout`, `stderr` or a file path. */
  logDestination: string
  /** Redis for `ratelimit … redis` (redis://host:port/db). Unset: bundles that need it are refused. */
  redisUrl: string | null
  /** Bound on one Redis round trip before a rate limit falls back to its fail_open/fail_closed policy. */
  redisTimeoutMs: number
  /** Worker processes (node:cluster); 1 = no cluster. */
  workers: number
  /** On SIGTERM: how long in-flight requests may take to finish before they are aborted. */
  drainTimeoutMs: number
  /** Watch the bundle/policy path and reload on change. */
  watch: boolean
  /**
   * The HTTP/1.1 engine: `http1` (gw's own, on node:net sockets on both sides, runtime/http1/) or `node`
   * (node:http to clients, undici to upstreams: kept for the transition, docs/operations.md). Default `http1`,
   * or the environment's `GW_ENGINE` when set (so a test suite can run on either).
   */
  engine: Engine
}

export type Engine = 'node' | 'http1'
const ENGINES: readonly Engine[] = ['node', 'http1']

function engine(k: string, v: unknown): Engine {
  if (typeof v !== 'string' || !(ENGINES as readonly string[]).includes(v)) throw new SettingsError(`${k}: expected one of ${ENGINES.join(', ')}, got ${JSON.stringify(v)}`)
  return v as Engine
}

export const DEFAULT_SETTINGS: Settings = {
  listen: '0.0.0.0:8080',
  admin: '127.0.0.1:9901',
  trustedProxies: [],
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 30_000,
  upstreamBodyIdleMs: 60_000,
  via: true,
  logLevel: 'info',
  accessLog: true,
  logDestination: 'stdout',
  redisUrl: null,
  redisTimeoutMs: 50,
  workers: 1,
  drainTimeoutMs: 10_000,
  watch: false,
  // GW_ENGINE=node runs a whole test suite (and gw children, which inherit it) on the old engine; an invalid
  // value is refused by loadSettings.
  engine: process.env.GW_ENGINE === 'node' ? 'node' : 'http1',
}

export class SettingsError extends Error {
  readonly code = 'GW_ERR_SETTINGS'
}

const DURATION = /^(\d+)(ms|s|m|h)$/
const MULT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const SIZE = /^(\d+)(B|KB|MB|KiB|MiB)?$/
const SMULT: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, KiB: 1024, MiB: 1024 ** 2 }

function duration(key: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v
  const m = typeof v === 'string' ? DURATION.exec(v) : null
  if (m === null) throw new SettingsError(`${key}: expected a duration like 10s or 500ms, got ${JSON.stringify(v)}`)
  return Number(m[1]) * MULT[m[2]]
}

function size(key: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v
  const m = typeof v === 'string' ? SIZE.exec(v) : null
  if (m === null) throw new SettingsError(`${key}: expected a size like 16KB, got ${JSON.stringify(v)}`)
  return Number(m[1]) * SMULT[m[2] ?? 'B']
}

function address(key: string, v: unknown): string {
  if (typeof v !== 'string' || !/^(\[[0-9a-fA-F:.]+\]|[^:]+):\d+$/.test(v)) throw new SettingsError(`${key}: expected host:port, got ${JSON.stringify(v)}`)
  const port = Number(v.slice(v.lastIndexOf(':') + 1))
  if (port > 65535) throw new SettingsError(`${key}: port ${port} out of range`)
  return v
}

/** Splits `host:port` (IPv6 in brackets). */
export function splitHostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':')
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) }
}

const KEYS: Record<string, (key: string, v: unknown) => unknown> = {
  listen: address,
  admin: address,
  trustedProxies: (k, v) => {
    const list = typeof v === 'string' ? v.split(',').map(s => s.trim()).filter(Boolean) : v
    if (!Array.isArray(list) || !list.every(x => typeof x === 'string')) throw new SettingsError(`${k}: expected a list of CIDRs`)
    list.forEach(c => parseCidr(k, c))
    return list
  },
  maxHeaderBytes: size,
  headersTimeoutMs: duration,
  requestTimeoutMs: duration,
  keepAliveTimeoutMs: duration,
  upstreamBodyIdleMs: duration,
  via: (k, v) => bool(k, v),
  logLevel: (k, v) => {
    if (typeof v !== 'string' || !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)) throw new SettingsError(`${k}: expected one of fatal, error, warn, info, debug, trace, silent`)
    return v
  },
  accessLog: (k, v) => bool(k, v),
  logDestination: (k, v) => { if (typeof v !== 'string' || v === '') throw new SettingsError(`${k}: expected stdout, stderr or a file path`); return v },
  redisUrl: (k, v) => {
    if (v === null) return null
    if (typeof v !== 'string' || !/^rediss?:\/\//.test(v)) throw new SettingsError(`${k}: expected redis://host:port`)
    return v
  },
  redisTimeoutMs: duration,
  workers: (k, v) => {
    const n = typeof v === 'string' ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 256) throw new SettingsError(`${k}: expected a whole number from 1 to 256`)
    return n
  },
  drainTimeoutMs: duration,
  watch: (k, v) => bool(k, v),
  engine,
}

function bool(k: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v
  if (v === 'true' || v === 'on') return true
  if (v === 'false' || v === 'off') return false
  throw new SettingsError(`${k}: expected true or false`)
}

function parseCidr(key: string, c: string): { addr: string; prefix: number; type: 'ipv4' | 'ipv6' } {
  const [addr, p] = c.split('/')
  const fam = isIP(addr)
  if (fam === 0) throw new SettingsError(`${key}: ${JSON.stringify(c)} is not an IP address or CIDR`)
  const max = fam === 4 ? 32 : 128
  const prefix = p === undefined ? max : Number(p)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new SettingsError(`${key}: bad prefix length in ${JSON.stringify(c)}`)
  return { addr, prefix, type: fam === 4 ? 'ipv4' : 'ipv6' }
}

/** A BlockList (Node's own CIDR matcher) of the trusted proxies, IPv4-mapped IPv6 peers included. */
export function trustedProxyList(cidrs: string[]): BlockList {
  const list = new BlockList()
  for (const c of cidrs) {
    const { addr, prefix, type } = parseCidr('trustedProxies', c)
    list.addSubnet(addr, prefix, type)
    if (type === 'ipv4') list.addSubnet(`::ffff:${addr}`, 96 + prefix, 'ipv6')
  }
  return list
}

/** Settings from an optional YAML file, then overrides (flags); unknown keys are errors. */
export function loadSettings(file: string | undefined, overrides: Record<string, unknown> = {}): Settings {
  const s: Settings = { ...DEFAULT_SETTINGS }
  const env = process.env.GW_ENGINE
  s.engine = env === undefined || env === '' ? 'http1' : engine('environment: GW_ENGINE', env)
  const apply = (src: Record<string, unknown>, where: string) => {
    for (const [k, v] of Object.entries(src)) {
      if (v === undefined) continue
      const f = KEYS[k]
      if (f === undefined) throw new SettingsError(`${where}: unknown setting ${JSON.stringify(k)} (known: ${Object.keys(KEYS).join(', ')})`)
      ;(s as unknown as Record<string, unknown>)[k] = f(`${where}: ${k}`, v)
    }
  }
  if (file !== undefined) {
    let doc: unknown
    try { doc = parseYaml(readFileSync(file, 'utf8')) } catch (e) { throw new SettingsError(`${file}: ${(e as Error).message}`) }
    if (doc !== null && doc !== undefined) {
      if (typeof doc !== 'object' || Array.isArray(doc)) throw new SettingsError(`${file}: expected a mapping of settings`)
      apply(doc as Record<string, unknown>, file)
    }
  }
  apply(overrides, 'flag')
  return s
}
