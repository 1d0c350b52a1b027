// Issue 14 (mutation target, area policies): policies/rewrite/regex.ts at the edges its first mutation run left
// open. A repeated group with neither a quantifier nor an alternative inside is accepted (only those two make
// backtracking blow up); `\xHH` is the only escape followed by two hex digits that is accepted, so an unknown
// escape stays unknown whatever follows it; a malformed repetition is reported where its `{` is, even when a
// well-formed one follows later in the pattern.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkRegex } from '../../policies/rewrite/regex.js'

const ESCAPE_HINT = 'escape only special characters (`\\.` `\\/` `\\(` …); use `\\d` `\\w` `\\s` for classes'
const MALFORMED = ['a malformed repetition', 'write `{n}`, `{n,}` or `{n,m}`, or escape a literal brace as `\\{`'] as const

test('a repeated group of plain atoms is accepted, with its group counted', () => {
  for (const [p, groups] of [['(ab)+', 1], ['^/(ab)*$', 1], ['(?:ab){2,3}', 0], ['([a-z]\\d)+', 1], ['(a)(bc)+', 2]] as const) {
    assert.deepEqual(checkRegex(p), { groups }, p)
  }
})

test('an unknown escape followed by two hex digits is still an unknown escape (only \\x takes them)', () => {
  for (const p of ['\\q41', '\\gff', '\\z00']) {
    assert.deepEqual(checkRegex(p), { at: 0, len: 2, message: `unknown escape \`\\${p[1]}\``, hint: ESCAPE_HINT, refused: false }, p)
  }
  assert.deepEqual(checkRegex('\\x41'), { groups: 0 })
})

test('a malformed repetition is reported at its own brace, even when a well-formed one follows', () => {
  for (const [p, at] of [['a{x}{2}', 1], ['a{,2}b{3}', 1], ['ab{1,x}c{2}', 2]] as const) {
    assert.deepEqual(checkRegex(p), { at, len: 1, message: MALFORMED[0], hint: MALFORMED[1], refused: false }, p)
  }
})
