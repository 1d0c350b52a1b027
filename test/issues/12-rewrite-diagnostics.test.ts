// Issue 12 item 1 / issue 14 item 2: what `rewrite regex` tells its user about a pattern or a replacement it does
// not take. 12-rewrite-compile pins where each problem is and whether it is refused; this pins the whole problem
// (position, length of the underline, message, hint) for every way the subset checker (policies/rewrite/regex.ts)
// and the replacement reader (policies/rewrite/template.ts) can say no, and the flags that pick between two
// messages (a repeated group that both repeats and branches inside is reported as nested quantifiers, however
// deep the group sits). These are the texts a user reads in the E-code diagnostic.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { checkRegex, isProblem } from '../../policies/rewrite/regex.js'
import { isTemplateProblem, readTemplate } from '../../policies/rewrite/template.js'

const NESTED = ['a repeated group repeats inside (nested quantifiers)', 'nested quantifiers backtrack exponentially; repeat one thing, e.g. `[a-z0-9]+` instead of `([a-z]+[0-9]*)+`'] as const
const BRANCHES = ['a repeated group has alternatives inside', 'alternatives under a repetition can backtrack exponentially; use a character class, e.g. `[ab]+` instead of `(a|b)+`'] as const
const LOOK = ['lookaround is not supported', 'match the text itself, or match more of the path and capture the part you need'] as const
const NAMED = ['named and flagged groups are not supported', 'use a plain group `( … )` and refer to it as `$1`'] as const
const NOTHING = 'put it after a character, class or group, or escape it'
const TWICE = 'a quantifier cannot follow a quantifier'
const BACKREF = ['backreferences are not supported', 'backreferences make matching exponential; match the text itself'] as const
const ESCAPE_HINT = 'escape only special characters (`\\.` `\\/` `\\(` …); use `\\d` `\\w` `\\s` for classes'
const MALFORMED = ['a malformed repetition', 'write `{n}`, `{n,}` or `{n,m}`, or escape a literal brace as `\\{`'] as const
const ABOVE = ['a repetition bound above 1000', 'keep bounds at most 1000, or use `+`'] as const
const ANCHOR = ['an anchor cannot be repeated', 'remove the quantifier'] as const
const CONTROL = ['the pattern contains a control character', 'write `\\n`, `\\t` … instead'] as const
const EMPTY_CLASS = ['an empty character class', 'list at least one character, e.g. `[a-z]`'] as const

test('every refusal of the regex subset: position, underline, message, hint and whether it is refused as catastrophic', () => {
  const cases: [string, number, number, string, string, boolean][] = [
    ['^(a+)+$', 1, 5, ...NESTED, true],
    ['^(a|aa)+$', 1, 7, ...BRANCHES, true],
    ['(a|b)*', 0, 6, ...BRANCHES, true],
    // both inside: the quantifier is named, whichever branch holds it, however deep the group is
    ['(b|a+)+', 0, 7, ...NESTED, true],
    ['((a+))+', 0, 7, ...NESTED, true],
    ['((a|b))+', 0, 8, ...BRANCHES, true],
    ['(x(a|b)y)+', 0, 10, ...BRANCHES, true],
    ['(x(a|b)?y)+', 0, 11, ...NESTED, true],
    ['(a+){2}', 0, 7, ...NESTED, true],
    ['^(?=a)b', 1, 3, ...LOOK, true],
    ['^(?!a)b', 1, 3, ...LOOK, true],
    ['(?<=a)b', 0, 4, ...LOOK, true],
    ['(?<!a)b', 0, 4, ...LOOK, true],
    ['(?<name>x)', 0, 2, ...NAMED, false],
    ['(?i)x', 0, 2, ...NAMED, false],
    ['(?', 0, 2, ...NAMED, false],
    ['^/u/([0-9]+$', 4, 1, 'unclosed group', 'add the missing `)`', false],
    ['(?:a', 0, 1, 'unclosed group', 'add the missing `)`', false],
    ['a)', 1, 1, 'unmatched `)`', 'remove it, or escape it as `\\)`', false],
    ['(a))', 3, 1, 'unmatched `)`', 'remove it, or escape it as `\\)`', false],
    ['*a', 0, 1, '`*` has nothing to repeat', NOTHING, false],
    ['+a', 0, 1, '`+` has nothing to repeat', NOTHING, false],
    ['?a', 0, 1, '`?` has nothing to repeat', NOTHING, false],
    ['a|*', 2, 1, '`*` has nothing to repeat', NOTHING, false],
    ['{1}', 0, 1, '`{` has nothing to repeat', 'escape a literal brace as `\\{`', false],
    ['a}', 1, 1, 'unmatched `}`', 'escape it as `\\}`', false],
    ['a]', 1, 1, 'unmatched `]`', 'escape it as `\\]`', false],
    ['a\\', 1, 1, 'the pattern ends with `\\`', 'escape a literal backslash as `\\\\`', false],
    ['[a\\', 2, 1, 'the pattern ends with `\\`', 'escape a literal backslash as `\\\\`', false],
    ['\\1', 0, 2, ...BACKREF, true],
    ['(a)\\9', 3, 2, ...BACKREF, true],
    ['\\k<n>', 0, 2, ...BACKREF, true],
    ['\\q', 0, 2, 'unknown escape `\\q`', ESCAPE_HINT, false],
    ['\\0', 0, 2, 'unknown escape `\\0`', ESCAPE_HINT, false],
    ['[\\b]', 1, 2, 'unknown escape `\\b`', ESCAPE_HINT, false],
    ['[\\B]', 1, 2, 'unknown escape `\\B`', ESCAPE_HINT, false],
    ['\\x4g', 0, 2, 'unknown escape `\\x`', ESCAPE_HINT, false],
    ['\\x4', 0, 2, 'unknown escape `\\x`', ESCAPE_HINT, false],
    ['[a[]', 2, 1, 'a `[` inside a class', 'escape it as `\\[`', false],
    ['[abc', 0, 1, 'unclosed character class', 'add the missing `]`', false],
    ['[^abc', 0, 1, 'unclosed character class', 'add the missing `]`', false],
    ['[]', 0, 2, ...EMPTY_CLASS, false],
    ['x[^]', 1, 3, ...EMPTY_CLASS, false],
    ['a{', 1, 1, ...MALFORMED, false],
    ['a{x}', 1, 1, ...MALFORMED, false],
    ['a{12345}', 1, 1, ...MALFORMED, false],
    ['a{1,23456}', 1, 1, ...MALFORMED, false],
    ['a{2,1}', 1, 5, 'the repetition\'s bounds are reversed (2 > 1)', 'write the smaller bound first', false],
    ['a{1001}', 1, 6, ...ABOVE, false],
    ['a{1001,}', 1, 7, ...ABOVE, false],
    ['a{1,1001}', 1, 8, ...ABOVE, false],
    ['^*', 1, 1, ...ANCHOR, false],
    ['$+', 1, 1, ...ANCHOR, false],
    ['x^?', 2, 1, ...ANCHOR, false],
    ['^{2}', 1, 3, ...ANCHOR, false],
    ['a**', 2, 1, '`*` has nothing to repeat', TWICE, false],
    ['a++', 2, 1, '`+` has nothing to repeat', TWICE, false],
    ['a?+', 2, 1, '`+` has nothing to repeat', TWICE, false],
    ['a+?+', 3, 1, '`+` has nothing to repeat', TWICE, false],
    ['a*??', 3, 1, '`?` has nothing to repeat', TWICE, false],
    ['a{2}{3}', 4, 1, '`{` has nothing to repeat', TWICE, false],
    ['', 0, 1, 'the pattern is empty', 'write a pattern, e.g. `^/users/([0-9]+)$`', false],
    ['a\nb', 1, 1, ...CONTROL, false],
    ['ab\x00', 2, 1, ...CONTROL, false],
    ['\x1f', 0, 1, ...CONTROL, false],
    ['a\x7f', 1, 1, ...CONTROL, false],
  ]
  for (const [p, at, len, message, hint, refused] of cases) {
    assert.deepEqual(checkRegex(p), { at, len, message, hint, refused }, JSON.stringify(p))
  }
  // what the subset lets through but JavaScript refuses is reported whole, with JavaScript's reason
  const js = checkRegex('[z-a]')
  assert.ok(isProblem(js))
  assert.deepEqual({ ...js, message: js.message.replace(/: .*$/s, ': …') }, { at: 0, len: 5, message: 'not a valid pattern: …', hint: 'see the subset in docs/language.md', refused: false })
  assert.match(js.message, /^not a valid pattern: .*Range out of order/)
})

test('what the subset accepts: escapes of every kind, anchors, lazy and bounded repetitions, and their group counts', () => {
  for (const [p, groups] of [
    ['\\bx\\B', 0], ['[\\d\\D\\w\\W\\s\\S\\n\\r\\t\\f\\v\\.\\]\\-]', 0], ['\\x41\\xfF', 0], ['\\.\\+\\*\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\/\\-\\\\', 0],
    ['\\n\\r\\t\\f\\v\\d\\D\\w\\W\\s\\S', 0], ['a{1000}', 0], ['a{0,1000}', 0], ['a{3,}', 0], ['a*?b+?c??d{2}?', 0], ['[^/]+', 0],
    ['(a+)?', 1], ['(a|b)?', 1], ['(a+){1}', 1], ['(a|b){0,1}', 1], ['(?:(a)|(b))c', 2], ['((a)(b))', 3], ['(x)(x)(x)(x)(x)(x)(x)(x)(x)(x)', 10],
    ['^$', 0], ['a|', 0], ['|', 0], ['()', 1],
  ] as const) {
    assert.deepEqual(checkRegex(p), { groups }, p)
  }
})

test('every refusal of a replacement: position, underline, message and hint (the hint counts the pattern\'s groups)', () => {
  const START = ['the replacement does not start with `/`', 'a rewritten path starts with `/`, e.g. `"/u/$1"`'] as const
  const DOLLAR = ['a `$` that is not a group reference', 'refer to a group as `$1`…`$9`; write a literal `$` as `$$`'] as const
  const CHAR = ['the replacement has a character a path cannot hold as is', 'percent-encode it (`%20` for a space, upper-case hex); `?` and `#` cannot appear in a path'] as const
  const cases: [string, number, number, number, string, string][] = [
    ['u/$1', 1, 0, 1, ...START],
    ['', 0, 0, 1, ...START],
    ['/u/$3', 0, 3, 2, 'the pattern has no group 3', 'put the part to keep in `( … )`'],
    ['/u/$3', 1, 3, 2, 'the pattern has no group 3', 'the pattern has 1 group'],
    ['/u/$3', 2, 3, 2, 'the pattern has no group 3', 'the pattern has 2 groups'],
    ['/$1$2', 1, 3, 2, 'the pattern has no group 2', 'the pattern has 1 group'],
    ['/u/$', 2, 3, 1, ...DOLLAR],
    ['/u/$a', 2, 3, 1, ...DOLLAR],
    ['/$0', 2, 1, 1, ...DOLLAR],
    ['/a b', 2, 2, 1, ...CHAR],
    ['/a?b', 2, 2, 1, ...CHAR],
    ['/a#b', 2, 2, 1, ...CHAR],
    ['/x/$1/a b', 1, 7, 1, ...CHAR],
    ['/x/$1/$2 ', 2, 8, 1, ...CHAR],
  ]
  for (const [t, groups, at, len, message, hint] of cases) {
    assert.deepEqual(readTemplate(t, groups), { at, len, message, hint }, `${t} (${groups} groups)`)
  }
  // a `%` is an escape only with two upper-case hex digits after it (where the problem is reported is not pinned:
  // today the start of the literal part that holds it)
  for (const t of ['/%A', '/%2', '/x%4/', '/%2f', '/a%']) {
    const r = readTemplate(t, 0)
    assert.ok(isTemplateProblem(r), t)
    assert.deepEqual([r.len, r.message, r.hint], [1, ...CHAR], t)
  }
  for (const [t, groups, lits, refs] of [
    ['/u/$1', 1, ['/u/', ''], [1]], ['/$1$2', 2, ['/', '', ''], [1, 2]], ['/a$$', 0, ['/a$'], []], ['/$$$1$$', 1, ['/$', '$'], [1]],
    ['/$9x', 9, ['/', 'x'], [9]], ['/%2F%41/~', 0, ['/%2F%41/~'], []],
  ] as const) {
    assert.deepEqual(readTemplate(t, groups), { lits, refs }, t)
  }
})
