// Path normalisation: what the gateway matches and forwards. A request path that normalises to a path can only
// reach routes that match that path; anything ambiguous is refused.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizePath } from '../../config/path.js'

test('plain paths are returned unchanged (the fast path)', () => {
  for (const p of ['/', '/a', '/v1/payments/42', '/a-b_c~d.e', '/a:b@c', '/x%20y']) assert.equal(normalizePath(p), p)
})

test('dot segments and repeated slashes are removed; `..` never climbs above the root', () => {
  const cases: [string, string][] = [
    ['/public/../admin', '/admin'], ['/a/./b', '/a/b'], ['/a//b', '/a/b'], ['//a', '/a'], ['/a/b/..', '/a/'],
    ['/a/.', '/a/'], ['/../../etc/passwd', '/etc/passwd'], ['/a/b/../../..', '/'], ['/a/', '/a/'], ['/a//', '/a/'],
  ]
  for (const [input, want] of cases) assert.equal(normalizePath(input), want, input)
})

test('escaped unreserved characters are decoded (so encoded dots are dot segments), others upper-cased', () => {
  assert.equal(normalizePath('/%7euser'), '/~user')
  assert.equal(normalizePath('/public/%2e%2e/admin'), '/admin')
  assert.equal(normalizePath('/public/%2E%2E/admin'), '/admin')
  assert.equal(normalizePath('/a/%2e/b'), '/a/b')
  assert.equal(normalizePath('/%41%62'), '/Ab')
  assert.equal(normalizePath('/a%3fb'), '/a%3Fb')
  assert.equal(normalizePath('/caf%c3%a9'), '/caf%C3%A9')
})

test('ambiguous paths are refused: encoded slash, backslash or NUL, raw backslash, bad escapes, relative', () => {
  for (const p of ['/a%2fb', '/a%2Fb', '/a%5cb', '/a\\b', '/a%00', '/a%zz', '/a%4', 'a/b', '', '*']) assert.equal(normalizePath(p), null, p)
})
