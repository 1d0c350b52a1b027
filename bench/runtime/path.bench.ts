// bench/runtime/path.bench.ts: config/path.ts normalizePath, run on every request before routing — the fast
// path (one regex test, the input returned as-is) against paths that need work: dot segments, repeated
// slashes, percent-escapes, and a refused one.
// Run: npm run build && node --expose-gc dist/bench/runtime/path.bench.js [--time MS] [--filter TEXT]
import assert from 'node:assert/strict'
import { normalizePath } from '../../config/path.js'
import { createSuite } from './kit/suite.js'

const CASES: [name: string, input: string, expected: string | null, note: string][] = [
  ['fast path /v1/orders/lookup/1042', '/v1/orders/lookup/1042', '/v1/orders/lookup/1042', 'nothing: one regex test, the input returned'],
  ['fast path, long (120 chars)', '/v1/catalog/items/' + 'abcdefghij'.repeat(10) + '/x', '/v1/catalog/items/' + 'abcdefghij'.repeat(10) + '/x', 'nothing: the regex scans the whole string'],
  ['dot segments /v1/./orders/../orders/lookup', '/v1/./orders/../orders/lookup', '/v1/orders/lookup', 'a char-by-char copy, split() array, segment array, join'],
  ['repeated slashes //v1//orders///lookup', '//v1//orders///lookup', '/v1/orders/lookup', 'same as dot segments: copy, split, join'],
  ['escapes /v1/users/%7Ejohn/caf%c3%a9', '/v1/users/%7Ejohn/caf%c3%a9', '/v1/users/~john/caf%C3%A9', 'per escape: slice, regex test, fromCharCode string; then split/join'],
  ['refused: encoded slash /a/%2F/b', '/a/%2F/b', null, 'the partial copy up to the escape, then null'],
]

const suite = createSuite(import.meta.url, 'normalizePath (config/path.ts)')
for (const [name, input, expected, note] of CASES) {
  assert.equal(normalizePath(input), expected, name) // a case that normalises wrongly would time the wrong work
  suite.add(name, note, () => normalizePath(input))
}
await suite.run()
