// Issue 12 items 1 and 2, the compile side: the regex subset (what is accepted, what is refused and where),
// replacements, the YAML front end (same statements as .gwp), gwc fmt round trips, gwc diff, and the
// Location builder's escaping (config/location.ts) on hostile input.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkRegex, isProblem } from '../../policies/rewrite/regex.js'
import { readTemplate, isTemplateProblem } from '../../policies/rewrite/template.js'
import { convertYaml } from '../../compiler/tools/convert.js'
import { formatSource } from '../../compiler/tools/fmt.js'
import { diffIr, renderDiffText } from '../../compiler/tools/diff.js'
import { bundleFrom } from '../helpers/gateway.js'
import { buildLocation, locationPath, locationQuery } from '../../config/location.js'

test('the regex subset: accepted patterns and their group counts', () => {
  for (const [p, groups] of [
    ['^/users/([0-9]+)$', 1], ['^/a/(?:b|c)/([^/]+)/(\\d{1,4})$', 2], ['^/f/([a-z_-]+)\\.(json|xml)$', 2],
    ['^/x/(.*)$', 1], ['^/(a)?(b)?$', 2], ['\\bword\\b', 0], ['^/(/[a-z]+)?$', 1], ['a{2,}b*?', 0], ['[\\]\\[]', 0], ['\\x41', 0],
  ] as const) {
    const r = checkRegex(p)
    assert.ok(!isProblem(r), `${p}: ${isProblem(r) ? r.message : ''}`)
    assert.equal((r as { groups: number }).groups, groups, p)
  }
})

test('the regex subset: refused (catastrophic or not RE2) and malformed patterns, with their position', () => {
  for (const [p, at, refused] of [
    ['^(a+)+$', 1, true], ['^(a*)*$', 1, true], ['^([a-z]+[0-9]*){2,}$', 1, true], ['^(a|aa)+$', 1, true],
    ['^(\\w+)/\\1$', 7, true], ['^(?=a)b', 1, true], ['^(?!a)b', 1, true], ['(?<=a)b', 0, true], ['(?<!a)b', 0, true], ['\\k<n>', 0, true],
    ['^/u/([0-9]+$', 4, false], ['a)', 1, false], ['*a', 0, false], ['a**', 2, false], ['[abc', 0, false], ['[]', 0, false],
    ['a{2,1}', 1, false], ['a{1001}', 1, false], ['\\q', 0, false], ['(?<name>x)', 0, false], ['^*', 1, false], ['a{', 1, false], ['', 0, false], ['a\nb', 1, false],
  ] as const) {
    const r = checkRegex(p)
    assert.ok(isProblem(r), `${JSON.stringify(p)} accepted`)
    assert.equal(r.at, at, `${JSON.stringify(p)}: ${r.message}`)
    assert.equal(r.refused, refused, `${JSON.stringify(p)}: ${r.message}`)
  }
  // every accepted pattern is a JavaScript pattern too, and the nested-quantifier refusal is what keeps the
  // classic exponential case out: (a+)+$ against 'aaaa…!' would take seconds
  assert.ok(isProblem(checkRegex('(a+)+$')))
})

test('replacements: group references, $$, and what a path cannot hold', () => {
  assert.deepEqual(readTemplate('/u/$1/x$2', 2), { lits: ['/u/', '/x', ''], refs: [1, 2] })
  assert.deepEqual(readTemplate('/a$$b', 0), { lits: ['/a$b'], refs: [] })
  for (const [t, at] of [['u/$1', 0], ['/u/$3', 3], ['/u/$', 3], ['/u/$a', 3], ['/a b', 2], ['/a?b', 2], ['/a#b', 2]] as const) {
    const r = readTemplate(t, 2)
    assert.ok(isTemplateProblem(r), t)
    assert.equal(r.at, at, `${t}: ${r.message}`)
  }
})

test('YAML rewrite, redirect_https and respond.redirect read as the same statements as .gwp', () => {
  const yaml = `
upstreams:
  users: { replicas: ["127.0.0.1:9001"] }
routes:
  - name: api
    match: { path: /api }
    upstream: users
    timeout: 1s
    redirect_https: true
    rewrite: { strip: /api, host: replica }
  - name: v1
    match: { path: /legacy/v1 }
    upstream: users
    timeout: 1s
    rewrite: { prefix: { from: /legacy/v1, to: /v1 }, host: "users.internal" }
  - name: ids
    match: { path: /users }
    upstream: users
    timeout: 1s
    rewrite: { regex: { pattern: "^/users/([0-9]+)$", replacement: /u/$1 } }
  - name: moved
    match: { host: old.example.com }
    timeout: 1s
    respond: { status: 301, redirect: "https://new.example.com{path}?{query}" }
`
  const r = convertYaml(yaml, 'r.yaml')
  assert.deepEqual(r.diagnostics, [])
  for (const line of ['redirect https', 'rewrite strip "/api"', 'rewrite host replica', 'rewrite prefix "/legacy/v1" "/v1"', 'rewrite host "users.internal"',
    'rewrite regex "^/users/([0-9]+)$" "/u/$1"', 'respond redirect 301 "https://new.example.com{path}?{query}"']) {
    assert.ok(r.gwp!.includes(line), `${line} missing from:\n${r.gwp}`)
  }
  const bad = convertYaml('routes:\n  - match: { path: /a }\n    timeout: 1s\n    upstream: u\n    rewrite: { strip: /a, regex: { pattern: x, replacement: /y } }\nupstreams:\n  u: { replicas: ["127.0.0.1:1"] }\n', 'b.yaml')
  assert.deepEqual(bad.diagnostics.map(d => d.code), ['E0102'])
})

test('gwc fmt prints rewrite and redirect statements canonically and reads them back', () => {
  const src = 'route a {\n  match path prefix "/api"\n  timeout 1s\n  redirect   https   301\n  rewrite   regex "^/api/(\\\\d+)$"    "/n/$1"\n  rewrite host   "x.internal"\n  respond redirect 302    "/b?{query}"\n}\n'
  const r = formatSource(src, 'a.gwp')
  assert.deepEqual(r.diagnostics, [])
  assert.equal(r.formatted, 'route a {\n  match path prefix "/api"\n  timeout 1s\n  redirect https 301\n  rewrite regex "^/api/(\\\\d+)$" "/n/$1"\n  rewrite host "x.internal"\n  respond redirect 302 "/b?{query}"\n}\n')
})

test('gwc diff names a changed rewrite and a changed redirect target', () => {
  const base = (strip: string, target: string) => bundleFrom(`
upstream u { replicas 127.0.0.1:1 }
route a { match path prefix "/api"; timeout 1s; rewrite strip "${strip}"; proxy u }
route b { match path "/b"; timeout 1s; respond redirect 301 "${target}" }
`).manifest.ir
  const text = renderDiffText(diffIr(base('/api', '/x'), base('/api/v1', '/y?{query}')))
  assert.match(text, /rewrite strip \/api → rewrite strip \/api\/v1/)
  assert.match(text, /respond\.redirect.*\/x → \/y\?\{query\}/)
})

test('Location parts: the path and query are escaped, a leading // is collapsed, the host is never request-chosen', () => {
  assert.equal(locationPath('/a/b'), '/a/b')
  assert.equal(locationPath('//evil.example/x'), '/evil.example/x')
  assert.equal(locationPath('/a b/"c"\r\n'), '/a%20b/%22c%22%0D%0A')
  assert.equal(locationPath('/caf\u00e9/\u20ac/\u{1F600}/\ud800'), '/caf%E9/%E2%82%AC/%F0%9F%98%80/%EF%BF%BD')
  assert.equal(locationQuery('a=1&b=%2F'), 'a=1&b=%2F')
  assert.equal(locationQuery('a=\r\nSet-Cookie: x&b=%zz'), 'a=%0D%0ASet-Cookie:%20x&b=%25zz')
  const parts = [{ text: 'https://' }, { part: 'host' as const }, { part: 'path' as const }, { part: 'query' as const, lead: '?' }]
  assert.equal(buildLocation(parts, 'a.example', '/p', ''), 'https://a.example/p')
  assert.equal(buildLocation(parts, 'a.example', '/p', '?'), 'https://a.example/p')
  assert.equal(buildLocation(parts, 'a.example', '/p', '?q=1'), 'https://a.example/p?q=1')
  assert.equal(buildLocation(parts, '', '/p', ''), null)
  for (const path of ['//evil.example', '/\\evil.example', '/%2F%2Fevil.example', '/@evil.example']) {
    const l = buildLocation(parts, 'a.example', path, '')!
    assert.equal(new URL(l).host, 'a.example', `${path} → ${l}`)
    assert.ok(!/[\r\n ]/.test(l))
  }
})
