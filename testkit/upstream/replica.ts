// One stub replica: an HTTP listener with its own name, counters, PRNG stream and rules. Owns the request
// dispatch (control plane, built-in endpoints, rule-driven responses) and the connection/response accounting.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { handleControl, type ReplicaSelector } from './control.js'
import { countRequest, createCounters, type Counters } from './counters.js'
import { builtin, handleEcho, handleHang, handleUpload, sendJson, type Handler } from './endpoints.js'
import { BadRequest, intParam, MAX_BYTES, MAX_DELAY_MS } from './params.js'
import { createRng, type Rng } from './prng.js'
import { compileRule, compileRules, parseMode, parseRules, type CompiledRule, type Mode, type RuleSpec, type RuleTable } from './rules.js'
import { handleChunked, handleSse, sendPattern } from './streams.js'

export interface ReplicaConfig {
  name: string
  group: string
  host: string
  port: number
  seed: number | string
  rules: readonly RuleSpec[]
  keepAliveTimeoutMs: number
  /** Resolves `?target=` on control requests to replicas of the same process. */
  select: ReplicaSelector
}

export interface Replica {
  readonly name: string
  readonly group: string
  readonly counters: Counters
  readonly rng: Rng
  healthy: boolean
  /** The rules as given (validated), and their compiled table. Written only by setRules. */
  ruleSpecs: readonly RuleSpec[]
  table: RuleTable
  readonly host: string
  /** The bound port and base URL; written by listen(). */
  port: number
  url: string
  /** Validate and swap the rules; in-flight requests keep the rule they matched. Throws on bad specs. */
  setRules(specs: unknown): void
  /** Destroy `res`'s connection without answering (an RST where supported), counted as a reset, not an abort. */
  resetConnection(res: ServerResponse): void
  listen(): Promise<void>
  /** Stop listening and destroy every open connection (hung and streaming responses included). */
  close(): Promise<void>
}

/** Rule modes other than `json` reuse the built-in endpoints; `bytes` takes its size and status from the rule. */
const MODE_HANDLERS: Record<Exclude<Mode, 'json' | 'bytes'>, Handler> = {
  echo: handleEcho, upload: handleUpload, chunked: handleChunked, sse: handleSse, hang: handleHang,
  reset: (rep, _req, res) => rep.resetConnection(res),
}

export function createReplica(cfg: ReplicaConfig): Replica {
  const counters = createCounters()
  const rng = createRng(cfg.seed, cfg.name)
  const server: Server = createServer({ noDelay: true })
  // Longer than any sane client pool idle time, so the stub is not the side that races a reused connection closed.
  server.keepAliveTimeout = cfg.keepAliveTimeoutMs
  server.headersTimeout = cfg.keepAliveTimeoutMs + 1000

  function onResClose(this: ServerResponse): void {
    counters.inFlight--
    if (this.headersSent) counters.statuses[this.statusCode]++
    if (!this.writableFinished) counters.aborted++
  }
  const onSocketClose = (): void => { counters.connectionsOpen-- }
  server.on('connection', (socket: Socket) => {
    counters.connectionsOpened++
    counters.connectionsOpen++
    socket.once('close', onSocketClose)
  })

  const rep: Replica = {
    name: cfg.name, group: cfg.group, counters, rng, healthy: true,
    ruleSpecs: [], table: compileRules([], cfg.name),
    host: cfg.host, port: cfg.port, url: '',
    setRules(specs) {
      const parsed = parseRules(specs)
      const table = compileRules(parsed, cfg.name) // before either assignment: a bad spec changes nothing
      rep.ruleSpecs = parsed
      rep.table = table
    },
    resetConnection(res) {
      res.off('close', onResClose)
      counters.inFlight--
      counters.resets++
      const socket = res.socket as Socket | null
      if (socket === null) return
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy()
      else socket.destroy()
    },
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(cfg.port, cfg.host, () => {
        server.off('error', reject)
        const addr = server.address()
        const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port
        const h = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host
        rep.port = port
        rep.url = `http://${h}:${port}`
        resolve()
      })
    }),
    close: () => new Promise((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
  rep.setRules(cfg.rules)

  server.on('request', (req: IncomingMessage, res: ServerResponse) => { // HOT PATH
    const url = req.url as string
    const qi = url.indexOf('?')
    const path = qi === -1 ? url : url.slice(0, qi)
    if (path.startsWith('/__stub/')) {
      res.setHeader('x-stub-replica', rep.name)
      return handleControl(rep, cfg.select, req, res, path, qi === -1 ? undefined : new URLSearchParams(url.slice(qi + 1)))
    }
    countRequest(counters, path)
    res.on('close', onResClose)
    const handler = builtin(path)
    if (handler !== undefined) {
      res.setHeader('x-stub-replica', rep.name)
      try { handler(rep, req, res, path, qi === -1 ? undefined : new URLSearchParams(url.slice(qi + 1))) }
      catch (e) { badRequest(res, e) }
      return
    }
    ruled(rep, req, res, path, qi === -1 ? undefined : url.slice(qi + 1))
  })
  return rep
}

/**
 * A rule-driven request. Draws exactly three uniforms on arrival whatever the rule (two for latency, one for
 * the error decision), so the k-th request on a replica always uses the same stream positions: a rules change
 * mid-run, or a different distribution, does not shift the draws of later requests. HOT PATH.
 */
function ruled(rep: Replica, req: IncomingMessage, res: ServerResponse, path: string, qs: string | undefined): void {
  const next = rep.rng.next
  const u1 = next(), u2 = next(), u3 = next()
  let rule = rep.table.match(path)
  if (qs !== undefined) {
    try { rule = withOverrides(rule, new URLSearchParams(qs), rep.name) }
    catch (e) { res.setHeader('x-stub-replica', rep.name); badRequest(res, e); return }
  }
  const draw = rule.sample(u1, u2)
  const fail = u3 < rule.errorRate
  // Whole ms: the timer wheel has 1 ms resolution, and distinct fractional durations would each get a timer list.
  const ms = Math.round(draw)
  if (ms <= 0) respond(rep, req, res, rule, fail, draw)
  else setTimeout(respond, ms, rep, req, res, rule, fail, draw).unref()
}

function respond(rep: Replica, req: IncomingMessage, res: ServerResponse, rule: CompiledRule, fail: boolean, draw: number): void {
  if (res.destroyed) return // the client left during the latency; 'close' has already counted it
  if (fail) {
    if (rule.errorAction === 'status') {
      res.writeHead(rule.errorStatus, rule.trace ? traced(rule.errorHeaders, draw) : rule.errorHeaders)
      res.end(rule.errorBody)
    } else if (rule.errorAction === 'reset') rep.resetConnection(res)
    return // 'hang': never answer
  }
  if (rule.mode === 'json') {
    res.writeHead(rule.status, rule.trace ? traced(rule.headers, draw) : rule.headers)
    res.end(rule.body)
    return
  }
  res.setHeader('x-stub-replica', rep.name)
  for (let i = 0; i < rule.extraHeaders.length; i += 2) res.setHeader(rule.extraHeaders[i], rule.extraHeaders[i + 1])
  if (rule.trace) res.setHeader('x-stub-latency-ms', draw.toFixed(3))
  if (rule.mode === 'bytes') { sendPattern(res, rule.status, rule.size ?? 1024); return }
  const url = req.url as string, qi = url.indexOf('?')
  try { MODE_HANDLERS[rule.mode](rep, req, res, url, qi === -1 ? undefined : new URLSearchParams(url.slice(qi + 1))) }
  catch (e) { badRequest(res, e) }
}

const traced = (headers: string[], draw: number): string[] => [...headers, 'x-stub-latency-ms', draw.toFixed(3)]

/**
 * Query overrides on rule-driven paths (tests): `latency=MS` (fixed), `status=CODE` (always this status, no
 * injected errors), `size=BYTES`, `mode=NAME`. Other query keys are ignored. Compiles a one-off rule, so these
 * requests allocate; requests without the keys reuse the matched rule as is.
 */
export function withOverrides(rule: CompiledRule, q: URLSearchParams, replica: string): CompiledRule {
  const latency = q.get('latency'), status = q.get('status'), size = q.get('size'), mode = q.get('mode')
  if (latency === null && status === null && size === null && mode === null) return rule
  const spec: RuleSpec = { ...rule.spec }
  if (latency !== null) spec.latency = intParam(q, 'latency', 0, 0, MAX_DELAY_MS)
  if (status !== null) { spec.status = intParam(q, 'status', 200, 200, 599); delete spec.error }
  if (size !== null) spec.size = intParam(q, 'size', 0, 0, MAX_BYTES)
  if (mode !== null) {
    try { spec.mode = parseMode(mode, 'mode') } catch (e) { throw new BadRequest((e as Error).message) }
  }
  return compileRule(spec, replica)
}

function badRequest(res: ServerResponse, e: unknown): void {
  if (!(e instanceof BadRequest)) throw e
  if (res.headersSent) { res.destroy(); return }
  sendJson(res, 400, { error: 'bad_request', message: e.message })
}
