// lab/harness/rig.ts: starts each kind of process a benchmark run needs through the supervisor — the stub
// upstream (topology or plain replicas), the mock IdP with pre-signed tokens, gw, and the peer proxies — waits
// until each is ready, and hands back where it listens.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parsePeerLine, peerScript, PEER_LINE_RE, type HostPort } from '../peers/common.js'
import { createTreeProbe } from '../probe/tree-reader.js'
import type { ProbeResult, TreeProbeResult } from '../probe/types.js'
import type { StubConfig } from '../../testkit/upstream/stub.js'
import { GW_BIN, IDP_MAIN, STUB_MAIN } from './paths.js'
import type { Child, Supervisor } from './supervisor.js'
import { parseListening } from './topology.js'

/** Starts and stops a cost window of a proxy process (Node: the preloaded probe; nginx: its tree from /proc). */
export interface ProbeDriver {
  kind: 'node' | 'tree'
  pid: number
  start(): Promise<void>
  stop(): Promise<ProbeResult | TreeProbeResult>
}

export function nodeProbe(child: Child): ProbeDriver {
  const p = child.probe
  if (p === undefined) throw new Error(`${child.name} was not started with the probe`)
  return { kind: 'node', pid: child.pid, start: () => p.start(), stop: () => p.stop() }
}

export function treeProbe(pid: number): ProbeDriver {
  const t = createTreeProbe(pid)
  return { kind: 'tree', pid, start: async () => { t.start() }, stop: async () => t.stop() }
}

export interface StubProcess {
  child: Child
  /** Replica name → port. */
  ports: Map<string, number>
  url(replica: string): string
  probe: ProbeDriver
}

/** Starts testkit/upstream with `config` (written to `dir`), every replica on a free port; probed. */
export async function startStubProcess(sup: Supervisor, dir: string, config: StubConfig, name = 'stub'): Promise<StubProcess> {
  const file = join(dir, `${name}.json`)
  writeFileSync(file, JSON.stringify(config))
  const replicas = (config.services ?? []).reduce((n, s) => n + s.ports.length, 0)
  // The stub prints one `listening` line per replica once all listen: wait for the last.
  let seen = 0
  const child = await sup.start({
    name, cmd: process.execPath, args: [STUB_MAIN, '--config', file], role: 'upstream', probe: true,
    ready: (l) => /^listening /.test(l) && ++seen >= replicas,
  })
  const ports = parseListening(child.output().split('\n'))
  if (ports.size < replicas) throw new Error(`${name}: ${ports.size} of ${replicas} replicas reported`)
  return { child, ports, url: (r) => `http://127.0.0.1:${ports.get(r) ?? NaN}`, probe: nodeProbe(child) }
}

export interface IdpProcess { child: Child; port: number; jwksUrl: string; tokensFile: string }

/** Starts testkit/idp on a free port with a fixed issuer string, and has it pre-sign `tokens` load tokens. */
export async function startIdpProcess(sup: Supervisor, dir: string, issuer: string, tokens: number, audience: string): Promise<IdpProcess> {
  const tokensFile = join(dir, 'tokens.json')
  const child = await sup.start({
    name: 'idp', cmd: process.execPath, role: 'upstream', ready: /^ready$/,
    args: [IDP_MAIN, '--listen', '127.0.0.1:0', '--issuer', issuer, '--tokens', String(tokens), '--out', tokensFile, '--aud', audience, '--ttl', '24h'],
  })
  const m = /^jwks\s+(http:\/\/[^\s]+:(\d+)\/\S*)$/m.exec(child.output())
  if (m === null) throw new Error(`idp: no jwks line in its output:\n${child.output()}`)
  return { child, port: Number(m[2]), jwksUrl: m[1], tokensFile }
}

export interface GwProcess { child: Child; url: string; adminUrl: string; probe: ProbeDriver }

export interface GwStartOptions {
  name?: string
  /** Extra `gw run` flags. */
  args?: string[]
  /** Write a V8 CPU profile into this directory when gw exits. */
  cpuProfDir?: string
}

/** `gw run FILE --listen 127.0.0.1:0 --admin 127.0.0.1:0 --log-destination /dev/null` (access log on), probed. */
export async function startGw(sup: Supervisor, policy: string, o: GwStartOptions = {}): Promise<GwProcess> {
  const prof = o.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`]
  const child = await sup.start({
    name: o.name ?? 'gw', cmd: process.execPath, role: 'proxy', probe: true, readyTimeoutMs: 30_000,
    args: [...prof, GW_BIN, 'run', policy, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--log-destination', '/dev/null',
      '--drain-timeout', '1s', ...(o.args ?? [])],
    ready: /serving bundle \S+ on http:\/\//,
  })
  const m = /on (http:\/\/\S+) \(admin (http:\/\/[^)\s]+)\)/.exec(child.readyLine)
  if (m === null) throw new Error(`gw: unexpected ready line ${JSON.stringify(child.readyLine)}`)
  return { child, url: m[1], adminUrl: m[2], probe: nodeProbe(child) }
}

export type PeerName = 'floor' | 'fastify-proxy' | 'nginx'

export type PeerProcess =
  | { skipped: false; name: PeerName; child: Child; url: string; probe: ProbeDriver }
  | { skipped: true; name: PeerName; reason: string }

/**
 * Starts a peer proxy (lab/peers) in front of `upstreams` with `connections` keep-alive connections per replica.
 * floor and fastify are probed in-process; nginx (started by its Node wrapper, pinned with it) through /proc.
 */
export async function startPeer(sup: Supervisor, name: PeerName, upstreams: HostPort[], connections: number): Promise<PeerProcess> {
  const isNginx = name === 'nginx'
  const child = await sup.start({
    name, cmd: process.execPath, role: 'proxy', probe: !isNginx, ready: PEER_LINE_RE,
    args: [peerScript(name), '--listen', '127.0.0.1:0', '--upstream', upstreams.map((u) => `${u.host}:${u.port}`).join(','), '--connections', String(connections)],
  })
  const line = parsePeerLine(child.readyLine)
  if (line === undefined) throw new Error(`${name}: unexpected ready line ${JSON.stringify(child.readyLine)}`)
  if (line.kind === 'skipped') { await child.stop(); return { skipped: true, name, reason: line.reason } }
  return { skipped: false, name, child, url: line.url, probe: isNginx ? treeProbe(line.pid) : nodeProbe(child) }
}
