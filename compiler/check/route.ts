// Checks a route's pipeline: expands `use`, enforces the order rules (one terminal, last; a stage that needs a
// fact, such as a verified identity, after one that provides it), warns on costly orders, and lowers the route
// to RouteIR (envelope later). Policy stages are checked by their kinds' descriptors (compiler/policies.ts).
import { kindOf } from '../../grammar/ast.js'
import type * as A from '../../grammar/ast.js'
import type { MatchIR, RetryIR, RouteIR, StageIR, UpgradeIR } from '../../config/ir.js'
import type { CompilePolicy } from '../policy-api.js'
import { checkProxy, checkRespond } from './terminal.js'
import { checkRetry } from './upstream-retry.js'
import { checkUpgrade } from './upgrade.js'
import { readQty } from '../values.js'
import { unknownName, type CheckContext } from './context.js'
import { checkMatch } from './match.js'
import { spanOf } from './spans.js'

/** Route settings a `defaults` block may give; the built-ins apply when neither gives them. */
export const ROUTE_DEFAULTS = { timeoutMs: 15_000, maxBodyBytes: 16 * 1024 * 1024 }

export interface RouteDefaults { timeout?: A.TimeoutStmt; maxBody?: A.MaxBodyStmt; retry?: A.RetryStmt }

/** A statement after `use` expansion, with the policies it came through (for messages). */
interface Item { stmt: A.RouteStmt; via: string[] }

const isSetting = (s: A.RouteStmt): boolean => s.kind === 'timeout' || s.kind === 'max_body' || s.kind === 'retry' || s.kind === 'upgrade'
const isTerminal = (s: A.RouteStmt): boolean => s.kind === 'proxy' || s.kind === 'respond'

/**
 * The policy that checks a stage statement. Every statement that is not the core's own (match, use, settings,
 * terminals) is a policy stage; a kind no policy is registered for (a front end and the registry out of step)
 * is an error here, so nothing of it is ever dropped silently.
 */
function policyOf(ctx: CheckContext, s: A.RouteStmt, where: string): CompilePolicy | undefined {
  const p = ctx.policies.get(kindOf(s))
  if (p === undefined) {
    ctx.d.error('E0404', s.span, `\`${kindOf(s)}\` is not a stage this gwc compiles${where}`, {
      label: 'no policy of this kind is registered', hint: 'remove it, or use a gwc that has this policy (compiler/policies.ts)',
    })
  }
  return p
}

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
      case 'match': case 'proxy': case 'respond': case 'use': break
      case 'timeout': case 'max_body': case 'retry': checkRouteDefaults(ctx, { [s.kind === 'max_body' ? 'maxBody' : s.kind]: s } as RouteDefaults); break
      case 'upgrade': checkUpgrade(ctx, s); break
      default: policyOf(ctx, s, from(it))?.check(ctx, s, p.name.value)
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
  /** Facts the stages so far establish (`identity` after `auth`). */
  const provided = new Set<string>()

  for (const it of items) {
    const s = it.stmt
    if (s.kind === 'match') {
      if (matchStmt !== undefined) { ctx.d.error('E0102', s.span, `${where} has two \`match\` lines`, { notes: [{ message: 'first here', span: matchStmt.span }], hint: 'combine the conditions in one `match`, or split the route' }); continue }
      matchStmt = s
      continue
    }
    if (isSetting(s)) {
      const first = settings.get(kindOf(s))
      if (first !== undefined) {
        ctx.d.error('E0102', s.span, `\`${s.kind}\` is set twice for ${where}${from(it)}`, { label: 'set again here', notes: [{ message: `first set here${from(first)}`, span: first.stmt.span }], hint: 'keep one of them' })
        continue
      }
      settings.set(kindOf(s), it)
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
    if (s.kind === 'use') continue // expanded above; only an unknown policy is left, already reported
    const policy = policyOf(ctx, s, from(it))
    if (policy === undefined) { broken = true; continue }
    const need = policy.needs?.(ctx, s)
    if (need !== undefined && !provided.has(need.fact)) {
      const providers = ctx.policies.providers(need.fact)
      const later = items.find(x => providers.includes(kindOf(x.stmt)))
      const by = later !== undefined ? kindOf(later.stmt) : providers[0] ?? need.fact
      ctx.d.error('E0403', need.span, `\`${need.what}\` needs an \`${by}\` stage before it${from(it)}`, {
        label: need.label,
        hint: later ? `move this below the \`${by}\` line` : need.hintWhenMissing,
        ...(later ? { notes: [{ message: `\`${by}\` comes later, here`, span: later.stmt.span }] } : {}),
      })
      broken = true
      continue
    }
    const st: StageIR | undefined = policy.check(ctx, s, r.name.value)
    for (const f of (st !== undefined && policy.establishes !== undefined ? policy.establishes(st) : policy.provides) ?? []) provided.add(f)
    const twin = st === undefined || policy.twin === undefined ? -1 : stages.findIndex(x => x.kind === st.kind && policy.twin!.key(x) === policy.twin!.key(st))
    if (twin >= 0) {
      ctx.d.error('E0102', s.span, `${policy.twin!.message} in ${where}${from(it)}`, {
        label: policy.twin!.label, notes: [{ message: 'first given here', span: stageStmts[twin].span }], hint: policy.twin!.hint,
      })
      broken = true
      continue
    }
    if (st === undefined) { broken = true; continue }
    stages.push(st)
    stageStmts.push(s)
  }

  orderLints(ctx, stages, stageStmts)

  let match: MatchIR | undefined
  if (matchStmt === undefined) {
    ctx.d.error('E0104', r.name.span, `${where} has no \`match\``, { label: 'no requests can reach it', hint: 'add e.g. `match host "api.example.com" path prefix "/v1"`' })
    broken = true
  } else {
    match = checkMatch(ctx, matchStmt)
    if (match === undefined) broken = true
    // methods a stage answers besides those the route lists (`cors`: OPTIONS for preflights); none listed = any already
    else if (match.methods.length > 0) {
      for (const st of stages) for (const m of ctx.policies.of(st.kind).methods?.(st) ?? []) if (!match.methods.includes(m)) match.methods.push(m)
    }
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
  const upgradeItem = settings.get('upgrade')
  let upgrade: UpgradeIR | null = null
  if (upgradeItem !== undefined) {
    const s = upgradeItem.stmt as A.UpgradeStmt
    const u = checkUpgrade(ctx, s)
    if (u === undefined) broken = true
    else upgrade = u
    if (terminal?.kind === 'respond') {
      ctx.d.error('E0520', s.span, `${where} answers with \`respond\`, so it has nothing to tunnel to${from(upgradeItem)}`, {
        label: 'an upgrade needs an upstream', notes: [{ message: 'the route answers here', span: terminalItem!.stmt.span }],
        hint: 'end the route with `proxy UPSTREAM` (the upstream that speaks the protocol), or remove `upgrade`',
      })
      broken = true
    }
    // RFC 6455 §4.1: the opening handshake is a GET; a route that takes no GET never sees one
    if (u !== undefined && u.protocols.includes('websocket') && match !== undefined && match.methods.length > 0 && !match.methods.includes('GET')) {
      ctx.d.warn('W0791', s.span, `${where} accepts only ${match.methods.map(m => '`' + m + '`').join(', ')}, but a WebSocket handshake is a \`GET\``, {
        label: 'no WebSocket can open on this route', notes: [{ message: 'the route\'s methods', span: matchStmt!.span }], hint: 'add `GET` to the route\'s `method` list, or move `upgrade` to a route that takes GET',
      })
    }
  }
  if (broken || match === undefined || terminal === undefined || timeoutMs === undefined || maxBodyBytes === undefined) return undefined
  const consumes = consumedBy(ctx, stages)
  return {
    ir: { name: r.name.value, match, stages, terminal, timeoutMs, retry, upgrade, maxBodyBytes, source: spanOf(r.span), ...(consumes === null ? {} : { consumes }) },
    decl: r,
    matchSpan: matchStmt!.span,
    retryStmt: retryStmt ?? null,
    retryFromDefaults,
    timeoutGiven: timeoutStmt !== undefined,
    stageStmts,
  }
}

/** The request credentials the route's stages consume (removed before proxying), or null when none does. */
function consumedBy(ctx: CheckContext, stages: StageIR[]): NonNullable<RouteIR['consumes']> | null {
  const headers = new Set<string>(), query = new Set<string>()
  for (const s of stages) {
    const c = ctx.policies.of(s.kind).consumes?.(s)
    if (c === undefined) continue
    for (const h of c.headers) headers.add(h.toLowerCase())
    for (const q of c.query) query.add(q)
  }
  return headers.size + query.size === 0 ? null : { headers: [...headers].sort(), query: [...query].sort() }
}

/**
 * W0701: a stage that costs more (a JWT verification, a Redis round trip) runs before a cheaper one that could
 * have rejected the request. What is cheap, what costs and what may move are the policies' to say.
 */
function orderLints(ctx: CheckContext, stages: StageIR[], stmts: A.RouteStmt[]): void {
  const costOf = (s: StageIR) => ctx.policies.of(s.kind).cost?.(s) ?? { level: 0, paid: '' }
  for (let i = 0; i < stages.length; i++) {
    const s = stages[i]
    const what = ctx.policies.of(s.kind).cheapReject?.(ctx, s)
    if (what === undefined) continue
    const level = costOf(s).level
    const costly = stages.slice(0, i).findIndex(p => costOf(p).level > level)
    if (costly < 0) continue
    const p = stages[costly]
    ctx.d.warn('W0701', stmts[i].span, `\`${what}\` runs after \`${p.kind}\`: a request it rejects has already paid for ${costOf(p).paid}`, {
      label: 'cheap reject placed late', notes: [{ message: 'the costlier stage', span: stmts[costly].span }], hint: `move it above \`${p.kind}\``,
    })
  }
}
