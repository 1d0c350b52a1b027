// Issue 12 items 5 and 6 in the tools: `gwc explain` words query/cookie failures and precedence and shows the
// `ip` step, `gwc routes` shows the conditions and the lists, `gwc diff` reports their changes, `gwc fmt`
// round-trips them, and `gwc test` runs the example suite (a cookie canary and an allow-listed admin route).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { explainRequest, parseExplainRequest, renderExplainText, type ExplainRequest } from '../../compiler/tools/explain.js'
import { formatSource } from '../../compiler/tools/fmt.js'
import { describeMatch, describeStage } from '../../compiler/tools/routes.js'
import type { BundleIR } from '../../config/ir.js'
import { repoPath } from '../helpers/paths.js'

const gwc = (...args: string[]) => spawnSync(process.execPath, [repoPath('dist/bin/gwc.js'), ...args], { cwd: repoPath(), encoding: 'utf8', timeout: 20_000 })

const POLICY = `
upstream web { replicas 10.0.0.1:80 }
route stable { match host "shop.test" path prefix "/shop"; timeout 1s; proxy web }
route canary { match host "shop.test" path prefix "/shop" cookie canary "1"; timeout 1s; proxy web }
route v2 { match host "shop.test" path prefix "/shop" query v "2 beta" header X-Beta; timeout 1s; proxy web }
route admin { match host "shop.test" path prefix "/admin"; ip allow "10.0.0.0/8", "2001:db8::/32"; ip deny "10.66.0.0/16"; timeout 1s; proxy web }
`

function irOf(text: string): BundleIR {
  const r = compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
  assert.ok(r.ir, r.diagnostics.map(d => d.message).join('\n'))
  return r.ir
}

const ask = (line: string, headers: string[] = []): ExplainRequest => {
  const r = parseExplainRequest(line, headers)
  assert.ok(typeof r !== 'string', String(r))
  return r
}

test('gwc explain: which query/cookie condition failed and why, and precedence by condition count', () => {
  const ir = irOf(POLICY)
  let e = explainRequest(ir, ask('GET http://shop.test/shop/x?v=2%zz', ['Cookie: canary=0', 'Cookie: canary=1', 'X-Beta: y']))
  assert.equal(e.outcome.route, 'stable')
  const why = Object.fromEntries(e.candidates.map(c => [c.route, c.reasons.map(x => x.reason).join('; ')]))
  assert.equal(why.canary, 'cookie `canary` is `0`, not `1`', 'two Cookie lines are one list, joined with `; `: the first decides')
  assert.equal(why.v2, 'query parameter `v` has an invalid percent escape, so it equals nothing')
  e = explainRequest(ir, ask('GET http://shop.test/shop/x?v=2+beta', ['X-Beta: y', 'Cookie: canary=1']))
  assert.equal(e.outcome.route, 'v2')
  assert.equal(e.candidates.find(c => c.route === 'canary')?.lostOn, 'conditions: 2 conditions on header `x-beta` and query parameter `v` beats a condition on cookie `canary`')
  e = explainRequest(ir, ask('GET http://shop.test/shop/x'))
  assert.equal(Object.fromEntries(e.candidates.map(c => [c.route, c.reasons[0]?.reason]))['canary'], 'cookie `canary` is missing')
  e = explainRequest(ir, ask('GET http://shop.test/admin'))
  const text = renderExplainText(e)
  assert.match(text, /ip allow: only clients in 10\.0\.0\.0\/8, 2001:db8::\/32 pass; any other client → 403/)
  assert.match(text, /ip deny: clients in 10\.66\.0\.0\/16 → 403/)
})

test('gwc routes and gwc diff show the conditions and the lists', () => {
  const ir = irOf(POLICY)
  const by = Object.fromEntries(ir.routes.map(r => [r.name, r]))
  assert.equal(describeMatch(by.canary.match), 'shop.test /shop/… [cookie canary=1]')
  assert.equal(describeMatch(by.v2.match), 'shop.test /shop/… [x-beta] [?v=2 beta]')
  assert.deepEqual(by.admin.stages.map(describeStage), ['ip allow 10.0.0.0/8, 2001:db8::/32', 'ip deny 10.66.0.0/16'])
  const next = irOf(POLICY.replace('cookie canary "1"', 'cookie canary "2"').replace('"2001:db8::/32"', '"2001:db8::/48"').replace('query v "2 beta"', 'query w'))
  const text = renderDiffText(diffIr(ir, next))
  assert.match(text, /match\.cookie +canary=1 → canary=2/)
  assert.match(text, /match\.query +v=2 beta → w \(present\)/)
  assert.match(text, /ip allow 10\.0\.0\.0\/8, 2001:db8::\/48: entries .*\(\+2001:db8::\/48 -2001:db8::\/32\)/)
})

test('gwc fmt keeps the conditions and lists, quoting names that are not words', () => {
  const src = 'upstream web { replicas 10.0.0.1:80 }\nroute r {   match path "/x"   cookie "__Host-sid"  query  v    "1"\n ip allow "10.0.0.1/8" ,"::1"\n timeout 1s; proxy web }\n'
  const out = formatSource(src, 'f.gwp')
  assert.ok(out.formatted !== undefined, JSON.stringify(out))
  assert.match(out.formatted!, /  match path "\/x" query v "1" cookie "__Host-sid"\n  ip allow "10\.0\.0\.1\/8", "::1"\n/)
})

test('gwc test runs the example suite: a cookie canary, a preview query and an allow-listed admin route', () => {
  const r = gwc('test', 'examples/canary-admin.gwp', '--spec', 'examples/canary-admin.test.yaml', '--fail-under', '100')
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /8 passed, 0 failed; routes covered 4\/4 \(100%\)/)
})
