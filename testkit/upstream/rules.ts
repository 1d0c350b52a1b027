// Per-path behaviour rules: the spec format (YAML/JSON or API), its validation, and the compiled table a replica
// matches requests against. Everything a response needs (sampler, headers, body bytes) is built here, once.
import { createLatencySampler, parseLatency, type LatencySampler, type LatencySpec } from './latency.js'

/** What a rule-driven request answers with after its latency: see README.md for each. */
export const MODES = ['json', 'bytes', 'echo', 'upload', 'chunked', 'sse', 'hang', 'reset'] as const
export type Mode = (typeof MODES)[number]

/** What an injected failure does: answer `status`, reset the connection, or never answer. */
export type ErrorAction = 'status' | 'reset' | 'hang'

/** One rule as written in a config file or passed to `setRules`. Only `path` is required. */
export interface RuleSpec {
  /** Path prefix, matched on segment boundaries (`/v1/pay` does not match `/v1/payments`); `/` matches all. */
  path: string
  /** Number = fixed ms, or a distribution. Default 0. */
  latency?: number | LatencySpec
  /** Injected failures: `rate` in [0, 1] or "30%"; `status` default 503; `action` default `status`. */
  error?: { rate: number | string; status?: number; action?: ErrorAction }
  /** Success status, default 200. */
  status?: number
  /** Response body bytes (json: padded JSON of exactly this size; bytes: pattern bytes). Default: small JSON. */
  size?: number
  mode?: Mode
  /** Extra response headers. */
  headers?: Record<string, string>
  /** Add `x-stub-latency-ms` (the drawn latency) to responses: for tests; costs a header array per request. */
  trace?: boolean
}

/** A rule ready for the request path. Treat as immutable: a rules change compiles a new table. */
export interface CompiledRule {
  readonly spec: RuleSpec
  readonly prefix: string
  readonly sample: LatencySampler
  readonly errorRate: number
  readonly errorAction: ErrorAction
  readonly errorStatus: number
  /** Flat [name, value, ...] lists for `res.writeHead`, built for this replica. */
  readonly errorHeaders: string[]
  readonly errorBody: Buffer
  readonly status: number
  readonly mode: Mode
  readonly size: number | undefined
  readonly headers: string[]
  readonly extraHeaders: string[]
  readonly body: Buffer
  readonly trace: boolean
}

export interface RuleTable {
  readonly rules: readonly CompiledRule[]
  /** Longest matching prefix; the `/` rule (built in when absent) catches the rest. HOT PATH. */
  match(path: string): CompiledRule
}

/** Validate untrusted input (file, POST body) into rule specs. Throws an Error naming the bad field. */
export function parseRules(input: unknown, where = 'rules'): RuleSpec[] {
  if (input !== null && typeof input === 'object' && !Array.isArray(input) && 'rules' in input) {
    return parseRules((input as { rules: unknown }).rules, where)
  }
  if (!Array.isArray(input)) throw new Error(`${where}: expected a list of rules`)
  const seen = new Set<string>()
  return input.map((r, i) => {
    const spec = parseRule(r, `${where}[${i}]`)
    if (seen.has(spec.path)) throw new Error(`${where}[${i}].path: duplicate rule for ${JSON.stringify(spec.path)}`)
    seen.add(spec.path)
    return spec
  })
}

function parseRule(v: unknown, where: string): RuleSpec {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected an object`)
  const o = v as Record<string, unknown>
  const known = new Set(['path', 'latency', 'error', 'status', 'size', 'mode', 'headers', 'trace'])
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`${where}: unknown field ${JSON.stringify(k)}`)
  if (typeof o.path !== 'string' || !o.path.startsWith('/')) throw new Error(`${where}.path: expected a path starting with /`)
  const spec: RuleSpec = { path: o.path }
  if (o.latency !== undefined) spec.latency = parseLatency(o.latency, `${where}.latency`)
  if (o.error !== undefined) spec.error = parseError(o.error, `${where}.error`)
  if (o.status !== undefined) spec.status = parseStatus(o.status, `${where}.status`)
  if (o.size !== undefined) spec.size = parseSize(o.size, `${where}.size`)
  if (o.mode !== undefined) spec.mode = parseMode(o.mode, `${where}.mode`)
  if (o.headers !== undefined) {
    if (o.headers === null || typeof o.headers !== 'object' || Array.isArray(o.headers)) throw new Error(`${where}.headers: expected an object`)
    const h: Record<string, string> = {}
    for (const [k, val] of Object.entries(o.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new Error(`${where}.headers: bad header name ${JSON.stringify(k)}`)
      if (typeof val !== 'string' && typeof val !== 'number') throw new Error(`${where}.headers.${k}: expected a string`)
      h[k] = String(val)
    }
    spec.headers = h
  }
  if (o.trace !== undefined) {
    if (typeof o.trace !== 'boolean') throw new Error(`${where}.trace: expected true or false`)
    spec.trace = o.trace
  }
  return spec
}

function parseError(v: unknown, where: string): NonNullable<RuleSpec['error']> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: expected {rate, status?, action?}`)
  const o = v as Record<string, unknown>
  const out: NonNullable<RuleSpec['error']> = { rate: parseRate(o.rate, `${where}.rate`) }
  if (o.status !== undefined) out.status = parseStatus(o.status, `${where}.status`)
  if (o.action !== undefined) {
    if (o.action !== 'status' && o.action !== 'reset' && o.action !== 'hang') throw new Error(`${where}.action: expected status, reset or hang`)
    out.action = o.action
  }
  return out
}

/** 0.3, "0.3" and "30%" all mean 30%. */
export function parseRate(v: unknown, where: string): number {
  let n = NaN
  if (typeof v === 'number') n = v
  else if (typeof v === 'string') n = v.trim().endsWith('%') ? Number(v.trim().slice(0, -1)) / 100 : Number(v)
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${where}: expected a rate in [0, 1] or a percentage, got ${JSON.stringify(v)}`)
  return n
}

export function parseStatus(v: unknown, where: string): number {
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 200 || n > 599) throw new Error(`${where}: expected a status in 200..599, got ${JSON.stringify(v)}`)
  return n
}

export function parseSize(v: unknown, where: string): number {
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1 << 30) throw new Error(`${where}: expected a byte count, got ${JSON.stringify(v)}`)
  return n
}

export function parseMode(v: unknown, where: string): Mode {
  if (typeof v !== 'string' || !(MODES as readonly string[]).includes(v)) throw new Error(`${where}: expected one of ${MODES.join(', ')}`)
  return v as Mode
}

/** The rule `/` gets when no rule names it: answer at once, 200, small JSON. */
export const DEFAULT_RULE: RuleSpec = { path: '/' }

/** Compile specs for one replica (bodies and headers name it). Call at config time only. */
export function compileRules(specs: readonly RuleSpec[], replica: string): RuleTable {
  const list = specs.some((s) => s.path === '/') ? [...specs] : [...specs, DEFAULT_RULE]
  const rules = list.map((s) => compileRule(s, replica)).sort((x, y) => y.prefix.length - x.prefix.length)
  const n = rules.length
  return {
    rules,
    match(path) { // HOT PATH: tens of rules at most, a scan beats building a trie
      for (let i = 0; i < n; i++) {
        const p = rules[i].prefix
        if (path.startsWith(p) && (path.length === p.length || p.endsWith('/') || path.charCodeAt(p.length) === 47)) return rules[i]
      }
      return rules[n - 1] // unreachable: `/` matches every path, and it sorts last
    },
  }
}

export function compileRule(spec: RuleSpec, replica: string): CompiledRule {
  const status = spec.status ?? 200
  const errorStatus = spec.error?.status ?? 503
  const extraHeaders = Object.entries(spec.headers ?? {}).flat()
  const body = jsonBody(spec.size, { replica, rule: spec.path, status })
  const errorBody = Buffer.from(JSON.stringify({ error: 'injected', status: errorStatus, replica }))
  const latency: LatencySpec = typeof spec.latency === 'number' ? { dist: 'fixed', ms: spec.latency } : spec.latency ?? { dist: 'fixed', ms: 0 }
  return {
    spec,
    prefix: spec.path,
    sample: createLatencySampler(latency),
    errorRate: spec.error !== undefined ? parseRate(spec.error.rate, 'error.rate') : 0,
    errorAction: spec.error?.action ?? 'status',
    errorStatus,
    errorHeaders: ['content-type', 'application/json', 'content-length', String(errorBody.length), 'x-stub-replica', replica, ...extraHeaders],
    errorBody,
    status,
    mode: spec.mode ?? 'json',
    size: spec.size,
    headers: ['content-type', 'application/json', 'content-length', String(body.length), 'x-stub-replica', replica, ...extraHeaders],
    extraHeaders,
    body,
    trace: spec.trace ?? false,
  }
}

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789'

/**
 * A JSON body of exactly `size` bytes (default: just the fields), padded with a fixed cycle of characters so
 * the same config always sends the same bytes. Sizes too small for the fields degrade to `{"pad":…}`, `{}`
 * plus spaces, `0`, and finally the empty body.
 */
export function jsonBody(size: number | undefined, fields: Record<string, string | number>): Buffer {
  const base = JSON.stringify(fields)
  if (size === undefined) return Buffer.from(base)
  const withPad = (prefix: string): string | undefined => {
    const free = size - Buffer.byteLength(prefix) - '"pad":""}'.length
    if (free < 0) return undefined
    let pad = ''
    while (pad.length < free) pad += PAD
    return `${prefix}"pad":"${pad.slice(0, free)}"}`
  }
  const text = withPad(base.slice(0, -1) + ',') ?? withPad('{') ??
    (size >= 2 ? '{}' + ' '.repeat(size - 2) : size === 1 ? '0' : '')
  return Buffer.from(text)
}
