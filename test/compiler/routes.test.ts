// test/compiler/routes.test.ts: `gwc routes` shows where each route fails over to (issue 9, item 9): nowhere,
// another replica, or the other upstreams of a weighted split (heaviest first), and `gwc explain` and
// `gwc diff` say the same.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest } from '../../compiler/tools/explain.js'
import { renderRoutes } from '../../compiler/tools/routes.js'
import type { BundleIR } from '../../config/ir.js'

const POLICY = `
upstream search { replicas 127.0.0.1:9101 127.0.0.1:9102 }
upstream search_v2 { replicas 127.0.0.1:9201 }
route canary { match path prefix "/search"; timeout 1s; retry 1 budget 20% per_try 400ms; proxy search_v2 5%, search 95% }
route plain { match path prefix "/plain"; timeout 1s; retry 1 per_try 400ms; proxy search }
route split_only { match path prefix "/split"; timeout 1s; proxy search 50%, search_v2 50% }
route direct { match path prefix "/direct"; timeout 1s; proxy search }
route ok { match path exact "/ok"; timeout 1s; respond 200 }
`

function ir(text: string): BundleIR {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.deepEqual(r.diagnostics.filter(d => d.severity === 'error').map(d => d.message), [])
  return r.ir!
}

test('the envelope names the failover: heaviest upstream first, retries to the split before other replicas', () => {
  const b = ir(POLICY)
  const f = Object.fromEntries(b.routes.map(r => [r.name, r.envelope.failover]))
  assert.deepEqual(f, {
    canary: { upstreams: ['search', 'search_v2'], retry: 'split' },
    plain: { upstreams: [], retry: 'replica' },
    split_only: { upstreams: ['search', 'search_v2'], retry: 'none' },
    direct: { upstreams: [], retry: 'none' },
    ok: { upstreams: [], retry: 'none' },
  })
  const rows = Object.fromEntries(renderRoutes(b).split('\n').slice(2).filter(Boolean).map(l => [l.split(/\s+/)[0], l]))
  assert.match(renderRoutes(b).split('\n')[0], /TRIES +WORST +AMPL +FAILOVER$/)
  assert.match(rows.canary, /2 +800ms +1\.2× +search, search_v2 if down or failed, then replica$/)
  assert.match(rows.plain, / replica$/)
  assert.match(rows.split_only, / search, search_v2 if down$/)
  assert.match(rows.direct, / -$/)
})

test('gwc explain says which mechanism answers when, and where a retry goes', () => {
  const e = explainRequest(ir(POLICY), { method: 'GET', host: 'x', path: '/search/q', query: '', headers: { host: 'x' } })
  const proxy = e.steps.at(-1)!
  assert.match(proxy.text, /before sending: no replica in rotation \(health\), bulkhead full or breaker open → the next upstream of the split, else 503; after a failed attempt: a retry on the split's other upstream, then another replica \(budget and breaker permitting\), else 502/)
  assert.equal(proxy.note, 'this GET may be retried up to 1 time on the split\'s other upstream, then another replica')
})

test('gwc diff reports a route that starts failing over', () => {
  const d = diffIr(ir(POLICY), ir(POLICY.replace('proxy search }\nroute ok', 'proxy search 90%, search_v2 10% }\nroute ok')))
  assert.match(renderDiffText(d), /envelope\.failover +- → search, search_v2 if down/)
})

// A rate limit's burst, and no upstream envelope for a route that answers with `respond` (issue 9, item 11).
const LIMITS = `
upstream api { replicas 127.0.0.1:1 }
jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks" refresh 5m }
route limited { match path "/a"; ratelimit by ip 50 per 1s burst 20; timeout 2s; proxy api }
route plain { match path "/b"; ratelimit by ip 50 per 1s; timeout 2s; proxy api }
route ping { match path "/ping"; timeout 3s; respond 204 }
route whoami { match path "/me"; auth idp; timeout 4s; respond 200 }
`

function limitsTable(): Map<string, string[]> {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': LIMITS }) })
  assert.ok(r.ir, JSON.stringify(r.diagnostics))
  const lines = renderRoutes(r.ir).trimEnd().split('\n')
  return new Map(lines.slice(1).map(l => { const cells = l.split(/\s{2,}/); return [cells[0], cells] }))
}

test('a rate limit with a burst shows the burst', () => {
  const t = limitsTable()
  assert.match(t.get('limited')![2], /ratelimit ip 50\/1s burst 20 → proxy api/)
  assert.match(t.get('plain')![2], /ratelimit ip 50\/1s → proxy api/)
})

test('a respond route has no upstream tries, wait or amplification; one whose stages can wait keeps its timeout', () => {
  const t = limitsTable()
  assert.deepEqual(t.get('ping')!.slice(3, 6), ['-', '-', '-'])
  assert.deepEqual(t.get('whoami')!.slice(3, 6), ['-', '4s', '-'])
  assert.deepEqual(t.get('plain')!.slice(3, 6), ['1', '2s', '1×'])
})
