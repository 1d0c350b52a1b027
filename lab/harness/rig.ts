// lab/harness/rig.ts: starts each kind of process a benchmark run needs through the supervisor — the stub
// upstream (topology or plain replicas), the mock IdP with pre-signed tokens, gw (from a policy file or text), and
// the peer proxies — waits until each is ready, and hands back where it listens; and the process-level actions the
// experiments take on them: the stub's rules switched at runtime, admin calls (reload, healthz), and the policy
// snippets they share.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { parsePeerLine, peerScript, PEER_LINE_RE, type HostPort } from '../peers/common.js'
import { createTreeProbe } from '../probe/tree-reader.js'
import type { ProbeResult, TreeProbeResult } from '../probe/types.js'
import type { RuleSpec, StubConfig } from '../../testkit/upstream/stub.js'
import { GW_BIN, IDP_MAIN, STUB_MAIN } from './paths.js'
import type { Child, Supervisor } from './supervisor.js'
import { parseListening } from './topology.js'

/** Starts and stops a cost window of a proxy process (Node: the preloaded probe; nginx: its tree from /proc). */
export interface ProbeDriver {
  kind: 'node' | 'tree'
  pid: number
  /** `peakEveryMs`: also sample RSS (and, in Node, the V8 used heap) and report their peaks over the window. */
  start(opts?: { peakEveryMs?: number }): Promise<void>
  stop(): Promise<ProbeResult | TreeProbeResult>
}

export function nodeProbe(child: Child): ProbeDriver {
  const p = child.probe
  if (p === undefined) throw new Error(`${child.name} was not started with the probe`)
  return { kind: 'node', pid: child.pid, start: (o) => p.start(o?.peakEveryMs === undefined ? {} : { peakEveryMs: o.peakEveryMs }), stop: () => p.stop() }
}

export function treeProbe(pid: number): ProbeDriver {
  const t = createTreeProbe(pid)
  return { kind: 'tree', pid, start: async (o) => { t.start(o?.peakEveryMs === undefined ? {} : { peakEveryMs: Math.max(50, o.peakEveryMs) }) }, stop: async () => t.stop() }
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
  /** The engine (`GW_ENGINE` in gw's environment; config/settings.ts `engine`). Default: inherited from ours. */
  engine?: 'node' | 'http1'
}

/** `gw run FILE --listen 127.0.0.1:0 --admin 127.0.0.1:0 --log-destination /dev/null` (access log on), probed. */
export async function startGw(sup: Supervisor, policy: string, o: GwStartOptions = {}): Promise<GwProcess> {
  const prof = o.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`]
  const child = await sup.start({
    name: o.name ?? 'gw', cmd: process.execPath, role: 'proxy', probe: true, readyTimeoutMs: 30_000,
    ...(o.engine === undefined ? {} : { env: { ...process.env, GW_ENGINE: o.engine } }),
    args: [...prof, GW_BIN, 'run', policy, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--log-destination', '/dev/null',
      '--drain-timeout', '1s', ...(o.args ?? [])],
    ready: /serving bundle \S+ on http:\/\//,
  })
  const m = /on (http:\/\/\S+) \(admin (http:\/\/[^)\s]+)\)/.exec(child.readyLine)
  if (m === null) throw new Error(`gw: unexpected ready line ${JSON.stringify(child.readyLine)}`)
  return { child, url: m[1], adminUrl: m[2], probe: nodeProbe(child) }
}

export type PeerName = 'floor' | 'fastify-proxy' | 'nginx' | 'bytes'

export type PeerProcess =
  | { skipped: false; name: PeerName; child: Child; url: string; probe: ProbeDriver }
  | { skipped: true; name: PeerName; reason: string }

/**
 * Starts a peer proxy (lab/peers) in front of `upstreams` with `connections` keep-alive connections per replica.
 * floor, fastify and bytes are probed in-process; nginx (started by its Node wrapper, pinned with it) through /proc.
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

/** Writes `text` to `<dir>/<name>.gwp` and starts `gw run` on it (probed, pinned to the proxy CPU). */
export async function startGwPolicy(sup: Supervisor, dir: string, name: string, text: string, o: GwStartOptions = {}): Promise<GwProcess & { policyFile: string }> {
  const policyFile = join(dir, `${name}.gwp`)
  writeFileSync(policyFile, text)
  const gw = await startGw(sup, policyFile, { name: `gw-${name}`, ...o })
  return { ...gw, policyFile }
}

// Control calls use a dispatcher of their own, so they never queue behind the load under test.
let ctl: Agent | null = null
const control = (): Agent => (ctl ??= new Agent({ connections: 4, keepAliveTimeout: 30_000 }))

/** Closes the control connections (end of an experiment). */
export async function closeRigControl(): Promise<void> { const a = ctl; ctl = null; await a?.close() }

/** A request to a control endpoint: status and parsed JSON body (or the text when it is not JSON). */
export async function call(method: 'GET' | 'POST', url: string, body?: unknown, timeoutMs = 5000): Promise<{ status: number; body: unknown }> {
  const res = await request(url, {
    method, dispatcher: control(), headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  const text = await res.body.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.statusCode, body: parsed }
}

/** Replaces the rules of a stub replica group through any replica of its process; throws unless the stub took them. */
export async function setStubRules(replicaUrl: string, group: string, rules: RuleSpec[]): Promise<void> {
  const r = await call('POST', `${replicaUrl}/__stub/rules?target=${encodeURIComponent(group)}`, rules)
  if (r.status !== 200) throw new Error(`stub rules for ${group}: ${r.status} ${JSON.stringify(r.body)}`)
}

/** GET /healthz on gw's admin port: 200 ok, 503 starting/draining, 0 when it does not answer. */
export async function healthz(adminUrl: string): Promise<number> {
  try { return (await call('GET', `${adminUrl}/healthz`, undefined, 1000)).status } catch { return 0 }
}

/** Polls a condition every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(cond: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if (await cond()) return true
    if (Date.now() > until) return false
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/**
 * Passive health made inert (1,000 consecutive failures to eject, for 100 ms): the experiments that isolate the
 * breaker, the bulkhead or retries use it on the variants they compare, so what is measured is that mechanism
 * alone. (With an upstream failing every request, the default — 5 in a row eject a replica for 30 s — takes every
 * replica out of rotation within a few requests and fails fast by itself; at 30% failures it ejects a replica now
 * and then.)
 */
export const INERT_PASSIVE_HEALTH = 'health passive eject_after 1000 errors for 100ms'

export const replicaList = (ports: number[]): string => ports.map((p) => `127.0.0.1:${p}`).join(' ')

/** Ports of a stub group's replicas `<group>-1…<group>-n`, in order. */
export function groupPorts(ports: Map<string, number>, group: string): number[] {
  const out: number[] = []
  for (let i = 1; ports.has(`${group}-${i}`); i++) out.push(ports.get(`${group}-${i}`)!)
  if (out.length === 0) throw new Error(`stub: no replica of group ${group}`)
  return out
}
