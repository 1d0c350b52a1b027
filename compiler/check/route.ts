// Checks a route's pipeline: expands `use`, enforces the order rules (one terminal, last; identity-keyed
// rate limits after an `auth`), warns on costly orders, and lowers the route to RouteIR (envelope later).
import type * as A from '../../grammar/ast.js'
import type { MatchIR, RetryIR, RouteIR, StageIR } from '../../config/ir.js'
import { checkAuthStage } from '../../policies/jwt/check.js'
import { checkHeadersStage } from '../../policies/headers/check.js'
import { checkProxy, checkRespond } from '../../policies/proxy/check.js'
import { checkRatelimitStage } from '../../policies/ratelimit/check.js'
import { checkRetry } from '../../policies/retry/check.js'
import { readQty } from '../values.js'
import { unknownName, type CheckContext } from './context.js'
import { checkMatch } from './match.js'
import { spanOf } from './spans.js'

/** Route settings a `defaults` block may give; the built-ins apply when neither gives them. */
export const ROUTE_DEFAULTS = { timeoutMs: 15_000, maxBodyBytes: 16 * 1024 * 1024 }

export interface RouteDefaults { timeout?: A.TimeoutStmt; maxBody?: A.MaxBodyStmt; retry?: A.RetryStmt }

/** A statement after `use` expansion, with the policies it came through (for messages). */
interface Item { stmt: A.RouteStmt; via: string[] }

const isSetting = (s: A.RouteStmt): boolean => s.kind === 'timeout' || s.kind === 'max_body' || s.kind === 'retry'
const isStage = (s: A.RouteStmt): boolean => s.kind === 'auth' || s.kind === 'ratelimit' || s.kind === 'headers'
const isTerminal = (s: A.RouteStmt): boolean => s.kind === 'proxy' || s.kind === 'respond'

/** Policy-level rules, reported once per policy rather than once per route that uses it. */
export function checkPolicyDecl(ctx: CheckContext, p: A.PolicyDecl): void {
  for (const s of p.body) {
    if (s.kind === 'match') ctx.d.error('E0404', s.span, 'a policy cannot hold `match`', { label: 'matching belongs to a route', hint: 'move `match` into each route that uses this policy' })
    else if (isTerminal(s)) ctx.d.error('E0404', s.span, `a policy cannot end a pipeline with \`${s.kind}\``, { label: 'terminal stage in a policy', hint: `put \`${s.kind}\` in the route, after \`use ${p.name.value}\`` })
  }
}

function expand(ctx: CheckContext, body: A.RouteStmt[], via: string[], out: Item[]): void {
  for (const s of body) {
    if (s.kind !== 'use') {
      if (via.length > 0 && (s.kind === 'match' || isTerminal(s))) continue // reported by checkPolicyDecl
      out.push({ stmt: s, via })
      continue
    }
    const name = s.policy.value
    const p = ctx.symbols.policies.get(name)
    if (p === undefined) { unknownName(ctx, 'E0203', 'policy', s.policy, ctx.symbols.policies.keys(), 'policy'); continue }
    ctx.used.add('policy:' + name)
    if (via.includes(name)) {
      // one report per cycle, however many policies of it are checked
      const cycle = [...via.slice(via.indexOf(name))].sort().join('→')
      if (ctx.reportedCycles.has(cycle)) continue
      ctx.reportedCycles.add(cycle)
      ctx.d.error('E0204', s.span, `policy \`${name}\` uses itself: ${[...via, name].map(n => '`' + n + '`').join(' → ')}`, { hint: 'remove one of the `use` lines in the cycle' })
      continue
    }
    expand(ctx, p.body, [...via, name], out)
  }
}

const from = (it: Item): string => (it.via.length > 0 ? ` (from policy \`${it.via[it.via.length - 1]}\`)` : '')

/** What the envelope and lints need besides the IR. */
export interface CheckedRoute {
  ir: Omit<RouteIR, 'envelope'>
  decl: A.RouteDecl
  matchSpan: A.Span
  retryStmt: A.RetryStmt | null
  /** The retry is the `defaults` one: a route it cannot apply to is not a mistake in that route. */
  retryFromDefaults: boolean
  timeoutGiven: boolean
  /** The statement of each IR stage (same index), for lints that point at one. */
  stageStmts: A.RouteStmt[]
}

/** Checks the values of route defaults once. */
export function checkRouteDefaults(ctx: CheckContext, d: RouteDefaults): void {
  if (d.timeout) readQty(d.timeout.value, 'duration', '`timeout`', ctx.d, { min: 1, max: 3_600_000 })
  if (d.maxBody) readQty(d.maxBody.value, 'size', '`max_body`', ctx.d, { min: 0, max: 1024 ** 4 })
  if (d.retry) checkRetry(ctx, d.retry)
}

/** A policy no route uses: its stages and settings are checked on their own (route-level rules need a route). */
export function checkPolicyBody(ctx: CheckContext, p: A.PolicyDecl): void {
  const items: Item[] = []
  expand(ctx, p.body, [p.name.value], items)
  items.forEach(it => {
    const s = it.stmt
    switch (s.kind) {
      case 'auth': checkAuthStage(ctx, s); break
      case 'ratelimit': checkRatelimitStage(ctx, s, p.name.value); break
      case 'headers': checkHeadersStage(ctx, s); break
      case 'timeout': case 'max_body': case 'retry': checkRouteDefaults(ctx, { [s.kind === 'max_body' ? 'maxBody' : s.kind]: s } as RouteDefaults); break
    }
  })
}

export function checkRoute(ctx: CheckContext, r: A.RouteDecl, defaults: RouteDefaults): CheckedRoute | undefined {
  const items: Item[] = []
  expand(ctx, r.body, [], items)
  const where = `route \`${r.name.value}\``
  let matchStmt: A.MatchStmt | undefined
  const settings = new Map<string, Item>()
  const stages: StageIR[] = []
  const stageStmts: A.RouteStmt[] = []
  let terminal: RouteIR['terminal'] | undefined
  let terminalItem: Item | undefined
  let broken = false
  let authSeen = false

  for (const it of items) {
    const s = it.stmt
    if (s.kind === 'match') {
      if (matchStmt !== undefined) { ctx.d.error('E0102', s.span, `${where} has two \`match\` lines`, { notes: [{ message: 'first here', span: matchStmt.span }], hint: 'combine the conditions in one `match`, or split the route' }); continue }
      matchStmt = s
      continue
    }
    if (isSetting(s)) {
      const first = settings.get(s.kind)
      if (first !== undefined) {
        ctx.d.error('E0102', s.span, `\`${s.kind}\` is set twice for ${where}${from(it)}`, { label: 'set again here', notes: [{ message: `first set here${from(first)}`, span: first.stmt.span }], hint: 'keep one of them' })
        continue
      }
      settings.set(s.kind, it)
      continue
    }
    if (terminalItem !== undefined) {
      ctx.d.error('E0402', s.span, `\`${s.kind}\` comes after \`${terminalItem.stmt.kind}\`, which ends the pipeline${from(it)}`, {
        label: 'never runs', notes: [{ message: 'the pipeline ends here', span: terminalItem.stmt.span }], hint: `move it above \`${terminalItem.stmt.kind}\``,
      })
      broken = true
      continue
    }
    if (isTerminal(s)) {
      terminalItem = it
      const t = s.kind === 'proxy' ? checkProxy(ctx, s) : checkRespond(ctx, s as A.RespondStmt)
      if (t === undefined) broken = true
      else terminal = t
      continue
    }
    if (!isStage(s)) continue
    let st: StageIR | undefined
    if (s.kind === 'auth') { st = checkAuthStage(ctx, s); authSeen = true }
    else if (s.kind === 'headers') st = checkHeadersStage(ctx, s)
    else if (s.kind === 'ratelimit') {
      const identityHeader = s.key.kind === 'header' && ctx.identityHeaders.has(s.key.name!.value.toLowerCase())
      if ((s.key.kind === 'user' || s.key.kind === 'claim' || identityHeader) && !authSeen) {
        const auth = items.find(x => x.stmt.kind === 'auth')
        const what = identityHeader ? `header ${s.key.name!.value}` : s.key.kind
        ctx.d.error('E0403', s.key.span, `\`ratelimit by ${what}\` needs an \`auth\` stage before it${from(it)}`, {
          label: 'no verified identity yet',
          hint: auth ? 'move this below the `auth` line' : 'add `auth PROVIDER` above it, or limit `by ip`',
          ...(auth ? { notes: [{ message: '`auth` comes later, here', span: auth.stmt.span }] } : {}),
        })
        broken = true
        continue
      }
      const rl = checkRatelimitStage(ctx, s, r.name.value)
      st = rl
      // Two limiters with the same identity and store would share one bucket: every request would take from it
      // twice, halving the limit without saying so.
      const twin = rl === undefined ? -1 : stages.findIndex(x => x.kind === 'ratelimit' && x.id === rl.id && x.store === rl.store)
      if (twin >= 0) {
        ctx.d.error('E0102', s.span, `the same rate limit is given twice in ${where}${from(it)}`, {
          label: 'same key, limit and window as an earlier one', notes: [{ message: 'first given here', span: stageStmts[twin].span }],
          hint: 'remove one of them; to count two ways, key them differently or give them different windows',
        })
        broken = true
        continue
      }
    }
    if (st === undefined) { broken = true; continue }
    stages.push(st)
    stageStmts.push(s)
  }

  orderLints(ctx, stages, stageStmts, ctx.identityHeaders)

  let match: MatchIR | undefined
  if (matchStmt === undefined) {
    ctx.d.error('E0104', r.name.span, `${where} has no \`match\``, { label: 'no requests can reach it', hint: 'add e.g. `match host "api.example.com" path prefix "/v1"`' })
    broken = true
  } else {
    match = checkMatch(ctx, matchStmt)
    if (match === undefined) broken = true
  }
  if (terminalItem === undefined) {
    ctx.d.error('E0401', r.name.span, `${where} has no terminal stage`, { label: 'requests would have nowhere to go', hint: 'end the pipeline with `proxy UPSTREAM` or `respond STATUS`' })
    broken = true
  }

  const timeoutStmt = (settings.get('timeout')?.stmt as A.TimeoutStmt | undefined) ?? defaults.timeout
  const maxBodyStmt = (settings.get('max_body')?.stmt as A.MaxBodyStmt | undefined) ?? defaults.maxBody
  const retryStmt = (settings.get('retry')?.stmt as A.RetryStmt | undefined) ?? defaults.retry
  const timeoutMs = timeoutStmt ? readQty(timeoutStmt.value, 'duration', '`timeout`', ctx.d, { min: 1, max: 3_600_000 }) : ROUTE_DEFAULTS.timeoutMs
  const maxBodyBytes = maxBodyStmt ? readQty(maxBodyStmt.value, 'size', '`max_body`', ctx.d, { min: 0, max: 1024 ** 4 }) : ROUTE_DEFAULTS.maxBodyBytes
  let retry: RetryIR | null = null
  if (retryStmt !== undefined) {
    const rr = checkRetry(ctx, retryStmt)
    if (rr === undefined) broken = true
    else retry = rr.count > 0 ? rr : null
  }
  const retryFromDefaults = retryStmt !== undefined && !settings.has('retry')
  if (retry !== null && terminal?.kind === 'respond') {
    if (!retryFromDefaults) ctx.d.warn('W0703', retryStmt!.span, `${where} answers with \`respond\`, so \`retry\` never fires`, { hint: 'remove the `retry`' })
    retry = null
  }
  if (broken || match === undefined || terminal === undefined || timeoutMs === undefined || maxBodyBytes === undefined) return undefined
  return {
    ir: { name: r.name.value, match, stages, terminal, timeoutMs, retry, maxBodyBytes, source: spanOf(r.span) },
    decl: r,
    matchSpan: matchStmt!.span,
    retryStmt: retryStmt ?? null,
    retryFromDefaults,
    timeoutGiven: timeoutStmt !== undefined,
    stageStmts,
  }
}

/** W0701: a stage that costs more runs before a cheaper one that could have rejected the request. */
function orderLints(ctx: CheckContext, stages: StageIR[], stmts: A.RouteStmt[], identity: Set<string>): void {
  const cost = (s: StageIR): number => (s.kind === 'auth' ? 2 : s.kind === 'ratelimit' ? (s.store === 'redis' ? 2 : 1) : 0)
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i]
    if (s.kind !== 'ratelimit' || s.key.kind === 'user' || s.key.kind === 'claim') continue
    // a header the gateway sets from verified claims only exists after `auth`: it cannot move above it
    if (s.key.kind === 'header' && identity.has(s.key.header)) continue
    const costly = stages.slice(0, i).findIndex(p => cost(p) > cost(s) && !(p.kind === 'ratelimit' && s.store === 'redis'))
    if (costly < 0) continue
    const p = stages[costly]
    const what = p.kind === 'auth' ? 'a JWT verification' : 'a Redis round trip'
    ctx.d.warn('W0701', stmts[i].span, `\`ratelimit by ${s.key.kind}\` runs after \`${p.kind}\`: a request it rejects has already paid for ${what}`, {
      label: 'cheap reject placed late', notes: [{ message: 'the costlier stage', span: stmts[costly].span }], hint: `move it above \`${p.kind}\``,
    })
  }
}
