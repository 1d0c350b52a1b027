// The control plane under /__stub/: stats, reset, health and rules over HTTP, for experiments that drive a stub
// running in another process. Control requests are not counted, so reading stats does not move them.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { snapshot, resetCounters } from './counters.js'
import { sendJson } from './endpoints.js'
import { boolParam } from './params.js'
import type { Replica } from './replica.js'

/** Replicas named by a selector: undefined = all, else a replica name or a group name. Throws if none match. */
export type ReplicaSelector = (selector: string | undefined) => Replica[]

/** Largest rules body accepted: rules are a few lines each. */
const MAX_RULES_BODY = 1 << 20

/**
 * `?target=` picks what a control request acts on: absent = the replica that received it, `*` = every replica
 * in this process, otherwise a replica or group name (`payments` = payments-1, payments-2, …).
 */
export function handleControl(self: Replica, select: ReplicaSelector, req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams | undefined): void {
  let targets: Replica[]
  try {
    const t = q?.get('target') ?? null
    targets = t === null || t === '' ? [self] : select(t === '*' ? undefined : t)
  } catch (e) { return sendJson(res, 404, { error: 'unknown_target', message: (e as Error).message }) }
  const names = targets.map((r) => r.name)
  const method = req.method
  try {
    switch (path) {
      case '/__stub/stats':
        if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET')
        return sendJson(res, 200, snapshot(targets))
      case '/__stub/reset':
        if (method !== 'POST') return notAllowed(res, 'POST')
        for (const r of targets) { resetCounters(r.counters); r.rng.reset() }
        return sendJson(res, 200, { ok: true, replicas: names })
      case '/__stub/health': {
        if (method !== 'POST') return notAllowed(res, 'POST')
        const ok = boolParam(q, 'ok', true)
        for (const r of targets) r.healthy = ok
        return sendJson(res, 200, { ok: true, healthy: ok, replicas: names })
      }
      case '/__stub/rules':
        if (method === 'GET' || method === 'HEAD') return sendJson(res, 200, Object.fromEntries(targets.map((r) => [r.name, r.ruleSpecs])))
        if (method !== 'POST') return notAllowed(res, 'GET, POST')
        return readJson(req, res, (body) => {
          // Validate once against the first target before touching any, so a bad body changes nothing anywhere.
          targets[0].setRules(body)
          for (const r of targets.slice(1)) r.setRules(body)
          sendJson(res, 200, { ok: true, replicas: names })
        })
      default:
        return sendJson(res, 404, { error: 'unknown_control_path', path })
    }
  } catch (e) { sendJson(res, 400, { error: 'bad_request', message: (e as Error).message }) }
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  sendJson(res, 405, { error: 'method_not_allowed' })
}

function readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
  const chunks: Buffer[] = []
  let size = 0
  req.on('data', (c: Buffer) => {
    size += c.length
    if (size <= MAX_RULES_BODY) chunks.push(c)
  })
  req.on('error', () => {})
  req.on('end', () => {
    if (size > MAX_RULES_BODY) return sendJson(res, 413, { error: 'too_large', max: MAX_RULES_BODY })
    let body: unknown
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) }
    catch (e) { return sendJson(res, 400, { error: 'bad_json', message: (e as Error).message }) }
    try { then(body) } catch (e) { sendJson(res, 400, { error: 'bad_rules', message: (e as Error).message }) }
  })
}
