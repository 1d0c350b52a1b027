// lab/peers/common.ts: what the peer proxies share: their command line, the ready/skipped lines the harness
// waits for, the hop-by-hop header list, and the path of each peer's script.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export interface HostPort { host: string; port: number }

export interface PeerArgs {
  listen: HostPort
  upstreams: HostPort[]
  /** Keep-alive connections per upstream replica. */
  connections: number
  /** Idle keep-alive timeout towards the upstream, ms. */
  keepAliveMs: number
}

/** Upstream pool size when not given: the benchmark topology's `pool connections 128`. */
export const DEFAULT_CONNECTIONS = 128
export const DEFAULT_KEEPALIVE_MS = 30_000

export const PEER_USAGE = '--listen HOST:PORT --upstream HOST:PORT[,HOST:PORT…] [--connections N (per replica, default 128)] [--keepalive-ms MS]'

/** "127.0.0.1:8080", "[::1]:8080", ":8080" (→ 127.0.0.1), "8080" (→ 127.0.0.1). */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim()) ?? /^()()(\d+)$/.exec(text.trim())
  if (m === null) throw new Error(`bad address ${JSON.stringify(text)} (use HOST:PORT)`)
  const port = Number(m[3])
  if (port > 65535) throw new Error(`bad port in ${JSON.stringify(text)}`)
  return { host: m[1] || m[2] || '127.0.0.1', port }
}

/** host:port as it goes in a URL or a Host header (IPv6 bracketed). */
export const formatHostPort = (a: HostPort): string => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

/** Parses a peer's argv (without node and the script). Throws with the usage on bad input. */
export function parsePeerArgs(argv: string[]): PeerArgs {
  const { values } = parseArgs({
    args: argv,
    options: { listen: { type: 'string' }, upstream: { type: 'string' }, connections: { type: 'string' }, 'keepalive-ms': { type: 'string' } },
  })
  if (values.listen === undefined || values.upstream === undefined) throw new Error(`usage: ${PEER_USAGE}`)
  const connections = values.connections === undefined ? DEFAULT_CONNECTIONS : Number(values.connections)
  if (!Number.isInteger(connections) || connections < 1) throw new Error('--connections must be a positive integer')
  const keepAliveMs = values['keepalive-ms'] === undefined ? DEFAULT_KEEPALIVE_MS : Number(values['keepalive-ms'])
  return { listen: parseHostPort(values.listen), upstreams: values.upstream.split(',').map(parseHostPort), connections, keepAliveMs }
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the older Keep-Alive, Proxy-Connection, Proxy-Authenticate /
 * -Authorization and Trailer of RFC 2616 §13.5.1). A proxy removes them, and every name listed in Connection,
 * in both directions.
 */
export const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
])

/** Names a Connection header value lists, lowercased, minus the common close/keep-alive (which list no header). */
export function connectionTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  const out: string[] = []
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const t of v.split(',')) {
      const name = t.trim().toLowerCase()
      if (name !== '' && name !== 'close' && name !== 'keep-alive') out.push(name)
    }
  }
  return out
}

/** The line a peer prints once it accepts connections; `pid` is the process that does the proxying. */
export function readyLine(name: string, url: string, pid: number): string {
  return `gwp-peer ready ${name} ${url} pid=${pid}`
}

export function skippedLine(name: string, reason: string): string {
  return `gwp-peer skipped ${name}: ${reason}`
}

export type PeerLine = { kind: 'ready'; name: string; url: string; pid: number } | { kind: 'skipped'; name: string; reason: string }

/** Reads a ready or skipped line; undefined for any other line. */
export function parsePeerLine(line: string): PeerLine | undefined {
  let m = /^gwp-peer ready (\S+) (\S+) pid=(\d+)\s*$/.exec(line)
  if (m !== null) return { kind: 'ready', name: m[1], url: m[2], pid: Number(m[3]) }
  m = /^gwp-peer skipped (\S+): (.*)$/.exec(line)
  if (m !== null) return { kind: 'skipped', name: m[1], reason: m[2] }
  return undefined
}

/** Matches either line (for spawnProbed's `ready` option). */
export const PEER_LINE_RE = /^gwp-peer (ready|skipped) /

/** Absolute path of a compiled peer script: peerScript('floor') → …/dist/lab/peers/floor.js. */
export function peerScript(name: 'floor' | 'fastify-proxy' | 'nginx' | 'bytes'): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url))
}

/** True when the module with this import.meta.url is the process's entry script. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try { return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl)) } catch { return false }
}

/** Runs a peer's main: parse argv, start, print the ready line, close on SIGTERM/SIGINT. Exit 2 on bad usage. */
export async function runPeerMain(name: string, start: (a: PeerArgs) => Promise<{ url: string; pid: number; close(): Promise<void> }>): Promise<void> {
  let args: PeerArgs
  try { args = parsePeerArgs(process.argv.slice(2)) } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n`)
    process.exit(2)
  }
  const peer = await start(args)
  process.stdout.write(readyLine(name, peer.url, peer.pid) + '\n')
  const stop = (): void => { void peer.close().finally(() => process.exit(0)) }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
