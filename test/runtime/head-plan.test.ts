// test/runtime/head-plan.test.ts: a route's `headers` stages compiled to head plans (issue 13 item 2) mean exactly
// what recording every edit on the context meant (runtime/headers.ts applyEdits, test/runtime/header-edits.test.ts),
// in every order with the edits other stages record per request (rewrite's upstream Host, cors): seeded random
// pipelines, both directions, the pairs form (node:http, undici), the upstream request's string form
// (renderUpstreamHeaders) and the rendered response head of the http1 engine (writeUpstreamHead).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { HeadPlanOptions } from '../../config/bundle.js'
import { trustedProxyList } from '../../config/settings.js'
import { HeadPlanBuilder, type StaticEdit } from '../../compiler/codegen/head-plan.js'
import { RequestContext } from '../../runtime/context.js'
import { HEAD_PLANS, HeadPlan } from '../../runtime/head-plan.js'
import { gatewayResponseHeaders, renderUpstreamHeaders, upstreamRequestHeaders, writeUpstreamHead, type OutboundOptions } from '../../runtime/headers.js'
import { renderHead } from '../../runtime/http1/writer.js'
import { readHead } from '../../runtime/request-head.js'
import { fakeRequest, fakeResponse } from '../../bench/runtime/kit/fake-http.js'

/** mulberry32: a small seeded PRNG, so a failure names its seed. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Names the edits and the messages share, among them the gateway's own lines a route may replace.
const NAMES = ['x-a', 'x-b', 'x-c', 'accept', 'host', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-user-id', 'forwarded', 'date', 'vary', 'etag', 'content-length']
const EDIT_NAMES = NAMES.filter(n => n !== 'content-length') // the checker refuses it (E0306)
const identity: ReadonlySet<string> = new Set(['x-user-id'])
const trusted = trustedProxyList(['10.0.0.0/8'])

const caseOf = (r: () => number, n: string): string => (r() < 0.5 ? n : n.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase()))
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]

type Step =
  | { kind: 'static'; target: 'request' | 'response'; ops: StaticEdit[] }
  | { kind: 'dynamic'; apply: (ctx: RequestContext) => void; text: string }

/** A random pipeline: `headers` stages of either direction among per-request edits (Host, CORS-like). */
function pipeline(r: () => number): Step[] {
  const steps: Step[] = []
  const n = Math.floor(r() * 6)
  for (let i = 0; i < n; i++) {
    if (r() < 0.6) {
      const ops: StaticEdit[] = []
      for (let k = 1 + Math.floor(r() * 3); k > 0; k--) ops.push({ name: pick(r, EDIT_NAMES), value: r() < 0.65 ? `v${Math.floor(r() * 100)}` : null })
      steps.push({ kind: 'static', target: r() < 0.5 ? 'request' : 'response', ops })
    } else {
      const name = pick(r, EDIT_NAMES), value = `d${Math.floor(r() * 100)}`
      const which = Math.floor(r() * 5)
      if (which === 0) steps.push({ kind: 'dynamic', text: `setUpstreamHost(${value})`, apply: c => c.setUpstreamHost(value) })
      else if (which === 1) steps.push({ kind: 'dynamic', text: 'setUpstreamHost(null)', apply: c => c.setUpstreamHost(null) })
      else if (which === 2) steps.push({ kind: 'dynamic', text: `setResponseHeader(${name})`, apply: c => c.setResponseHeader(name, value) })
      else if (which === 3) steps.push({ kind: 'dynamic', text: `removeResponseHeader(${name})`, apply: c => c.removeResponseHeader(name) })
      else steps.push({ kind: 'dynamic', text: `addResponseHeader(${name})`, apply: c => c.addResponseHeader(name, value) })
    }
  }
  return steps
}

function context(r: () => number): RequestContext {
  const headers: [string, string][] = [['Host', 'shop.test']]
  for (let k = Math.floor(r() * 7); k > 0; k--) headers.push([caseOf(r, pick(r, NAMES.filter(n => n !== 'host' && n !== 'content-length'))), `c${Math.floor(r() * 100)}`])
  if (r() < 0.3) headers.push(['Connection', r() < 0.5 ? 'keep-alive' : `close, ${pick(r, ['x-a', 'X-B', 'accept'])}`])
  if (r() < 0.3) headers.push(['Content-Length', '0'])
  const req = fakeRequest({ url: '/p?q=1', headers, remoteAddress: r() < 0.5 ? '10.0.0.5' : '198.51.100.23' })
  const ctx = new RequestContext(req, fakeResponse().res, 1000)
  assert.ok(readHead(ctx, { trusted }), ctx.reason)
  if (r() < 0.4) ctx.state.identity = [{ header: 'x-user-id', value: 'user-1' }]
  ctx.upstreamMs = 1.5
  return ctx
}

/** Two contexts for one request: one told every edit by the context's edit methods (the meaning), one given plans. */
function run(seed: number): { steps: Step[]; ref: RequestContext; planned: RequestContext } {
  const steps = pipeline(rng(seed))
  const ref = context(rng(seed + 1)), planned = context(rng(seed + 1))
  planned.state.identity = ref.state.identity
  // the plans gwc would emit for this route, made at load
  const builders = { request: new HeadPlanBuilder(), response: new HeadPlanBuilder() }
  const plans = steps.map(s => (s.kind === 'static' ? HEAD_PLANS[s.target](builders[s.target].add(s.ops)) : null))
  steps.forEach((s, i) => {
    if (s.kind === 'dynamic') { s.apply(ref); s.apply(planned); return }
    for (const op of s.ops) {
      if (s.target === 'request') { if (op.value === null) ref.removeRequestHeader(op.name); else ref.setRequestHeader(op.name, op.value) }
      else if (op.value === null) ref.removeResponseHeader(op.name)
      else ref.setResponseHeader(op.name, op.value)
    }
    if (s.target === 'request') planned.requestPlan(plans[i]!)
    else planned.responsePlan(plans[i]!)
  })
  planned.id = ref.id; planned.spanId = ref.spanId; planned.trace = ref.trace
  return { steps, ref, planned }
}

const describe = (steps: Step[]): string => steps.map(s => (s.kind === 'static' ? `headers ${s.target} ${s.ops.map(o => `${o.value === null ? 'remove' : 'set'} ${o.name}`).join(', ')}` : s.text)).join('; ')

/** The reference's request lines as the string form says they go (undici's order): the first Host first, Content-Length left out. */
function linesOf(h: string[], host: string): string {
  let out = '', first: string | null = null
  for (let i = 0; i < h.length; i += 2) {
    if (h[i].toLowerCase() === 'content-length') continue
    if (h[i].toLowerCase() === 'host' && first === null) { first = h[i + 1]; continue }
    out += `${h[i]}: ${h[i + 1]}\r\n`
  }
  return `host: ${first ?? host}\r\n` + out
}

const UPSTREAM_RAW = (r: () => number): Buffer[] => {
  const raw: string[] = ['Content-Type', 'text/plain', 'Content-Length', '5']
  for (let k = Math.floor(r() * 6); k > 0; k--) raw.push(caseOf(r, pick(r, NAMES.filter(n => n !== 'content-length' && n !== 'host'))), `u${Math.floor(r() * 100)}`)
  if (r() < 0.2) raw.push('Keep-Alive', 'timeout=5')
  if (r() < 0.15) raw.push('Connection', `keep-alive, ${pick(r, ['x-a', 'Etag'])}`)
  return raw.map(s => Buffer.from(s, 'latin1'))
}

/** What the http1 engine writes for a head: the pairs, or the rendered lines, through the engine's own writer. */
function wire(status: number, pairs: string[], lines = '', facts = 0): string {
  const st = { chunked: false, last: false, shouldKeepAlive: true }
  return renderHead(st, status, pairs, true, true, 5, lines, facts).replace(/^Date: .*\r\n/m, 'Date: *\r\n')
}

test('head plans and per-request edits in any order: the upstream request is the same, as pairs and as one string (600 seeded pipelines)', () => {
  for (const via of [true, false]) {
    const o: OutboundOptions = { identity, via }
    for (let seed = 1; seed <= 300; seed++) {
      const { steps, ref, planned } = run(seed * 7919)
      const strip = seed % 5 === 0 ? new Set(['accept']) : null
      const want = upstreamRequestHeaders(ref, o, strip)
      const where = `seed ${seed * 7919}, via ${via}: ${describe(steps)}`
      assert.deepEqual(upstreamRequestHeaders(planned, o, strip), want, where)
      assert.equal(renderUpstreamHeaders(planned, o, strip, '10.1.1.1:8080'), linesOf(want, '10.1.1.1:8080'), where)
    }
  }
})

test('head plans and per-request edits in any order: the answer is the same, as pairs (node:http) and as the http1 engine\'s rendered head (600 seeded pipelines)', () => {
  for (const via of [true, false]) {
    for (let seed = 1; seed <= 300; seed++) {
      const { steps, ref, planned } = run(seed * 104729)
      const raw = UPSTREAM_RAW(rng(seed))
      const where = `seed ${seed * 104729}, via ${via}: ${describe(steps)}`
      const now = ref.start + 2
      // the pairs path (node:http; the http1 engine after a per-request edit)
      const refWrites: unknown[][] = [], pairWrites: unknown[][] = [], lineWrites: unknown[][] = []
      const capture = (into: unknown[][]) => ({ writeHead: (...a: unknown[]) => { into.push(a) } }) as unknown as RequestContext['res']
      ;(ref as { res: RequestContext['res'] }).res = capture(refWrites)
      writeUpstreamHead(ref, 200, raw, { identity, via }, now)
      const [, refPairs] = refWrites[0] as [number, string[]]
      ;(planned as { res: RequestContext['res'] }).res = capture(pairWrites)
      writeUpstreamHead(planned, 200, raw, { identity, via }, now)
      assert.deepEqual(pairWrites[0], [200, refPairs], where)
      // the rendered path (http1 engine): the same bytes
      ;(planned as { res: RequestContext['res'] }).res = capture(lineWrites)
      writeUpstreamHead(planned, 200, raw, { identity, via, rendered: true }, now)
      const [status, pairs, lines, facts] = lineWrites[0] as [number, string[], string | undefined, number | undefined]
      assert.equal(wire(status, pairs, lines, facts), wire(200, refPairs), where)
    }
  }
})

test('the plan of a route with no per-request edit renders without a pair array on the http1 engine, with one on node:http', () => {
  const b = new HeadPlanBuilder()
  const p = HEAD_PLANS.response(b.add([{ name: 'x-frame-options', value: 'DENY' }, { name: 'server', value: null }]))
  const ctx = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'a.test']] }), fakeResponse().res, 0)
  ctx.id = 'rid'
  ctx.responsePlan(p)
  const writes: unknown[][] = []
  ;(ctx as { res: RequestContext['res'] }).res = { writeHead: (...a: unknown[]) => { writes.push(a) } } as unknown as RequestContext['res']
  const raw = ['Server', 'nginx', 'Content-Length', '2', 'X-Frame-Options', 'SAMEORIGIN', 'Connection', 'keep-alive'].map(s => Buffer.from(s))
  writeUpstreamHead(ctx, 200, raw, { identity, via: true, rendered: true }, 1)
  assert.deepEqual(writes[0], [200, [], 'Content-Length: 2\r\nx-request-id: rid\r\nserver-timing: gw;dur=1\r\nvia: 1.1 gwp\r\nx-frame-options: DENY\r\n', 1])
  writeUpstreamHead(ctx, 200, raw, { identity, via: true }, 1)
  assert.deepEqual(writes[1], [200, ['Content-Length', '2', 'x-request-id', 'rid', 'server-timing', 'gw;dur=1', 'via', '1.1 gwp', 'x-frame-options', 'DENY']])
})

test('a later per-request edit wins over a head plan, and a later plan over a per-request edit (stage order decides)', () => {
  const ctxOf = () => {
    const c = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'a.test']] }), fakeResponse().res, 0)
    assert.ok(readHead(c, { trusted: null }))
    return c
  }
  const o: OutboundOptions = { identity, via: false }
  const hostPlan = HEAD_PLANS.request(new HeadPlanBuilder().add([{ name: 'host', value: 'static.internal' }]))
  // headers request set host … then rewrite host …: the rewrite's Host
  let c = ctxOf(); c.requestPlan(hostPlan); c.setUpstreamHost('dynamic.internal')
  assert.match(renderUpstreamHeaders(c, o, null, 'replica:1'), /^host: dynamic\.internal\r\n/m)
  assert.doesNotMatch(renderUpstreamHeaders(c, o, null, 'replica:1'), /^host: (static|a\.test|replica)/m)
  // rewrite host … then headers request set host …: the plan's Host
  c = ctxOf(); c.setUpstreamHost('dynamic.internal'); c.requestPlan(hostPlan)
  assert.match(renderUpstreamHeaders(c, o, null, 'replica:1'), /^host: static\.internal\r\n/m)
  assert.doesNotMatch(renderUpstreamHeaders(c, o, null, 'replica:1'), /^host: (dynamic|a\.test|replica)/m)
  // rewrite host to the replica's own: the string form names the replica, as undici does
  c = ctxOf(); c.setUpstreamHost(null)
  assert.match(renderUpstreamHeaders(c, o, null, 'replica:1'), /^host: replica:1\r\n/m)
})

test('a plan refuses at load a name or value the checker refuses: no CR/LF, no gateway-owned name, names lower-case', () => {
  const ok: HeadPlanOptions = { drop: ['x-a'], block: 'x-a: 1\r\n', edits: ['x-a', '1'] }
  assert.ok(new HeadPlan(ok) instanceof HeadPlan)
  for (const bad of [
    { ...ok, block: 'x-a: 1\r\nx-b: 2\r\n' }, // a line whose name the edits do not name
    { ...ok, block: 'x-a: 1\r\n\r\nGET / HTTP/1.1\r\n' },
    { ...ok, block: 'x-a: 1\n' },
    { ...ok, block: 'x-a: 1\u0000\r\n' },
    { ...ok, edits: ['x-a', 'a\r\nx-evil: 1'] },
    { ...ok, drop: ['X-A'] },
    { ...ok, drop: ['x a'] },
    { drop: ['content-length'], block: 'content-length: 0\r\n', edits: ['content-length', '0'] },
    { drop: ['connection'], block: '', edits: ['connection', null] },
  ]) assert.throws(() => new HeadPlan(bad as HeadPlanOptions), /head plan: /, JSON.stringify(bad))
  // and codegen refuses them before that (the checker's E0306 comes first)
  assert.throws(() => new HeadPlanBuilder().add([{ name: 'x-a', value: 'a\r\nx-evil: 1' }]), /codegen: bad header value/)
  assert.throws(() => new HeadPlanBuilder().add([{ name: 'X-A', value: '1' }]), /codegen: bad header name/)
})
