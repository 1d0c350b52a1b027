// lab/harness/topology.ts: the benchmark topology (examples/bench.gwp + its sidecar) moved onto free ports, so
// a run never collides with whatever else listens on 9100/9201–9236 on a shared machine, and tiny policy files
// for single-upstream rigs (the early-answer check, the connection-reuse experiment).
import { readFileSync } from 'node:fs'
import { readSidecar, type Sidecar } from '../../testkit/topology/sidecar.js'
import type { StubConfig } from '../../testkit/upstream/stub.js'
import { repoFile } from './paths.js'

export interface Topology {
  sidecar: Sidecar
  /** The policy text as committed (fixed ports). */
  gwp: string
  policyPath: string
}

/** Reads examples/bench.topology.json and the policy file it names. */
export function loadTopology(sidecarPath = repoFile('examples/bench.topology.json')): Topology {
  const sidecar = readSidecar(sidecarPath)
  const policyPath = repoFile(sidecar.policy)
  return { sidecar, gwp: readFileSync(policyPath, 'utf8'), policyPath }
}

/** The sidecar's stub config with every port set to 0 (free ports), rules and seed kept. */
export function freePortStubConfig(sidecar: Sidecar): StubConfig {
  const stub = sidecar.stub
  return { ...stub, services: (stub.services ?? []).map((s) => ({ ...s, ports: s.ports.map(() => 0) })) }
}

/** Parses the stub's `listening <replica> <url>` lines into replica name → port. */
export function parseListening(lines: string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const l of lines) {
    const m = /^listening (\S+) http:\/\/[^\s]+:(\d+)\/?$/.exec(l.trim())
    if (m !== null) out.set(m[1], Number(m[2]))
  }
  return out
}

/**
 * Old port → new port: replica i (1-based) of upstream u is the stub's `${u}-${i}` (testkit/upstream's naming of a
 * service's replicas), which listened on sidecar.upstreams[u].ports[i-1] in the committed files. Throws when a
 * replica is missing.
 */
export function portMap(sidecar: Sidecar, listening: Map<string, number>, idp?: { from: number; to: number }): Map<number, number> {
  const map = new Map<number, number>()
  for (const [name, u] of Object.entries(sidecar.upstreams)) {
    u.ports.forEach((old, i) => {
      const now = listening.get(`${name}-${i + 1}`)
      if (now === undefined) throw new Error(`topology: the stub did not report replica ${name}-${i + 1}`)
      map.set(old, now)
    })
  }
  if (idp !== undefined) map.set(idp.from, idp.to)
  return map
}

/**
 * Rewrites every `127.0.0.1:PORT` of the policy text whose port is in the map (replica addresses, the JWKS URL).
 * The issuer is a claim, not an address: it stays as committed (the IdP is started with that issuer), and a
 * port not in the map is left alone. One pass, whole port numbers only, so 9201 never rewrites part of 92010.
 */
export function remapPorts(text: string, map: Map<number, number>, host = '127.0.0.1'): string {
  const esc = host.replace(/[.]/g, '\\.')
  return text.replace(new RegExp(`(${esc}):(\\d{1,5})(?!\\d)`, 'g'), (all, h: string, p: string) => {
    const to = map.get(Number(p))
    return to === undefined ? all : `${h}:${to}`
  })
}

/** Keeps the issuer string (`http://127.0.0.1:9100/`) while the JWKS URL moves: only the `jwks "…"` line is remapped. */
export function remapTopologyGwp(gwp: string, map: Map<number, number>, issuer: string): string {
  const out = remapPorts(gwp, map)
  // remapPorts touched the issuer line too when the IdP port is in the map: put the committed issuer back.
  return out.replace(/^(\s*issuer\s+)"[^"]*"/m, (_all, lead: string) => `${lead}${JSON.stringify(issuer)}`)
}

export interface TinyGwpOptions {
  /** Replica addresses, host:port. */
  replicas: string[]
  connections?: number
  idle?: string
  timeout?: string
  /** Path prefix the single route matches (default "/"). */
  prefix?: string
}

/** One upstream, one catch-all route, no stages: the smallest policy that proxies, for single-concern rigs. */
export function tinyGwp(o: TinyGwpOptions): string {
  return `# written by lab/harness/topology.ts for a single-upstream benchmark rig
upstream up {
  replicas ${o.replicas.join(' ')}
  balance round_robin
  pool connections ${o.connections ?? 64} idle ${o.idle ?? '30s'}
}

route all {
  match path prefix ${JSON.stringify(o.prefix ?? '/')}
  timeout ${o.timeout ?? '10s'}
  proxy up
}
`
}
