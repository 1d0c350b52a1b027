// lab/experiments/rig.ts: the few process-level actions the experiments add to lab/harness/rig.ts — gw from a
// policy text, the stub's rules switched at runtime, admin calls (reload, healthz) — and the policy snippets the
// experiments share.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { startGw, type GwProcess, type GwStartOptions } from '../harness/rig.js'
import type { Supervisor } from '../harness/supervisor.js'
import type { RuleSpec } from '../../testkit/upstream/rules.js'

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
