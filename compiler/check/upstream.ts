// Checks an `upstream` block (replicas, balance, health, pool, and the breaker/bulkhead policies) and lowers
// it to UpstreamIR, filling what the block leaves out from `defaults` and then from the built-in defaults.
import { isIPv4, isIPv6 } from 'node:net'
import type * as A from '../../grammar/ast.js'
import { closest } from '../../grammar/index.js'
import { BALANCE_KINDS, type ActiveHealthIR, type BalanceKind, type PassiveHealthIR, type PoolIR, type ReplicaIR, type UpstreamIR } from '../../config/ir.js'
import { HOSTNAME } from '../../config/http.js'
import { checkBreaker } from './upstream-breaker.js'
import { checkBulkhead } from './upstream-bulkhead.js'
import { optNum, optStr, readOptions } from '../values.js'
import { givenTwice, type CheckContext } from './context.js'
import { spanOf } from './spans.js'

/** Built-in defaults (docs/language.md lists them); `defaults { … }` overrides them per program. */
export const UPSTREAM_DEFAULTS = {
  balance: 'round_robin' as BalanceKind,
  pool: { connections: 64, idleMs: 4_000, connectTimeoutMs: 2_000, sendTimeoutMs: 30_000 } satisfies PoolIR,
  active: { path: '/healthz', intervalMs: 5_000, timeoutMs: 1_000, unhealthyAfter: 3, healthyAfter: 2 } satisfies ActiveHealthIR,
  passive: { ejectAfter: 5, ejectMs: 30_000 } satisfies PassiveHealthIR,
}

/** The upstream statements a `defaults` block set, by kind. */
export type UpstreamDefaults = Map<string, A.UpstreamStmt>
export const stmtKey = (s: A.UpstreamStmt): string => (s.kind === 'health' ? `health ${s.mode}` : s.kind)

function readReplica(ctx: CheckContext, v: A.Value): ReplicaIR | undefined {
  const raw = v.kind === 'addr' || v.kind === 'qty' ? v.raw : v.value
  const bad = (why: string, hint: string) => { ctx.d.error('E0305', v.span, `\`${raw}\` is not a valid replica address: ${why}`, { label: 'expected host:port', hint }); return undefined }
  if (v.kind === 'word' || v.kind === 'qty') return bad('the port is missing', `write it as \`${raw}:8080\``)
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(raw)
  if (m === null) {
    // several colons: most likely an IPv6 address without brackets; anything else is just not host:port
    if (/^[0-9A-Fa-f:.]+$/.test(raw) && raw.split(':').length > 2) return bad('it is not host:port', 'IPv6 addresses go in brackets: `[::1]:8080`')
    if (/[\s,]/.test(raw)) return bad('it holds several addresses', 'give each replica its own address, separated by spaces: `replicas 10.0.1.10:8080 10.0.1.11:8080`')
    return bad('it is not host:port', 'write it as `host:port`, e.g. `10.0.1.10:8080`')
  }
  const hostPart = m[1], portPart = m[2]
  if (portPart === undefined || portPart === '') return bad('the port is missing', `write it as \`${hostPart}:8080\``)
  const port = Number(portPart)
  if (!(port >= 1 && port <= 65535)) return bad(`port ${portPart} is out of range`, 'ports go from 1 to 65535')
  let host = hostPart
  if (host.startsWith('[')) {
    host = host.slice(1, -1)
    if (!isIPv6(host)) return bad(`\`${host}\` is not an IPv6 address`, 'check the address')
  } else if (/^[\d.]+$/.test(host)) {
    if (!isIPv4(host)) return bad(`\`${host}\` is not an IPv4 address`, 'each of the four numbers goes from 0 to 255')
  } else if (!HOSTNAME.test(host.toLowerCase())) {
    return bad(`\`${host}\` is not a host name`, 'use a DNS name or an IP address')
  }
  return { host, port }
}

const ACTIVE_SCHEMA = {
  path: { kind: 'string' }, every: { kind: 'duration', range: { min: 100, max: 3_600_000 } }, timeout: { kind: 'duration', range: { min: 10, max: 60_000 } },
  unhealthy_after: { kind: 'count', range: { min: 1, max: 100 } }, healthy_after: { kind: 'count', range: { min: 1, max: 100 } },
} as const
const PASSIVE_SCHEMA = {
  eject_after: { kind: 'count', range: { min: 1, max: 1000 } }, errors: { kind: 'flag' }, for: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
} as const
const POOL_SCHEMA = {
  connections: { kind: 'count', range: { min: 1, max: 10_000 } }, idle: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
  connect_timeout: { kind: 'duration', range: { min: 10, max: 60_000 } },
  send_timeout: { kind: 'duration', range: { min: 100, max: 3_600_000 } },
} as const

function activeHealth(ctx: CheckContext, s: A.HealthStmt): ActiveHealthIR {
  const o = readOptions(s.options, ACTIVE_SCHEMA, '`health active`', ctx.d)
  const h: ActiveHealthIR = {
    path: optStr(o, 'path') ?? UPSTREAM_DEFAULTS.active.path,
    intervalMs: optNum(o, 'every') ?? UPSTREAM_DEFAULTS.active.intervalMs,
    timeoutMs: optNum(o, 'timeout') ?? UPSTREAM_DEFAULTS.active.timeoutMs,
    unhealthyAfter: optNum(o, 'unhealthy_after') ?? UPSTREAM_DEFAULTS.active.unhealthyAfter,
    healthyAfter: optNum(o, 'healthy_after') ?? UPSTREAM_DEFAULTS.active.healthyAfter,
  }
  const p = o.get('path')
  if (p !== undefined && !h.path.startsWith('/')) ctx.d.error('E0306', p.span, `health check path \`${h.path}\` must start with \`/\``, { label: 'not an absolute path' })
  const t = o.get('timeout')
  if (t !== undefined && h.timeoutMs > h.intervalMs) {
    ctx.d.error('E0303', t.span, `health check \`timeout\` (${t.values[0] && (t.values[0] as A.QtyV).raw}) is longer than its interval`, { label: 'longer than `every`', hint: 'a check must finish before the next one starts' })
  }
  return h
}

function passiveHealth(ctx: CheckContext, s: A.HealthStmt): PassiveHealthIR {
  const o = readOptions(s.options, PASSIVE_SCHEMA, '`health passive`', ctx.d)
  return { ejectAfter: optNum(o, 'eject_after') ?? UPSTREAM_DEFAULTS.passive.ejectAfter, ejectMs: optNum(o, 'for') ?? UPSTREAM_DEFAULTS.passive.ejectMs }
}

function pool(ctx: CheckContext, s: A.OptionsStmt): PoolIR {
  const o = readOptions(s.options, POOL_SCHEMA, '`pool`', ctx.d)
  return {
    connections: optNum(o, 'connections') ?? UPSTREAM_DEFAULTS.pool.connections,
    idleMs: optNum(o, 'idle') ?? UPSTREAM_DEFAULTS.pool.idleMs,
    connectTimeoutMs: optNum(o, 'connect_timeout') ?? UPSTREAM_DEFAULTS.pool.connectTimeoutMs,
    sendTimeoutMs: optNum(o, 'send_timeout') ?? UPSTREAM_DEFAULTS.pool.sendTimeoutMs,
  }
}

function balance(ctx: CheckContext, s: A.BalanceStmt): BalanceKind | undefined {
  const v = s.value.value
  if ((BALANCE_KINDS as readonly string[]).includes(v)) return v as BalanceKind
  const guess = closest(v, BALANCE_KINDS)
  ctx.d.error('E0206', s.value.span, `unknown balance policy \`${v}\``, {
    label: 'not a balance policy',
    hint: guess ? `did you mean \`${guess}\`?` : `choose one of ${BALANCE_KINDS.map(k => '`' + k + '`').join(', ')}`,
  })
  return undefined
}

/** Checks the statements a `defaults` block may hold for upstreams (everything but `replicas`). */
export function checkUpstreamDefaults(ctx: CheckContext, stmts: A.UpstreamStmt[], into: UpstreamDefaults): void {
  for (const s of stmts) {
    if (s.kind === 'replicas') {
      ctx.d.error('E0404', s.span, '`replicas` cannot be a default', { label: 'not allowed in `defaults`', hint: 'list replicas in each `upstream` block' })
      continue
    }
    const k = stmtKey(s)
    const first = into.get(k)
    if (first !== undefined) { givenTwice(ctx, k, s.span, first.span, '`defaults`'); continue }
    into.set(k, s)
  }
}

/** Reads every defaulted upstream statement once, so their mistakes are reported even when no upstream uses them. */
export function checkUpstreamDefaultValues(ctx: CheckContext, defaults: UpstreamDefaults): void {
  for (const s of defaults.values()) {
    if (s.kind === 'balance') balance(ctx, s)
    else if (s.kind === 'health') (s.mode === 'active' ? activeHealth : passiveHealth)(ctx, s)
    else if (s.kind === 'pool') pool(ctx, s)
    else if (s.kind === 'bulkhead') checkBulkhead(ctx, s)
    else if (s.kind === 'breaker') checkBreaker(ctx, s)
  }
}

export function checkUpstream(ctx: CheckContext, u: A.UpstreamDecl, defaults: UpstreamDefaults): UpstreamIR {
  const own = new Map<string, A.UpstreamStmt>()
  for (const s of u.body) {
    const k = stmtKey(s)
    const first = own.get(k)
    if (first !== undefined) { givenTwice(ctx, k, s.span, first.span, `upstream \`${u.name.value}\``); continue }
    own.set(k, s)
  }
  const pick = (k: string) => own.get(k) ?? defaults.get(k)

  const replicas: ReplicaIR[] = []
  const rs = own.get('replicas') as A.ReplicasStmt | undefined
  if (rs === undefined || rs.addrs.length === 0) {
    ctx.d.error('E0405', u.name.span, `upstream \`${u.name.value}\` has no replicas`, { label: 'nothing to send requests to', hint: 'add `replicas host:port …`' })
  } else {
    const seen = new Map<string, A.Span>()
    for (const a of rs.addrs) {
      const r = readReplica(ctx, a)
      if (r === undefined) continue
      const key = `${r.host}:${r.port}`
      const first = seen.get(key)
      if (first !== undefined) { ctx.d.error('E0102', a.span, `replica \`${key}\` is listed twice`, { notes: [{ message: 'first listed here', span: first }], hint: 'list each replica once' }); continue }
      seen.set(key, a.span)
      replicas.push(r)
    }
  }
  const b = pick('balance') as A.BalanceStmt | undefined
  const ha = pick('health active') as A.HealthStmt | undefined
  const hp = pick('health passive') as A.HealthStmt | undefined
  const p = pick('pool') as A.OptionsStmt | undefined
  const bh = pick('bulkhead') as A.OptionsStmt | undefined
  const br = pick('breaker') as A.OptionsStmt | undefined
  return {
    name: u.name.value,
    replicas,
    balance: (b && balance(ctx, b)) ?? UPSTREAM_DEFAULTS.balance,
    health: { active: ha ? activeHealth(ctx, ha) : null, passive: hp ? passiveHealth(ctx, hp) : { ...UPSTREAM_DEFAULTS.passive } },
    pool: p ? pool(ctx, p) : { ...UPSTREAM_DEFAULTS.pool },
    bulkhead: bh ? checkBulkhead(ctx, bh) : null,
    breaker: br ? checkBreaker(ctx, br) : null,
    source: spanOf(u.span),
  }
}
